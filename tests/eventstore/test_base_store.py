"""The decisions BaseEventStore makes for every backend, seen through a memory store.

Argument checks and the messages they give, which retries are retries, the
clock, what a Criteria argument and the event-type aliases do to a search,
and what a backend that forgets a primitive is told. The contract suite
(eventstore/testing/contract.py) covers the behaviour every backend shares;
these pin the details of the shared code in eventstore/backends/base.py.
"""

import uuid
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from eventstore.backends.base import BaseEventStore
from eventstore.backends.memory import InMemoryEventStore, forget
from eventstore.criteria import Criteria
from eventstore.events import DomainEvent, event, registry
from eventstore.exceptions import (
    ConcurrencyError,
    DuplicateEventError,
    InvalidBackendError,
    InvalidEventError,
    InvalidQueryError,
)
from eventstore.records import ANY, NO_STREAM, STREAM_EXISTS, NewEvent
from eventstore.testing import ManualClock
from eventstore.testing.contract import T0, happened


@pytest.fixture
def store():
    alias = f"base-{uuid.uuid4()}"
    store = InMemoryEventStore(alias)
    store.clock = ManualClock(T0)
    yield store
    forget(alias)


# -- bounds of the reads ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("read", "message"),
    [
        (lambda s: s.read_aggregate("a-1", 0), "from_version must be a whole number ≥ 1, got 0."),
        (
            lambda s: s.read_aggregate("a-1", "2"),
            "from_version must be a whole number ≥ 1, got '2'.",
        ),
        (
            lambda s: s.read_aggregate("a-1", True),
            "from_version must be a whole number ≥ 1, got True.",
        ),
        (
            lambda s: s.read_aggregate("a-1", 1, -1),
            "to_version must be a whole number ≥ 0, got -1.",
        ),
        (
            lambda s: s.read_aggregate("a-1", 1, "3"),
            "to_version must be a whole number ≥ 0, got '3'.",
        ),
        (
            lambda s: s.read_aggregate("a-1", 1, 2.5),
            "to_version must be a whole number ≥ 0, got 2.5.",
        ),
        (lambda s: s.read_all(-1), "after_position must be a whole number ≥ 0, got -1."),
        (lambda s: s.read_all("1"), "after_position must be a whole number ≥ 0, got '1'."),
        (lambda s: s.read_all(0.5), "after_position must be a whole number ≥ 0, got 0.5."),
        (lambda s: s.read_all(0, -1), "limit must be a whole number ≥ 0, got -1."),
        (lambda s: s.read_all(0, "2"), "limit must be a whole number ≥ 0, got '2'."),
        (lambda s: s.read_all(0, False), "limit must be a whole number ≥ 0, got False."),
    ],
)
def test_a_bad_read_bound_is_refused_naming_it_and_its_minimum(store, read, message):
    with pytest.raises(InvalidQueryError) as caught:
        read(store)
    assert str(caught.value) == message


def test_the_lowest_bounds_are_accepted(store):
    store.append("a-1", "Thing", [happened("1"), happened("2")], NO_STREAM)
    assert [e.version for e in store.read_aggregate("a-1", 1)] == [1, 2]
    assert store.read_aggregate("a-1", 1, 0) == []
    assert [e.position for e in store.read_all(0)] == [1, 2]
    assert store.read_all(0, 0) == []


# -- the clock ----------------------------------------------------------------------------


def test_the_default_clock_is_the_current_time_in_utc():
    bare = BaseEventStore("bare")
    before = datetime.now(UTC)
    now = bare.now()
    assert now.tzinfo is UTC
    assert before <= now <= datetime.now(UTC)


@pytest.mark.parametrize("reading", [T0.replace(tzinfo=None), "2026-01-01T12:00:00Z", None])
def test_a_clock_giving_a_naive_or_bad_time_refuses_the_append(store, reading):
    store.clock = lambda: reading
    with pytest.raises(InvalidEventError) as caught:
        store.append("a-1", "Thing", [happened()], NO_STREAM)
    assert str(caught.value) == f"The store clock returned a naive or bad time: {reading!r}."
    assert store.read_all() == []


def test_a_clock_in_another_zone_is_read_in_utc(store):
    paris = datetime(2026, 1, 1, 14, 0, tzinfo=ZoneInfo("Europe/Paris"))
    store.clock = lambda: paris
    [stored] = store.append("a-1", "Thing", [happened()], NO_STREAM)
    assert stored.timestamp == datetime(2026, 1, 1, 13, 0, tzinfo=UTC)
    assert stored.timestamp.utcoffset() == timedelta(0)


# -- retries ------------------------------------------------------------------------------


@pytest.mark.parametrize("expected", [ANY, STREAM_EXISTS])
def test_a_batch_appended_with_a_sentinel_is_retried_with_it(store, expected):
    store.append("a-1", "Thing", [happened("0")], NO_STREAM)
    batch = [happened("1"), happened("2")]
    first = store.append("a-1", "Thing", batch, expected)
    store.append("a-1", "Thing", [happened("3")], ANY)
    assert store.append("a-1", "Thing", batch, expected) == first
    assert store.aggregate_version("a-1") == 4


def test_stored_ids_under_other_types_or_beside_new_ids_are_not_a_retry(store):
    one, two = happened("1"), happened("2")
    [first, _second] = store.append("a-1", "Thing", [one, two], NO_STREAM)
    other_type = NewEvent("contract.Counted", {"count": 2}, event_id=two.event_id)
    new_id = happened("new")
    for batch in ([one, other_type], [one, new_id]):
        with pytest.raises(DuplicateEventError) as caught:
            store.append("a-1", "Thing", batch, NO_STREAM)
        assert caught.value.event_id == one.event_id
        assert str(caught.value) == (
            f"Event id {one.event_id} is already stored (aggregate 'a-1', version 1) and "
            "this append is not a retry of that batch."
        )
    assert [e.event_id for e in store.read_all()] == [one.event_id, two.event_id]
    assert first.version == 1


# -- searches -----------------------------------------------------------------------------


def test_a_criteria_argument_is_used_as_given(store):
    store.append("a-1", "Thing", [happened("1")], NO_STREAM)
    store.append("b-1", "Thing", [happened("2"), happened("3")], NO_STREAM)
    criteria = Criteria.build(aggregate_id="b-1")
    assert [e.aggregate_id for e in store.search(criteria)] == ["b-1", "b-1"]
    assert store.count(criteria) == 2
    paged = Criteria.build(aggregate_id="b-1", after_position=2, limit=1)
    assert [e.position for e in store.search(paged)] == [3]
    assert store.count(paged) == 2  # paging ignored


@pytest.mark.parametrize("call", ["search", "count"])
def test_a_criteria_and_keywords_together_are_refused(store, call):
    with pytest.raises(InvalidQueryError) as caught:
        getattr(store, call)(Criteria.build(aggregate_id="a-1"), event_type="contract.Happened")
    assert str(caught.value) == "Give either a Criteria or keyword criteria, not both."


def test_an_aliased_type_finds_its_events_and_no_others(store):
    @event
    class Renamed(DomainEvent, event_type="base.Renamed", aliases=["base.Former"]):
        note: str

    try:
        store.append("a-1", "Thing", [NewEvent("base.Former", {"note": "old"})], NO_STREAM)
        store.append("a-1", "Thing", [Renamed(note="new")], 1)
        store.append("b-1", "Thing", [happened("other")], NO_STREAM)
        assert [e.version for e in store.search(event_type="base.Renamed")] == [1, 2]
        assert store.count(event_type="base.Renamed") == 2
    finally:
        registry.unregister("base.Renamed")


# -- read_by_type -------------------------------------------------------------------------


def test_read_by_type_names_the_naive_end_and_refuses_an_inverted_range(store):
    aware = T0
    naive = T0.replace(tzinfo=None)
    with pytest.raises(InvalidQueryError) as caught:
        store.read_by_type("contract.Happened", naive, aware)
    assert str(caught.value).startswith("start is a naive datetime (")
    with pytest.raises(InvalidQueryError) as caught:
        store.read_by_type("contract.Happened", aware, naive)
    assert str(caught.value).startswith("end is a naive datetime (")
    with pytest.raises(InvalidQueryError) as caught:
        store.read_by_type("contract.Happened", aware + timedelta(seconds=1), aware)
    assert str(caught.value) == "start must not be after end."


def test_read_by_type_pages_with_after_position_and_limit(store):
    store.append("a-1", "Thing", [happened(str(n)) for n in range(5)], NO_STREAM)
    page = store.read_by_type("contract.Happened", T0, T0, after_position=1, limit=2)
    assert [e.position for e in page] == [2, 3]


# -- a backend missing a primitive --------------------------------------------------------


@pytest.mark.parametrize(
    ("call", "primitive"),
    [
        (lambda s: s.append("a-1", "Thing", [happened()], NO_STREAM), "_append"),
        (lambda s: s.read_aggregate("a-1"), "_read_aggregate"),
        (lambda s: s.read_all(), "_read_all"),
        (lambda s: s.aggregate_version("a-1"), "aggregate_version"),
        (lambda s: s.search(), "_search"),
        (lambda s: s.count(), "_count"),
        (lambda s: s.event_type_counts(), "event_type_counts"),
        (lambda s: s.stats(), "stats"),
        (lambda s: s.clear(), "clear"),
        (lambda s: s.get_event(uuid.uuid4()), "get_event"),
        (lambda s: s.last_position(), "last_position"),
        (lambda s: s.identity(), "identity"),
    ],
)
def test_a_backend_without_a_primitive_is_told_which_one(call, primitive):
    class Incomplete(BaseEventStore):
        pass

    with pytest.raises(NotImplementedError) as caught:
        call(Incomplete("incomplete"))
    assert str(caught.value) == f"subclasses of BaseEventStore must provide {primitive}()"


# -- options ------------------------------------------------------------------------------


def test_an_unknown_option_is_refused_naming_the_alias_backend_and_known_options():
    with pytest.raises(InvalidBackendError) as caught:
        BaseEventStore(options={"ZETA": 1, "ALPHA": 2})
    assert str(caught.value) == (
        "EVENTSTORES['default']: unknown option(s) ALPHA, ZETA for BaseEventStore; "
        "known: MAX_EVENT_BYTES."
    )
    with pytest.raises(InvalidBackendError) as caught:
        InMemoryEventStore(f"opts-{uuid.uuid4()}", {"JOURNAL_FSYNK": True})
    assert "unknown option(s) JOURNAL_FSYNK for InMemoryEventStore; known: JOURNAL, " in str(
        caught.value
    )


@pytest.mark.parametrize("value", [0, -1, True, "1024", 1.5])
def test_max_event_bytes_must_be_a_positive_integer(value):
    with pytest.raises(InvalidBackendError) as caught:
        BaseEventStore("sized", {"MAX_EVENT_BYTES": value})
    assert str(caught.value) == (
        "EVENTSTORES['sized']: OPTIONS['MAX_EVENT_BYTES'] must be a positive integer or None, "
        f"got {value!r}."
    )


@pytest.mark.parametrize("value", [1, 2, None])
def test_max_event_bytes_takes_any_positive_integer_or_none(value):
    assert BaseEventStore("sized", {"MAX_EVENT_BYTES": value}).options["MAX_EVENT_BYTES"] == value


# -- append's argument checks -------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            (None, "Thing"),
            "aggregate_id must be a non-empty string of at most 255 characters, got None.",
        ),
        (
            ("", "Thing"),
            "aggregate_id must be a non-empty string of at most 255 characters, got ''.",
        ),
        (
            ("a\x00b", "Thing"),
            "aggregate_id must be a non-empty string of at most 255 characters, got 'a\\x00b'.",
        ),
        (
            ("a-1", None),
            "aggregate_type must be a non-empty string of at most 255 characters, got None.",
        ),
        (
            ("a-1", "Th\x00ing"),
            "aggregate_type must be a non-empty string of at most 255 characters, "
            "got 'Th\\x00ing'.",
        ),
        (
            ("a-1", ""),
            "aggregate_type must be a non-empty string of at most 255 characters, got ''.",
        ),
    ],
)
def test_the_stream_must_be_named(store, args, message):
    with pytest.raises(InvalidEventError) as caught:
        store.append(*args, [happened()], NO_STREAM)
    assert str(caught.value) == message
    assert store.read_all() == []


@pytest.mark.parametrize("events", ["ab", b"ab", frozenset({1}), iter([happened()]), None])
def test_events_must_be_a_list(store, events):
    with pytest.raises(InvalidEventError) as caught:
        store.append("a-1", "Thing", events, NO_STREAM)
    assert str(caught.value) == "events must be a list of events."


def test_an_empty_batch_is_refused(store):
    with pytest.raises(InvalidEventError) as caught:
        store.append("a-1", "Thing", [], NO_STREAM)
    assert str(caught.value) == "An append needs at least one event."


def test_a_bad_event_is_named_by_its_place_in_the_batch(store):
    with pytest.raises(InvalidEventError) as caught:
        store.append("a-1", "Thing", [happened(), NewEvent("base.Unknown", {})], NO_STREAM)
    assert str(caught.value) == "events[1]: event type 'base.Unknown' is not registered."
    with pytest.raises(InvalidEventError) as alone:  # a batch of one too
        store.append("a-1", "Thing", [NewEvent("base.Unknown", {})], NO_STREAM)
    assert str(alone.value) == "events[0]: event type 'base.Unknown' is not registered."


def test_an_id_twice_in_a_batch_is_named(store):
    first, twice = happened("1"), happened("2")
    with pytest.raises(DuplicateEventError) as caught:
        store.append("a-1", "Thing", [first, twice, twice], NO_STREAM)
    assert caught.value.event_id == twice.event_id
    assert str(caught.value) == f"Event id {twice.event_id} appears twice in the batch."
    assert store.read_all() == []


@pytest.mark.parametrize("expected", [-1, True, "1", 1.0, None])
def test_a_bad_expected_version_is_refused(store, expected):
    with pytest.raises(InvalidEventError) as caught:
        store.append("a-1", "Thing", [happened()], expected)
    assert str(caught.value) == (
        f"expected_version must be an int ≥ 0, ANY or STREAM_EXISTS, got {expected!r}."
    )


def test_stream_exists_on_a_missing_stream_names_it(store):
    with pytest.raises(ConcurrencyError) as caught:
        store.append("a-1", "Thing", [happened()], STREAM_EXISTS)
    assert (caught.value.aggregate_id, caught.value.expected_version) == ("a-1", STREAM_EXISTS)
    assert caught.value.actual_version == 0
    assert str(caught.value) == (
        "Concurrency conflict on aggregate 'a-1': expected version STREAM_EXISTS, actual version 0."
    )


def test_count_hands_the_backend_criteria_without_paging():
    class Recording(BaseEventStore):
        def _count(self, criteria):
            self.counted = criteria
            return 0

    recording = Recording("recording")
    recording.count(aggregate_id="a-1", after_position=5, limit=2)
    assert (recording.counted.after_position, recording.counted.limit) == (0, None)
    assert recording.counted.aggregate_ids == frozenset({"a-1"})
    recording.count(Criteria.build(after_position=3, limit=1))
    assert (recording.counted.after_position, recording.counted.limit) == (0, None)
