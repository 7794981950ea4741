"""Checkpointed projections in one process: inline runs, failures, store identity, rebuild,
status, the admin page and the testing helper (memory store, SQLite view)."""

import io
import json

import pytest
from django.contrib.auth.models import Permission
from django.core.management import call_command
from django.core.management.base import CommandError

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
)
from payments.commands import CommandContext, PaymentCommandHandler, ProcessPayment, RefundPayment
from payments.models import PaymentSummary
from tests.projection_fixtures import AppliedLog, create_table, logged

pytestmark = pytest.mark.django_db

BOTH = [
    "payments.projections.PaymentSummaryProjection",
    "tests.projection_fixtures.AppliedLog",
]


@pytest.fixture
def both(settings, event_store):
    settings.EVENTSTORE_PROJECTIONS = BOTH
    create_table()
    AppliedLog.fail_on = set()
    yield event_store
    AppliedLog.fail_on = set()


def pay(payment_id, amount="10.00"):
    return PaymentCommandHandler().process(
        ProcessPayment(payment_id, amount, "EUR", "acme"), CommandContext()
    )


def summaries():
    return sorted(PaymentSummary.objects.values_list("payment_id", "created_position"))


def checkpoint(name):
    return Checkpoint.objects.get(name=name)


def test_inline_projection_fills_the_view_and_moves_the_checkpoint(event_store):
    pay("p-1")
    pay("p-2")
    PaymentCommandHandler().refund(RefundPayment("p-1", "4.00", refund_id="r-1"), CommandContext())
    assert summaries() == [("p-1", 1), ("p-2", 2)]
    assert PaymentSummary.objects.get(payment_id="p-1").refunded_amount == 4
    row = checkpoint("payments.summary")
    assert (row.position, row.status, row.store_identity) == (
        3,
        "caught_up",
        event_store.identity(),
    )


@pytest.mark.eventstore_lenient  # the failure is the subject: it must stall, visibly
def test_a_failing_event_stalls_only_its_projection_and_is_never_skipped(both, settings):
    settings.EVENTSTORE_PROJECTIONS_RAISE = False
    AppliedLog.fail_on = {"bad"}
    pay("p-1")  # position 1
    pay("bad")  # position 2: the log projection refuses it
    bad = both.read_all(after_position=1, limit=1)[0]
    pay("p-3")  # position 3: retried from the checkpoint, still stops before 2
    log = checkpoint("tests.applied_log")
    assert (log.position, log.status) == (1, "stalled")
    assert (log.error_event_id, log.error_position) == (bad.event_id, 2)
    assert "RuntimeError: refusing bad" in log.error_text
    assert log.failures == 2
    assert logged() == [1]
    assert checkpoint("payments.summary").status == "caught_up"
    assert summaries() == [("bad", 2), ("p-1", 1), ("p-3", 3)]

    out = io.StringIO()
    call_command("eventstore_projections", "status", "--json", stdout=out)
    rows = {row["name"]: row for row in json.loads(out.getvalue())}
    assert rows["tests.applied_log"]["status"] == "stalled"
    assert rows["tests.applied_log"]["error"]["event_id"] == str(bad.event_id)
    assert rows["tests.applied_log"]["lag_events"] == 2
    assert rows["payments.summary"]["status"] == "caught_up"
    assert rows["payments.summary"]["lag_events"] == 0

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


def test_the_raise_switch_makes_a_failing_projection_raise(both):
    AppliedLog.fail_on = {"bad"}
    with pytest.raises(ProjectionError, match="failed on event .* \\(position 1\\)"):
        pay("bad")
    assert both.last_position() == 1  # the append itself stands
    assert checkpoint("tests.applied_log").status == "stalled"


def restart_memory_store():
    """What a new process sees: the memory store is gone, the database (view) is kept."""
    memory.forget("default")
    eventstores.reset()
    return eventstores["default"]


def test_a_restarted_memory_store_with_a_kept_read_model_rebuilds_it(event_store):
    pay("p-1")
    pay("p-2")
    old_identity = event_store.identity()
    store = restart_memory_store()
    assert store.identity() != old_identity
    pay("q-1")  # position 1 again: continuing the old rows would hit created_position 1
    assert summaries() == [("q-1", 1)]
    row = checkpoint("payments.summary")
    assert (row.position, row.store_identity, row.status) == (1, store.identity(), "caught_up")


def test_a_checkpoint_from_another_history_can_stop_instead(event_store, settings):
    settings.EVENTSTORE_PROJECTIONS_ON_NEW_STORE = "stop"
    pay("p-1")
    restart_memory_store()
    with pytest.raises(StoreIdentityMismatch, match="eventstore_projections rebuild"):
        pay("q-1")
    assert summaries() == [("p-1", 1)]  # old rows untouched, nothing applied on top
    assert checkpoint("payments.summary").status == "stalled"
    call_command("eventstore_projections", "rebuild", "payments.summary", verbosity=0)
    assert summaries() == [("q-1", 1)]


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
        pay("p-1")
        identity = eventstores["default"].identity()
        assert (tmp_path / "events.jsonl.identity").read_text().strip() == identity
        restart_memory_store()
        assert eventstores["default"].identity() == identity
        pay("p-2")  # continues the checkpoint: no rebuild
        assert summaries() == [("p-1", 1), ("p-2", 2)]
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
        pay(f"p-{number}")
    PaymentSummary.objects.filter(payment_id="p-0").update(status="tampered")
    seen = []

    def progress(position, target):
        seen.append((position, target))
        if len(seen) == 1:
            pay("late")  # appended during the rebuild

    result = rebuild(get_projection("payments.summary"), batch_size=2, progress=progress)
    assert seen == [(2, 5), (4, 5), (5, 5)]
    assert (result.status, result.position) == ("caught_up", 6)
    assert PaymentSummary.objects.get(payment_id="p-0").status == "processed"
    assert [p for p, _ in summaries()] == ["late", "p-0", "p-1", "p-2", "p-3", "p-4"]


def test_rebuild_command_shows_a_progress_bar_and_refuses_unknown_names(event_store):
    pay("p-1")
    out, err = io.StringIO(), io.StringIO()
    call_command("eventstore_projections", "rebuild", "payments.summary", stdout=out, stderr=err)
    assert "caught up at position 1" in out.getvalue()
    assert "old view stays readable" in out.getvalue()
    assert "1/1" in err.getvalue()
    with pytest.raises(CommandError, match="No projection named 'nope'.*payments.summary"):
        call_command("eventstore_projections", "rebuild", "nope")


def test_status_command_text(event_store):
    pay("p-1")
    out = io.StringIO()
    call_command("eventstore_projections", "status", stdout=out)
    lines = out.getvalue().splitlines()
    assert lines[1].split() == ["payments.summary", "caught_up", "1", "1", "0", "0.0"]


def test_run_once_catches_up_a_projection_the_daemon_follows(event_store, settings):
    settings.EVENTSTORE_PROJECTIONS_INLINE = False
    pay("p-1")
    pay("p-2")
    assert summaries() == []
    out = io.StringIO()
    call_command("eventstore_projections", "run", "--once", stdout=out)
    assert "payments.summary: applied 2 events, position 2" in out.getvalue()
    assert summaries() == [("p-1", 1), ("p-2", 2)]


def test_run_projection_fixture(event_store, settings, run_projection):
    settings.EVENTSTORE_PROJECTIONS_INLINE = False
    pay("p-1")
    result = run_projection("payments.summary")
    assert (result.status, result.position, result.applied) == ("caught_up", 1, 1)
    assert summaries() == [("p-1", 1)]


def test_the_admin_page_shows_the_status_table(client, django_user_model, event_store):
    pay("p-1")
    user = django_user_model.objects.create_user("auditor", password="pw", is_staff=True)
    client.force_login(user)
    url = "/admin/eventstore/audittrail/projections/"
    assert client.get(url).status_code == 403
    user.user_permissions.add(Permission.objects.get(codename="view_audit_trail"))
    page = client.get(url).content.decode()
    assert "payments.summary" in page
    assert "caught_up" in page


def test_a_projection_handles_events_stored_under_a_former_name_of_its_types():
    from eventstore import DomainEvent, event, registry
    from eventstore.projections import Projection
    from eventstore.records import RecordedEvent

    class Watching(Projection):
        name = "tests.watching"
        event_types = ["tests.Renamed"]

    old = RecordedEvent.__new__(RecordedEvent)
    object.__setattr__(old, "event_type", "tests.Original")
    watching = Watching()
    assert not watching.handles(old)

    @event
    class Renamed(DomainEvent, event_type="tests.Renamed", aliases=["tests.Original"]):
        note: str

    try:
        assert watching.handles(old)
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
    pay("p-1")  # returns: no OperationalError out of append
    assert both.aggregate_version("p-1") == 1
    monkeypatch.undo()
    settings.EVENTSTORE_PROJECTIONS = BOTH
    pay("p-2")  # the next append catches up from the checkpoint: p-1 is not lost
    assert summaries() == [("p-1", 1), ("p-2", 2)]
