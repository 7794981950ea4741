"""The process-memory backend's own promises: its size bounds, before and after a restart
that reloads a journal, and whole batches for concurrent ``read_all`` readers."""

import json
import os
import sys
import threading
import time
import uuid

import pytest

from eventstore.backends import memory
from eventstore.backends.memory import RECORD_OVERHEAD_BYTES, InMemoryEventStore, forget, swap_data
from eventstore.exceptions import EventStoreFull, InvalidBackendError
from eventstore.records import ANY, NO_STREAM, NewEvent
from eventstore.testing import ManualClock
from eventstore.testing.contract import happened

# Sizes worked out by hand: the backend counts the characters of the event's data and
# metadata JSON (compact, as stored) plus RECORD_OVERHEAD_BYTES (770, documented) per event.
#   happened("x")                          data {"note":"x"} = 12, metadata {} = 2
#   happened("x") of organization "acme"   metadata {"organization_id":"acme"} = 26
SMALL = 12 + 2 + 770  # 784
TAGGED = 12 + 26 + 770  # 808


def acme(note="x"):
    return NewEvent("contract.Happened", {"note": note}, metadata={"organization_id": "acme"})


@pytest.fixture
def open_store(tmp_path):
    """Open memory stores (optionally on a journal in tmp_path); forget them afterwards."""
    aliases = set()

    def open_(alias=None, journal=None, **options):
        alias = alias or f"memory-{uuid.uuid4()}"
        aliases.add(alias)
        if journal is not None:
            options["JOURNAL"] = str(tmp_path / journal)
        return InMemoryEventStore(alias, options)

    yield open_
    for alias in aliases:
        forget(alias)


def restart(open_store, store, **options):
    """Drop the store's process data and open it again on the same journal."""
    forget(store.alias)
    return open_store(store.alias, journal=store.options["JOURNAL"], **options)


def test_the_overhead_constant_is_the_documented_one():
    assert RECORD_OVERHEAD_BYTES == 770


def test_max_bytes_admits_up_to_the_bound_exactly_and_refuses_past_it(open_store):
    store = open_store(MAX_BYTES=SMALL + TAGGED)
    store.append("a-1", "Thing", [happened("x")], NO_STREAM)
    assert store.stats()["approx_bytes"] == SMALL
    store.append("a-2", "Thing", [acme()], NO_STREAM)
    assert store.stats()["approx_bytes"] == SMALL + TAGGED  # exactly at the bound: accepted
    with pytest.raises(EventStoreFull, match=f"MAX_BYTES is {SMALL + TAGGED}"):
        store.append("a-3", "Thing", [happened("x")], NO_STREAM)
    assert store.last_position() == 2
    assert store.stats()["approx_bytes"] == SMALL + TAGGED
    assert [e.aggregate_id for e in store.read_all()] == ["a-1", "a-2"]  # reads keep working


def test_max_bytes_one_below_refuses_the_event_that_would_reach_it(open_store):
    store = open_store(MAX_BYTES=2 * SMALL - 1)
    store.append("a-1", "Thing", [happened("x")], NO_STREAM)
    with pytest.raises(EventStoreFull):
        store.append("a-2", "Thing", [happened("x")], NO_STREAM)
    assert store.last_position() == 1


def test_max_bytes_counts_the_whole_batch_and_refuses_all_of_it(open_store):
    store = open_store(MAX_BYTES=2 * SMALL)
    store.append("a-1", "Thing", [happened("x")], NO_STREAM)
    with pytest.raises(EventStoreFull, match=f"{2 * SMALL} more bytes refused"):
        store.append("a-2", "Thing", [happened("x"), happened("x")], NO_STREAM)
    assert (store.last_position(), store.stats()["approx_bytes"]) == (1, SMALL)
    assert store.append("a-2", "Thing", [happened("x")], NO_STREAM)[0].position == 2


def test_a_first_event_larger_than_max_bytes_is_refused(open_store):
    store = open_store(MAX_BYTES=SMALL - 1)
    with pytest.raises(EventStoreFull):
        store.append("a-1", "Thing", [happened("x")], NO_STREAM)
    assert store.read_all() == []


def test_no_max_bytes_means_no_bound(open_store):
    store = open_store()
    for number in range(20):
        store.append(f"a-{number}", "Thing", [happened("x" * 1000)], NO_STREAM)
    assert store.stats()["max_bytes"] is None
    assert store.last_position() == 20


def test_reloaded_journal_bytes_count_toward_max_bytes(open_store):
    store = open_store(journal="bounded")
    store.append("a-1", "Thing", [happened("x"), acme()], NO_STREAM)
    store.append("b-1", "Thing", [acme()], NO_STREAM)
    stored = SMALL + 2 * TAGGED
    assert store.stats()["approx_bytes"] == stored

    reloaded = restart(open_store, store, MAX_BYTES=stored + SMALL)
    assert reloaded.stats()["approx_bytes"] == stored
    reloaded.append("c-1", "Thing", [happened("x")], NO_STREAM)  # exactly reaches the bound
    with pytest.raises(EventStoreFull, match=f"about {stored + SMALL} bytes stored"):
        reloaded.append("d-1", "Thing", [happened("x")], NO_STREAM)

    again = restart(open_store, reloaded, MAX_BYTES=stored + SMALL - 1)
    assert again.stats()["approx_bytes"] == stored + SMALL
    with pytest.raises(EventStoreFull):
        again.append("d-1", "Thing", [happened("x")], NO_STREAM)
    assert again.last_position() == 4


def test_reloaded_journal_events_count_toward_max_events(open_store):
    store = open_store(journal="counted")
    store.append("a-1", "Thing", [happened("1"), happened("2")], NO_STREAM)
    reloaded = restart(open_store, store, MAX_EVENTS=3)
    reloaded.append("a-1", "Thing", [happened("3")], 2)
    with pytest.raises(EventStoreFull, match="3 events stored, MAX_EVENTS is 3"):
        reloaded.append("a-1", "Thing", [happened("4")], 3)


def test_clear_gives_back_the_bytes(open_store):
    store = open_store(MAX_BYTES=SMALL)
    store.append("a-1", "Thing", [happened("x")], NO_STREAM)
    store.clear()
    assert store.stats()["approx_bytes"] == 0
    store.append("a-1", "Thing", [happened("x")], NO_STREAM)


# -- whole batches for concurrent readers ---------------------------------------------------

BATCH = 10
BUDGET_SECONDS = 2.0


def test_concurrent_read_all_never_sees_part_of_a_batch(open_store):
    """Writers append batches of BATCH events while readers read, over and over.

    Every batch has BATCH events, so a whole-batch read after a batch boundary holds a
    multiple of BATCH events, ends on a version that is a multiple of BATCH, and has
    positions after_position + 1 .. after_position + n. Readers mostly read the tail
    after what they saw (cheap, so they read often), and everything from the start on
    every tenth read, checking every aggregate holds whole batches. Thread switches are
    forced as often as the interpreter allows, so a read_all without the store's lock
    is caught mid-batch. Writers stop at the first problem, or after BUDGET_SECONDS.
    """
    store = open_store()
    problems: list[str] = []
    reads = [0]
    deadline = time.monotonic() + BUDGET_SECONDS
    writers_done = threading.Event()

    def check(after: int, events: list) -> None:
        if len(events) % BATCH or (events and events[-1].version % BATCH):
            problems.append(f"part of a batch seen: {len(events)} events after {after}")
        elif [e.position for e in events] != list(range(after + 1, after + len(events) + 1)):
            problems.append(f"positions after {after} not gapless")
        elif after == 0:
            per_aggregate: dict[str, int] = {}
            for event in events:
                per_aggregate[event.aggregate_id] = per_aggregate.get(event.aggregate_id, 0) + 1
            if torn := {k: n for k, n in per_aggregate.items() if n % BATCH}:
                problems.append(f"part of a batch seen: {torn}")

    def read() -> None:
        position = 0
        while not writers_done.is_set() and not problems:
            reads[0] += 1
            if reads[0] % 10 == 0:
                position = 0
            events = store.read_all(after_position=position)
            check(position, events)
            if events:
                position = events[-1].position

    def write(index: int) -> None:
        number = 0
        while time.monotonic() < deadline and not problems:
            batch = [happened(str(i)) for i in range(BATCH)]
            store.append(f"w{index}-{number % 10}", "Thing", batch, ANY)
            number += 1

    previous = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        readers = [threading.Thread(target=read) for _ in range(3)]
        writers = [threading.Thread(target=write, args=(i,)) for i in range(2)]
        for thread in readers + writers:
            thread.start()
        for thread in writers:
            thread.join()
        writers_done.set()
        for thread in readers:
            thread.join()
    finally:
        sys.setswitchinterval(previous)
    assert problems == []
    assert reads[0] > 10, "the readers did not run alongside the writers"
    check(0, store.read_all())
    assert problems == []
    assert store.last_position() > 100 * BATCH


# -- one alias, one store; options; system checks; stats ------------------------------------


def test_instances_of_one_alias_share_their_events(open_store):
    first = open_store("shared-alias")
    first.append("a-1", "Thing", [happened("1")], NO_STREAM)
    second = open_store("shared-alias")
    assert [e.aggregate_id for e in second.read_all()] == ["a-1"]
    assert second.append("a-1", "Thing", [happened("2")], 1)[0].position == 2
    assert first.last_position() == 2
    assert open_store("another-alias").read_all() == []


def test_instances_of_one_alias_share_its_journal_and_refuse_another(open_store, tmp_path):
    first = open_store("journaled-alias", journal="one")
    first.append("a-1", "Thing", [happened("1")], NO_STREAM)
    same = open_store("journaled-alias", journal="one")
    assert same.stats()["journal"] == str((tmp_path / "one").resolve())
    assert len(same.read_all()) == 1
    with pytest.raises(InvalidBackendError) as caught:
        open_store("journaled-alias", journal="two")
    assert str(caught.value) == (
        "EVENTSTORES['journaled-alias']: this process already holds the alias with journal "
        f"{(tmp_path / 'one').resolve()}; restart to change it."
    )
    with pytest.raises(InvalidBackendError, match="with journal .*one; restart"):
        open_store("journaled-alias")
    open_store("plain-alias")
    with pytest.raises(InvalidBackendError, match="with journal None; restart"):
        open_store("plain-alias", journal="three")


def test_the_default_alias_and_keyword_arguments():
    clock = ManualClock()
    store = InMemoryEventStore(clock=clock)
    assert store.alias == "default"
    assert store.clock is clock


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"JOURNAL": 5}, "EVENTSTORES['bad']: OPTIONS['JOURNAL'] must be a file path or None."),
        (
            {"JOURNAL_FSYNC": "yes"},
            "EVENTSTORES['bad']: OPTIONS['JOURNAL_FSYNC'] must be True or False.",
        ),
    ],
)
def test_bad_journal_options_are_refused(options, message):
    with pytest.raises(InvalidBackendError) as caught:
        InMemoryEventStore("bad", options)
    assert str(caught.value) == message


@pytest.mark.parametrize(("fsync", "calls"), [(True, 2), (False, 0)])
def test_journal_fsync_follows_the_option(open_store, monkeypatch, fsync, calls):
    store = open_store(journal=f"fsync-{fsync}", JOURNAL_FSYNC=fsync)
    store.identity()  # its sidecar file is written (and synced) once, not per batch
    synced = []
    monkeypatch.setattr(os, "fsync", lambda fd: synced.append(fd))
    store.append("a-1", "Thing", [happened("1")], NO_STREAM)
    store.append("a-1", "Thing", [happened("2")], 1)
    assert len(synced) == calls


def test_clear_empties_the_journal_and_keeps_journaling(open_store):
    store = open_store(journal="cleared")
    store.append("a-1", "Thing", [happened("old")], NO_STREAM)
    store.clear()
    store.append("b-1", "Thing", [happened("new")], NO_STREAM)
    reloaded = restart(open_store, store)
    assert [(e.aggregate_id, e.position) for e in reloaded.read_all()] == [("b-1", 1)]


def test_a_journal_with_a_position_out_of_sequence_refuses_start_up(open_store, tmp_path):
    store = open_store(journal="skipped")
    store.append("a-1", "Thing", [happened("1")], NO_STREAM)
    store.append("b-1", "Thing", [happened("2")], NO_STREAM)
    forget(store.alias)
    path = tmp_path / "skipped"
    first, second = path.read_bytes().splitlines(keepends=True)
    path.write_bytes(second + first)
    event_id = json.loads(second)[0]["event_id"]
    with pytest.raises(InvalidBackendError) as caught:
        open_store(store.alias, journal="skipped")
    assert str(caught.value) == (
        f"Journal {path.resolve()}: event {event_id} has position 2, expected 1."
    )


def test_the_system_check_warns_about_memory_without_a_journal(open_store, settings, tmp_path):
    settings.DEBUG = False
    plain = open_store("checked")
    [warning] = plain.check()
    assert warning.id == "eventstore.W001"
    assert warning.msg == (
        "EVENTSTORES['checked'] keeps events in process memory without a JOURNAL while DEBUG "
        "is False: events are lost on restart, and each worker process of a server would "
        "keep its own, diverging history."
    )
    # What fixes it: one process (claimed at start-up), or the database backend; a journal
    # alone does not (a second worker is refused the journal).
    assert warning.hint == (
        "A process-memory store is served by one process: run the server with one worker "
        "process (gunicorn --workers=1, or uvicorn/daphne without several workers), or use "
        "the database backend (eventstore.backends.database.DatabaseEventStore) to serve "
        "from several. Call eventstore.serving.claim_serving() in wsgi.py/asgi.py so that a "
        "second process refuses to start; OPTIONS['JOURNAL'] keeps the events across restarts."
    )
    assert open_store(journal="checked").check() == []
    settings.DEBUG = True
    assert open_store("checked-debug").check() == []


def test_the_system_check_reports_a_torn_journal_tail(open_store, tmp_path):
    store = open_store(journal="torn")
    store.append("a-1", "Thing", [happened("1")], NO_STREAM)
    forget(store.alias)
    with open(tmp_path / "torn", "ab") as journal:
        journal.write(b"[{")
    [warning] = open_store(store.alias, journal="torn").check()
    saved_to = open_store(store.alias, journal="torn").stats()["journal_torn_tail"]["saved_to"]
    assert warning.id == "eventstore.W002"
    assert warning.msg == (
        f"EVENTSTORES[{store.alias!r}]: the journal ended with a torn line of 2 bytes "
        f"(never acknowledged), moved to {saved_to}."
    )


def test_stats_name_every_figure(open_store, tmp_path):
    store = open_store("stats-alias", journal="stats", MAX_EVENTS=10, MAX_BYTES=10_000)
    store.append("a-1", "Thing", [happened("x"), happened("x")], NO_STREAM)
    store.append("b-1", "Thing", [happened("x")], NO_STREAM)
    assert store.stats() == {
        "backend": "InMemoryEventStore",
        "alias": "stats-alias",
        "events": 3,
        "aggregates": 2,
        "approx_bytes": 3 * SMALL,
        "max_events": 10,
        "max_bytes": 10_000,
        "journal": str((tmp_path / "stats").resolve()),
        "journal_torn_tail": None,
    }
    assert open_store().stats()["journal"] is None


def test_equal_strings_are_stored_once(open_store):
    """Events reuse the stored copy of their type name and correlation id (memory)."""
    store = open_store()
    correlation = "".join(["corr", "-1"])  # built at run time: not interned by Python
    first = store.append("a-1", "Thing", [happened()], NO_STREAM, correlation_id=correlation)[0]
    again = "".join(["corr", "-1"])
    event_type = "".join(["contract.", "Happened"])
    second = store.append(
        "b-1", "Thing", [NewEvent(event_type, {"note": "x"})], NO_STREAM, correlation_id=again
    )[0]
    assert second.correlation_id is first.correlation_id
    assert second.event_type is first.event_type
    assert store.append("c-1", "Thing", [happened()], NO_STREAM)[0].correlation_id is None


# -- snapshots and swapped data (the testing support's tools) -------------------------------


def test_a_snapshot_puts_back_the_events_and_indexes_in_place_sharing_the_records(open_store):
    store = open_store()
    kept = store.append(
        "a-1", "Thing", [happened("1"), acme("2")], NO_STREAM, correlation_id="req-1"
    )
    snapshot = store.snapshot()
    store.append("a-1", "Thing", [happened("3")], 2, correlation_id="req-1")
    store.append("b-1", "Other", [acme("4")], NO_STREAM)
    other = open_store(store.alias)  # another instance of the alias sees the restore too
    store.restore(snapshot)
    restored = other.read_all()
    assert restored == kept
    # The records themselves are shared, not copied ("the records (frozen) are shared").
    assert [record is original for record, original in zip(restored, kept, strict=True)] == [
        True,
        True,
    ]
    assert store.read_by_correlation("req-1") == kept
    assert store.search(organization_id="acme") == [kept[1]]
    assert store.aggregate_version("a-1") == 2
    assert store.aggregate_version("b-1") == 0
    assert store.stats()["approx_bytes"] == SMALL + TAGGED
    # Appends carry on from the snapshot, and the snapshot can be used again.
    assert store.append("c-1", "Thing", [happened("5")], NO_STREAM)[0].position == 3
    store.restore(snapshot)
    assert other.read_all() == kept


def test_a_journaled_store_takes_a_snapshot_but_refuses_to_restore_one(open_store, tmp_path):
    store = open_store(journal="kept")
    store.append("a-1", "Thing", [happened("1")], NO_STREAM)
    snapshot = store.snapshot()
    store.append("a-1", "Thing", [happened("2")], 1)
    with pytest.raises(InvalidBackendError) as caught:
        store.restore(snapshot)
    assert str(caught.value) == (
        f"Cannot restore a snapshot over the journaled store of {(tmp_path / 'kept').resolve()}."
    )
    assert store.last_position() == 2
    assert [e.position for e in restart(open_store, store).read_all()] == [1, 2]


def test_swap_data_puts_an_alias_data_in_and_hands_back_the_data_it_replaces(open_store):
    alias = f"memory-{uuid.uuid4()}"
    assert swap_data(alias, None) is None  # nothing held yet: nothing handed back
    store = open_store(alias)
    store.append("a-1", "Thing", [happened("1")], NO_STREAM)
    held = swap_data(alias, None)
    assert held is not None
    assert open_store(alias).read_all() == []  # the alias starts afresh
    assert len(store.read_all()) == 1  # an instance built before keeps its data
    fresh = swap_data(alias, held)
    assert fresh is not None and fresh is not held
    assert [e.aggregate_id for e in open_store(alias).read_all()] == ["a-1"]


def runtime(text):
    """``text`` built at run time (a new string object: Python does not intern it)."""
    return "".join(list(text))


def test_a_batch_shares_equal_strings_and_a_causation_equal_to_its_correlation(open_store):
    store = open_store()
    first = store.append("a-1", "Thing", [happened()], NO_STREAM, correlation_id=runtime("c-1"))[0]
    batch = store.append(
        "b-1",
        "Thing",
        [happened("1"), happened("2", causation_id=runtime("c-1"))],
        NO_STREAM,
        correlation_id=runtime("c-1"),
    )
    assert [record.correlation_id is first.correlation_id for record in batch] == [True, True]
    assert batch[1].causation_id is first.correlation_id
    one = store.append(
        "c-1", "Thing", [happened()], NO_STREAM, correlation_id="c-2", causation_id=runtime("c-2")
    )[0]
    assert one.causation_id is one.correlation_id


def test_metadata_texts_are_shared_from_a_bounded_table(open_store, monkeypatch):
    """The table holds at most SHARED_METADATA_LIMIT texts and starts again empty when full."""
    monkeypatch.setattr(memory, "SHARED_METADATA_LIMIT", 2)
    store = open_store()

    def append(user):
        event = NewEvent("contract.Happened", {"note": "x"}, metadata={"user_id": runtime(user)})
        return store.append(f"a-{uuid.uuid4()}", "Thing", [event], NO_STREAM)[0]

    first, second = append("u1"), append("u2")
    assert append("u2").metadata_json is second.metadata_json  # in the table: shared
    third = append("u3")  # the table held 2 texts: emptied, then u3 kept
    assert append("u3").metadata_json is third.metadata_json
    again = append("u1")
    assert again.metadata_json == first.metadata_json
    assert again.metadata_json is not first.metadata_json  # forgotten when the table emptied


def test_batches_add_up_their_bytes(open_store):
    store = open_store()
    store.append("a-1", "Thing", [happened("x"), acme()], NO_STREAM)
    store.append("b-1", "Thing", [acme(), happened("x")], NO_STREAM)
    assert store.stats()["approx_bytes"] == 2 * (SMALL + TAGGED)


@pytest.mark.parametrize("name", ["MAX_EVENTS", "MAX_BYTES"])
def test_the_bounds_must_be_positive_integers(name):
    with pytest.raises(InvalidBackendError) as caught:
        InMemoryEventStore("bad", {name: 0})
    assert str(caught.value) == (
        f"EVENTSTORES['bad']: OPTIONS['{name}'] must be a positive integer or None, got 0."
    )


def test_a_journaled_store_keeps_its_identity_across_restarts_and_clear_renews_it(open_store):
    store = open_store(journal="identity")
    identity = store.identity()
    assert isinstance(identity, str)
    assert identity != open_store().identity()
    reloaded = restart(open_store, store)
    assert reloaded.identity() == identity
    reloaded.clear()
    renewed = reloaded.identity()
    assert renewed != identity
    assert restart(open_store, reloaded).identity() == renewed
