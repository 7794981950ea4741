"""The process-memory backend's own promises: its size bounds, before and after a restart
that reloads a journal, and whole batches for concurrent ``read_all`` readers."""

import sys
import threading
import time
import uuid

import pytest

from eventstore.backends.memory import RECORD_OVERHEAD_BYTES, InMemoryEventStore, forget
from eventstore.exceptions import EventStoreFull
from eventstore.records import ANY, NO_STREAM, NewEvent
from eventstore.testing.contract import happened

# Sizes worked out by hand: the backend counts the characters of the event's data and
# metadata JSON (compact, as stored) plus RECORD_OVERHEAD_BYTES (700, documented) per event.
#   happened("x")                          data {"note":"x"} = 12, metadata {} = 2
#   happened("x") of organization "acme"   metadata {"organization_id":"acme"} = 26
SMALL = 12 + 2 + 700  # 714
TAGGED = 12 + 26 + 700  # 738


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
    assert RECORD_OVERHEAD_BYTES == 700


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
