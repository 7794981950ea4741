"""Checkpointed projections in one process: inline runs, failures, store identity, rebuild,
status, the admin page and the testing helper (memory store, SQLite view).

The data is the test ledger's (tests/eventstore/ledger.py) and the view is its
``ledger.balances`` projection (tests/eventstore/ledger_projection.py); the demo
site's read model has its own tests in tests/payments/test_projection.py.
"""

import io
import json

import pytest
from django.contrib.auth.models import Permission
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from eventstore.backends import memory
from eventstore.backends.database import DatabaseEventStore
from eventstore.handler import eventstores
from eventstore.models import Checkpoint
from eventstore.projections import (
    ProjectionError,
    StoreIdentityMismatch,
    catch_up,
    get_projection,
    rebuild,
    runner,
)
from tests.projection_fixtures import AppliedLog, create_table, logged

from . import ledger_projection
from .ledger import Account, accounts, save
from .ledger_projection import TABLE, balances, row_of

pytestmark = pytest.mark.django_db

BALANCES = ledger_projection.AccountBalances.name  # "ledger.balances"
BOTH = [ledger_projection.PATH, "tests.projection_fixtures.AppliedLog"]
BOTH_NAMES = [BALANCES, AppliedLog.name]


@pytest.fixture(autouse=True)
def ledger_view(db, settings):
    """Only the ledger's view is declared (the registry follows the setting); its table is empty."""
    settings.EVENTSTORE_PROJECTIONS = [ledger_projection.PATH]
    ledger_projection.create_table()


@pytest.fixture
def both(settings, event_store):
    settings.EVENTSTORE_PROJECTIONS = BOTH
    create_table()
    AppliedLog.fail_on = set()
    yield event_store
    AppliedLog.fail_on = set()


def open_account(account_id, owner="ann"):
    """Open ``account_id`` in the default store: one ``ledger.AccountOpened`` event."""
    account = Account(account_id)
    account.open(owner, "EUR")
    return save(eventstores["default"], account, username=owner, organization_id="acme")


def deposit(account_id, amount):
    account = accounts(eventstores["default"]).get(account_id)
    account.deposit(amount)
    return save(eventstores["default"], account, username="ann", organization_id="acme")


def checkpoint(name):
    return Checkpoint.objects.get(name=name)


def test_inline_projection_fills_the_view_and_moves_the_checkpoint(event_store):
    open_account("a-1")
    open_account("a-2")
    deposit("a-1", "4.00")
    assert balances() == [("a-1", 1), ("a-2", 2)]
    assert row_of("a-1") == {
        "account_id": "a-1",
        "owner": "ann",
        "currency": "EUR",
        "balance": "4.00",
        "version": 2,
        "opened_position": 1,
    }
    row = checkpoint(BALANCES)
    assert (row.position, row.status, row.store_identity) == (
        3,
        "caught_up",
        event_store.identity(),
    )


@pytest.mark.eventstore_lenient  # the failure is the subject: it must stall, visibly
def test_a_failing_event_stalls_only_its_projection_and_is_never_skipped(both, settings):
    settings.EVENTSTORE_PROJECTIONS_RAISE = False
    AppliedLog.fail_on = {"bad"}
    open_account("a-1")  # position 1
    open_account("bad")  # position 2: the log projection refuses it
    bad = both.read_all(after_position=1, limit=1)[0]
    open_account("a-3")  # position 3: retried from the checkpoint, still stops before 2
    log = checkpoint("tests.applied_log")
    assert (log.position, log.status) == (1, "stalled")
    assert (log.error_event_id, log.error_position) == (bad.event_id, 2)
    assert "RuntimeError: refusing bad" in log.error_text
    assert log.failures == 2
    assert logged() == [1]
    assert checkpoint(BALANCES).status == "caught_up"
    assert balances() == [("a-1", 1), ("a-3", 3), ("bad", 2)]

    out = io.StringIO()
    call_command("eventstore_projections", "status", "--json", stdout=out)
    rows = {row["name"]: row for row in json.loads(out.getvalue())}
    assert rows["tests.applied_log"]["status"] == "stalled"
    assert rows["tests.applied_log"]["error"]["event_id"] == str(bad.event_id)
    assert rows["tests.applied_log"]["lag_events"] == 2
    assert rows[BALANCES]["status"] == "caught_up"
    assert rows[BALANCES]["lag_events"] == 0

    AppliedLog.fail_on = set()  # the fix
    result = catch_up(get_projection("tests.applied_log"))
    assert (result.status, result.position, result.applied) == ("caught_up", 3, 2)
    assert logged() == [e.position for e in both.read_all()] == [1, 2, 3]
    log = checkpoint("tests.applied_log")
    assert (log.status, log.error_event_id, log.error_text, log.failures) == (
        "caught_up",
        None,
        "",
        0,
    )


class Crash(Exception):
    """The process dies after a batch is applied, before its checkpoint commits."""


def test_a_batch_and_its_checkpoint_commit_together_or_not_at_all(both, settings, monkeypatch):
    settings.EVENTSTORE_PROJECTIONS_INLINE = False
    for number in range(3):
        open_account(f"a-{number}")
    real_save = runner._save

    def crash_when_moving(checkpoint, old_position, **fields):
        if fields.get("position", 0) > 0:
            raise Crash
        return real_save(checkpoint, old_position, **fields)

    monkeypatch.setattr(runner, "_save", crash_when_moving)
    for name in BOTH_NAMES:
        with pytest.raises(Crash):
            catch_up(get_projection(name))
    assert logged() == []  # the applied batch went with the checkpoint it never moved
    assert balances() == []
    assert not Checkpoint.objects.filter(position__gt=0).exists()

    monkeypatch.setattr(runner, "_save", real_save)
    for name in BOTH_NAMES:
        assert catch_up(get_projection(name)).position == 3
    assert logged() == [1, 2, 3]  # each event exactly once
    assert balances() == [("a-0", 1), ("a-1", 2), ("a-2", 3)]


def test_the_raise_switch_makes_a_failing_projection_raise(both):
    AppliedLog.fail_on = {"bad"}
    with pytest.raises(ProjectionError, match="failed on event .* \\(position 1\\)"):
        open_account("bad")
    assert both.last_position() == 1  # the append itself stands
    assert checkpoint("tests.applied_log").status == "stalled"


def restart_memory_store():
    """What a new process sees: the memory store is gone, the database (view) is kept."""
    memory.forget("default")
    eventstores.reset()
    return eventstores["default"]


def test_a_restarted_memory_store_with_a_kept_read_model_rebuilds_it(event_store):
    open_account("a-1")
    open_account("a-2")
    old_identity = event_store.identity()
    store = restart_memory_store()
    assert store.identity() != old_identity
    open_account("b-1")  # position 1 again: continuing the old rows would hit opened_position 1
    assert balances() == [("b-1", 1)]
    row = checkpoint(BALANCES)
    assert (row.position, row.store_identity, row.status) == (1, store.identity(), "caught_up")


def test_a_checkpoint_from_another_history_can_stop_instead(event_store, settings):
    settings.EVENTSTORE_PROJECTIONS_ON_NEW_STORE = "stop"
    open_account("a-1")
    restart_memory_store()
    with pytest.raises(StoreIdentityMismatch, match="eventstore_projections rebuild"):
        open_account("b-1")
    assert balances() == [("a-1", 1)]  # old rows untouched, nothing applied on top
    assert checkpoint(BALANCES).status == "stalled"
    call_command("eventstore_projections", "rebuild", BALANCES, verbosity=0)
    assert balances() == [("b-1", 1)]


def test_a_journaled_store_keeps_its_identity_across_restarts(tmp_path, settings):
    journal = tmp_path / "events.jsonl"
    memory.forget("default")
    settings.EVENTSTORES = {
        "default": {
            "BACKEND": "eventstore.backends.memory.InMemoryEventStore",
            "OPTIONS": {"JOURNAL": str(journal), "JOURNAL_FSYNC": False},
        }
    }
    try:
        open_account("a-1")
        identity = eventstores["default"].identity()
        assert (tmp_path / "events.jsonl.identity").read_text().strip() == identity
        restart_memory_store()
        assert eventstores["default"].identity() == identity
        open_account("a-2")  # continues the checkpoint: no rebuild
        assert balances() == [("a-1", 1), ("a-2", 2)]
        eventstores["default"].clear()
        assert eventstores["default"].identity() != identity
        assert (tmp_path / "events.jsonl.identity").read_text().strip() != identity
    finally:
        memory.forget("default")


def test_the_database_store_keeps_one_identity_until_cleared():
    store = DatabaseEventStore("identity-test")
    identity = store.identity()
    assert DatabaseEventStore("other-alias").identity() == identity == store.identity()
    store.clear()
    assert store.identity() != identity


def test_rebuild_while_writes_continue_ends_caught_up(event_store):
    for number in range(5):
        open_account(f"a-{number}")
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE {TABLE} SET owner = 'tampered' WHERE account_id = 'a-0'")  # noqa: S608
    seen = []

    def progress(position, target):
        seen.append((position, target))
        if len(seen) == 1:
            open_account("late")  # appended during the rebuild

    result = rebuild(get_projection(BALANCES), batch_size=2, progress=progress)
    assert seen == [(2, 5), (4, 5), (5, 5)]
    assert (result.status, result.position) == ("caught_up", 6)
    assert row_of("a-0")["owner"] == "ann"
    assert [account for account, _ in balances()] == ["a-0", "a-1", "a-2", "a-3", "a-4", "late"]


def test_rebuild_command_shows_a_progress_bar_and_refuses_unknown_names(event_store):
    open_account("a-1")
    out, err = io.StringIO(), io.StringIO()
    call_command("eventstore_projections", "rebuild", BALANCES, stdout=out, stderr=err)
    assert "caught up at position 1" in out.getvalue()
    assert "old view stays readable" in out.getvalue()
    assert "1/1" in err.getvalue()
    with pytest.raises(CommandError, match="No projection named 'nope'.*ledger.balances"):
        call_command("eventstore_projections", "rebuild", "nope")


def test_rebuild_command_refuses_an_empty_process_memory_store_behind_a_built_view(event_store):
    open_account("a-1")
    open_account("a-2")
    restart_memory_store()  # a command's process: the server's events are not here
    with pytest.raises(CommandError) as caught:
        call_command("eventstore_projections", "rebuild", BALANCES, stdout=io.StringIO())
    message = str(caught.value)
    assert message.startswith(
        f"Not rebuilding {BALANCES}: its checkpoint says it applied events up to position 2, "
        "but this process's memory store 'default' is empty"
    )
    assert "live in the process that serves them (the server)" in message
    assert "Rebuild there, or use the database backend" in message
    assert balances() == [("a-1", 1), ("a-2", 2)]  # the view is kept
    assert checkpoint(BALANCES).position == 2


def test_rebuild_command_on_an_empty_memory_store_with_an_empty_view_runs(event_store):
    call_command("eventstore_projections", "rebuild", BALANCES, stdout=io.StringIO(), verbosity=0)
    assert balances() == []
    assert checkpoint(BALANCES).position == 0


def test_status_command_text(event_store):
    open_account("a-1")
    out = io.StringIO()
    call_command("eventstore_projections", "status", stdout=out)
    lines = out.getvalue().splitlines()
    assert lines[1].split() == [BALANCES, "caught_up", "1", "1", "0", "0.0"]


def test_run_once_catches_up_a_projection_the_daemon_follows(event_store, settings):
    settings.EVENTSTORE_PROJECTIONS_INLINE = False
    open_account("a-1")
    open_account("a-2")
    assert balances() == []
    out = io.StringIO()
    call_command("eventstore_projections", "run", "--once", stdout=out)
    assert "ledger.balances: applied 2 events, position 2" in out.getvalue()
    assert balances() == [("a-1", 1), ("a-2", 2)]


def test_run_projection_fixture(event_store, settings, run_projection):
    settings.EVENTSTORE_PROJECTIONS_INLINE = False
    open_account("a-1")
    result = run_projection(BALANCES)
    assert (result.status, result.position, result.applied) == ("caught_up", 1, 1)
    assert balances() == [("a-1", 1)]


def test_the_admin_page_shows_the_status_table(client, django_user_model, event_store):
    open_account("a-1")
    user = django_user_model.objects.create_user("auditor", password="pw", is_staff=True)
    client.force_login(user)
    url = "/admin/eventstore/audittrail/projections/"
    assert client.get(url).status_code == 403
    user.user_permissions.add(Permission.objects.get(codename="view_audit_trail"))
    page = client.get(url).content.decode()
    assert BALANCES in page
    assert "caught_up" in page


def test_a_projection_handles_events_stored_under_a_former_name_of_its_types(event_store):
    from eventstore import DomainEvent, NewEvent, event, registry
    from eventstore.projections import Projection

    class Watching(Projection):
        name = "tests.watching"
        event_types = ["tests.Renamed"]

    @event
    class Original(DomainEvent, event_type="tests.Original"):
        note: str

    try:
        event_store.append("w-1", "Watched", [NewEvent("tests.Original", {"note": "old"})], 0)
    finally:
        registry.unregister("tests.Original")  # the deploy that renamed the class
    (old,) = event_store.read_aggregate("w-1")
    watching = Watching()
    assert old.event_type == "tests.Original"
    assert not watching.handles(old)

    @event
    class Renamed(DomainEvent, event_type="tests.Renamed", aliases=["tests.Original"]):
        note: str

    try:
        assert watching.handles(old)
        assert old.to_event() == Renamed(note="old")
    finally:
        registry.unregister("tests.Renamed")


@pytest.mark.eventstore_lenient  # the failure is reported; the subject is that append stands
def test_a_view_out_of_reach_never_turns_a_stored_append_into_an_error(both, settings, monkeypatch):
    from django.db import OperationalError

    from eventstore.projections import runner

    settings.EVENTSTORE_PROJECTIONS_RAISE = False  # as in production

    def locked(*args, **kwargs):
        raise OperationalError("database is locked")

    monkeypatch.setattr(runner, "_lock_checkpoint", locked)
    open_account("a-1")  # returns: no OperationalError out of append
    assert both.aggregate_version("a-1") == 1
    monkeypatch.undo()
    settings.EVENTSTORE_PROJECTIONS = BOTH
    open_account("a-2")  # the next append catches up from the checkpoint: a-1 is not lost
    assert balances() == [("a-1", 1), ("a-2", 2)]
