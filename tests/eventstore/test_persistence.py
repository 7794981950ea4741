"""Surviving a restart: export/import round trip and the append-only journal."""

import io
import json
import os
import re
import signal
import subprocess
import sys
import textwrap
import uuid
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from eventstore.backends.memory import InMemoryEventStore, forget
from eventstore.exceptions import InvalidBackendError
from eventstore.testing import ManualClock
from eventstore.testing.contract import happened

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def journal_store(tmp_path):
    """Open stores on journals under tmp_path; forget them (closing the journals) afterwards."""
    aliases = []

    def open_store(name="journal", **options):
        alias = f"journal-{uuid.uuid4()}"
        aliases.append(alias)
        return InMemoryEventStore(alias, {"JOURNAL": str(tmp_path / name), **options})

    yield open_store
    for alias in aliases:
        forget(alias)


def fill(store):
    store.clock = ManualClock()
    store.append("a-1", "Thing", [happened("é ✓"), happened("2")], 0, correlation_id="c-1")
    store.append("b-1", "Thing", [happened("3")], 0, metadata={"organization_id": "acme"})
    store.append("a-1", "Thing", [happened("4")], 2, causation_id="cmd-1")


def test_export_import_round_trip_is_byte_for_byte_stable(event_store, tmp_path):
    fill(event_store)
    first = tmp_path / "first.jsonl"
    call_command("eventstore_export", str(first), stdout=io.StringIO())
    lines = first.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 5  # four events, then the signature line (see test_signed_exports)
    assert json.loads(lines[0]) == {
        "event_id": str(event_store.read_all()[0].event_id),
        "aggregate_id": "a-1",
        "aggregate_type": "Thing",
        "event_type": "contract.Happened",
        "version": 1,
        "position": 1,
        "timestamp": "2024-01-01T00:00:00.000000+00:00",
        "correlation_id": "c-1",
        "causation_id": None,
        "schema_version": 1,
        "metadata": {},
        "data": {"note": "é ✓"},
        "hash": event_store.read_all()[0].chain_hash.hex(),
    }
    assert list(json.loads(lines[4])) == ["signature"]
    original = event_store.read_all()
    event_store.clear()
    call_command("eventstore_import", str(first), stdout=io.StringIO(), stderr=io.StringIO())
    assert event_store.read_all() == original
    second = tmp_path / "second.jsonl"
    call_command("eventstore_export", str(second), stdout=io.StringIO())
    assert second.read_bytes() == first.read_bytes()


def test_import_refuses_duplicates_before_writing_anything(event_store, tmp_path):
    fill(event_store)
    export = tmp_path / "export.jsonl"
    call_command("eventstore_export", str(export), stdout=io.StringIO())
    event_store.append("z", "Thing", [happened()], 0)
    with pytest.raises(CommandError, match="already stored"):
        call_command("eventstore_import", str(export), stdout=io.StringIO())
    assert event_store.count() == 5
    # A file from another system (no hashes, no signature) with an event twice.
    events = [unchained(line) for line in export.read_text().splitlines()[:-1]]
    doubled = tmp_path / "doubled.jsonl"
    doubled.write_text("\n".join([*events, events[0]]) + "\n")
    event_store.clear()
    with pytest.raises(CommandError, match="doubled.jsonl:5: .* appears twice"):
        call_command("eventstore_import", str(doubled), "--unsigned", stdout=io.StringIO())
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"event_id": "nope"}\n')
    with pytest.raises(CommandError, match="bad.jsonl:1"):
        call_command("eventstore_import", str(bad), stdout=io.StringIO())
    assert event_store.count() == 0


@pytest.mark.parametrize(
    ("line", "change", "message"),
    [
        (2, {"event_type": "no.such.Type"}, "not registered"),
        (3, {"data": {"note": 7}}, "does not fit contract.Happened"),
        (3, {"data": {"note": "x\ud800"}}, "U+D800"),
        (4, {"schema_version": 2}, "schema_version must be 1..1"),
    ],
)
def test_import_refuses_what_append_would_refuse_before_writing_anything(
    event_store, tmp_path, line, change, message
):
    # Files from another system: no hashes, no signature (a signed file's edit breaks its
    # chain first, see test_signed_exports).
    fill(event_store)
    export = tmp_path / "export.jsonl"
    call_command("eventstore_export", str(export), stdout=io.StringIO())
    lines = [unchained(text) for text in export.read_text(encoding="utf-8").splitlines()[:-1]]
    lines[line - 1] = json.dumps({**json.loads(lines[line - 1]), **change})
    edited = tmp_path / "edited.jsonl"
    edited.write_text("\n".join(lines) + "\n", encoding="utf-8")
    event_store.clear()
    with pytest.raises(CommandError, match=f"edited.jsonl:{line}: .*{re.escape(message)}"):
        call_command("eventstore_import", str(edited), "--unsigned", stdout=io.StringIO())
    assert event_store.count() == 0


def unchained(line):
    """An export line as a system without the chain writes it: no ``hash``."""
    obj = json.loads(line)
    del obj["hash"]
    return json.dumps(obj, ensure_ascii=False)


def test_stats_command_prints_figures(event_store):
    fill(event_store)
    out = io.StringIO()
    call_command("eventstore_stats", "--json", stdout=out)
    figures = json.loads(out.getvalue())["default"]
    assert (figures["events"], figures["aggregates"]) == (4, 2)
    # JSON characters, counted by hand: {"note":"é ✓"} 14 + {} 2, {"note":"2"} 12 + {} 2,
    # {"note":"3"} 12 + {"organization_id":"acme"} 26, {"note":"4"} 12 + {} 2 = 82;
    # plus the documented 770 per event.
    assert figures["approx_bytes"] == 82 + 4 * 770


def test_a_journal_reloads_every_event_after_a_restart(journal_store):
    store = journal_store()
    fill(store)
    before = store.read_all()
    forget(store.alias)
    reloaded = InMemoryEventStore(store.alias, {"JOURNAL": store.options["JOURNAL"]})
    assert reloaded.read_all() == before
    assert reloaded.search(organization_id="acme")[0].aggregate_id == "b-1"
    assert reloaded.append("a-1", "Thing", [happened()], 3)[0].position == 5


def test_a_torn_last_line_is_cut_saved_and_reported(journal_store, tmp_path, caplog):
    store = journal_store("torn")
    fill(store)
    forget(store.alias)
    path = tmp_path / "torn"
    with open(path, "ab") as journal:
        journal.write(b'[{"event_id": "half a batch')
    reopened = journal_store("torn")
    assert len(reopened.read_all()) == 4
    torn = reopened.stats()["journal_torn_tail"]
    assert torn["size"] == len(b'[{"event_id": "half a batch')
    assert Path(torn["saved_to"]).read_bytes() == b'[{"event_id": "half a batch'
    assert path.read_bytes().endswith(b"]\n")
    assert "torn line" in caplog.text
    assert [m.id for m in reopened.check()] == ["eventstore.W002"]


def test_a_damaged_middle_line_refuses_start_up(journal_store, tmp_path):
    store = journal_store("damaged")
    fill(store)
    forget(store.alias)
    path = tmp_path / "damaged"
    lines = path.read_bytes().splitlines(keepends=True)
    path.write_bytes(lines[0] + b"garbage\n" + lines[1])
    with pytest.raises(InvalidBackendError, match="line 2"):
        journal_store("damaged")


SCRIPT_SETUP = """
import os, sys
sys.path.insert(0, {root!r})
os.environ["DJANGO_SETTINGS_MODULE"] = {settings_module!r}
import django
django.setup()
from eventstore.backends.memory import InMemoryEventStore
from eventstore.testing.contract import happened
from eventstore.records import ANY
"""


def run_python(code, **kwargs):
    # The child process runs under the settings of this test run, whichever site they are.
    setup = SCRIPT_SETUP.format(
        root=str(ROOT), settings_module=os.environ["DJANGO_SETTINGS_MODULE"]
    )
    script = textwrap.dedent(setup) + textwrap.dedent(code)
    return subprocess.Popen(
        [sys.executable, "-c", script], stdout=subprocess.PIPE, stderr=subprocess.PIPE, **kwargs
    )


def test_a_second_process_cannot_open_the_same_journal(journal_store, tmp_path):
    store = journal_store("locked")
    fill(store)
    other = run_python(
        f"""
        try:
            InMemoryEventStore("other", {{"JOURNAL": {str(tmp_path / "locked")!r}}})
        except Exception as exc:
            print(type(exc).__name__, exc)
        """
    )
    out, err = other.communicate(timeout=60)
    assert b"InvalidBackendError" in out, err
    assert b"locked by another process" in out
    # What to do, as the system check and the serving claim say it.
    assert b"stop that process first" in out
    assert b"run the server with one worker process" in out
    assert b"use the database backend" in out


def test_kill_9_loses_no_acknowledged_event(journal_store, tmp_path):
    path = tmp_path / "killed"
    writer = run_python(
        f"""
        store = InMemoryEventStore("killed", {{"JOURNAL": {str(path)!r}}})
        number = 0
        while True:
            batch = store.append(f"a-{{number % 50}}", "Thing", [happened(), happened()], ANY)
            print(batch[0].event_id, batch[1].event_id, flush=True)
            number += 1
        """
    )
    acknowledged = []
    while len(acknowledged) < 400:
        line = writer.stdout.readline()
        assert line, writer.stderr.read()
        acknowledged.extend(line.split())
    os.kill(writer.pid, signal.SIGKILL)
    rest, _err = writer.communicate(timeout=60)
    acknowledged.extend(rest.split())
    reloaded = journal_store("killed")
    stored = {str(event.event_id) for event in reloaded.read_all()}
    assert {i.decode() for i in acknowledged} <= stored
    assert len(stored) % 2 == 0  # never half a batch
    positions = [event.position for event in reloaded.read_all()]
    assert positions == list(range(1, len(positions) + 1))


@pytest.mark.django_db(transaction=True)
def test_import_moves_history_from_memory_to_the_database_and_back(event_store, tmp_path, settings):
    fill(event_store)
    from_memory = tmp_path / "memory.jsonl"
    call_command("eventstore_export", str(from_memory), stdout=io.StringIO())
    settings.EVENTSTORES = {
        "default": {"BACKEND": "eventstore.backends.database.DatabaseEventStore"}
    }
    call_command("eventstore_import", str(from_memory), stdout=io.StringIO(), stderr=io.StringIO())
    from_database = tmp_path / "database.jsonl"
    call_command("eventstore_export", str(from_database), stdout=io.StringIO())
    assert from_database.read_bytes() == from_memory.read_bytes()
    settings.EVENTSTORES = {"default": {"BACKEND": "eventstore.backends.memory.InMemoryEventStore"}}
    from eventstore import eventstores

    eventstores["default"].clear()
    call_command(
        "eventstore_import", str(from_database), stdout=io.StringIO(), stderr=io.StringIO()
    )
    back = tmp_path / "back.jsonl"
    call_command("eventstore_export", str(back), stdout=io.StringIO())
    assert back.read_bytes() == from_memory.read_bytes()
