"""The contract every event store backend keeps, as one reusable test suite.

Subclass :class:`EventStoreContract` (a ``unittest.TestCase``), alone or together with
one of Django's test case classes, and implement :meth:`~EventStoreContract.create_store`::

    class InMemoryContractTests(EventStoreContract, SimpleTestCase):
        def create_store(self):
            store = InMemoryEventStore("contract")
            store.clear()
            return store

Expected values in these tests are worked out by hand from the contract in
DESIGN.md, not taken from any backend's output.
"""

from __future__ import annotations

import abc
import copy
import sys
import threading
import time
import unittest
import uuid
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any, ClassVar

from django.db import connections

from ..backends.base import BaseEventStore
from ..events import DomainEvent, EventRegistry, event, registry
from ..exceptions import (
    ConcurrencyError,
    DuplicateEventError,
    InvalidEventError,
    InvalidQueryError,
    UnknownEventTypeError,
)
from ..integrity import ChainError, verify_store
from ..records import ANY, NO_STREAM, STREAM_EXISTS, NewEvent, RecordedEvent
from . import EventRecorder, ManualClock
from .privacy_contract import PrivacyContract
from .tamper import Tamper

__all__ = ["EventStoreContract", "ContractHappened", "ContractCounted"]


@event
class ContractHappened(DomainEvent, event_type="contract.Happened"):
    """Test event: something happened, with a note."""

    note: str


@event
class ContractCounted(DomainEvent, event_type="contract.Counted"):
    """Test event: a count and an exact amount."""

    count: int
    amount: Decimal = Decimal("0")


T0 = datetime(2024, 3, 1, 12, 0, tzinfo=UTC)


def happened(note: str = "x", **envelope: Any) -> NewEvent:
    return NewEvent(event_type="contract.Happened", data={"note": note}, **envelope)


def positions(events: Sequence[RecordedEvent]) -> list[int]:
    """The positions of ``events``, in order (for compact assertions)."""
    return [event.position for event in events]


def minute(number: int) -> datetime:
    """``number`` minutes after :data:`T0`."""
    return T0 + timedelta(minutes=number)


class EventStoreContract(PrivacyContract, unittest.TestCase):
    """Backend-agnostic tests: subclass and implement :meth:`create_store`.

    The base class itself is abstract: its tests are collected (``__test__``) only on
    subclasses that implement ``create_store``, and skipped if run on the base anyway.
    """

    __test__: ClassVar[bool] = False
    store: BaseEventStore

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "__test__" not in cls.__dict__:  # a subclass may still opt out explicitly
            cls.__test__ = not getattr(cls.create_store, "__isabstractmethod__", False)

    #: Changes stored events behind the store's back (see :mod:`eventstore.testing.tamper`).
    tamper: ClassVar[Tamper]

    @abc.abstractmethod
    def create_store(self) -> BaseEventStore:
        """Return a new, empty store of the backend under test."""
        raise NotImplementedError("EventStoreContract subclasses must provide create_store()")

    def thread(self, target: Any, *args: Any) -> threading.Thread:
        """Return a thread running ``target(*args)`` that closes its database connections."""

        def run() -> None:
            try:
                target(*args)
            finally:
                connections.close_all()

        return threading.Thread(target=run)

    def setUp(self) -> None:
        if getattr(type(self).create_store, "__isabstractmethod__", False):
            self.skipTest("EventStoreContract is abstract: subclass it with create_store()")
        super().setUp()
        self.store = self.create_store()
        self.clock = ManualClock(T0)
        self.store.clock = self.clock

    # -- append and expected version ---------------------------------------------------------

    def test_append_assigns_versions_and_positions_from_one(self) -> None:
        first = self.store.append("a-1", "Thing", [happened("1"), happened("2")], NO_STREAM)
        second = self.store.append("b-1", "Thing", [happened("3")], NO_STREAM)
        third = self.store.append("a-1", "Thing", [happened("4")], 2)
        self.assertEqual([e.version for e in first + third], [1, 2, 3])
        self.assertEqual(second[0].version, 1)
        self.assertEqual([e.position for e in first + second + third], [1, 2, 3, 4])
        self.assertEqual(first[0].timestamp, T0)
        self.assertEqual(self.store.aggregate_version("a-1"), 3)
        self.assertEqual(self.store.aggregate_version("nobody"), 0)

    def test_wrong_expected_version_behind_raises_with_details(self) -> None:
        self.store.append("a-1", "Thing", [happened(), happened()], NO_STREAM)
        with self.assertRaises(ConcurrencyError) as caught:
            self.store.append("a-1", "Thing", [happened()], 1)
        self.assertEqual(
            (caught.exception.aggregate_id, caught.exception.expected_version), ("a-1", 1)
        )
        self.assertEqual(caught.exception.actual_version, 2)
        with self.assertRaises(ConcurrencyError) as batch:  # a batch is checked alike
            self.store.append("a-1", "Thing", [happened(), happened()], 1)
        self.assertEqual((batch.exception.aggregate_id, batch.exception.actual_version), ("a-1", 2))
        self.assertEqual(len(self.store.read_aggregate("a-1")), 2)

    def test_wrong_expected_version_ahead_raises(self) -> None:
        self.store.append("a-1", "Thing", [happened()], NO_STREAM)
        with self.assertRaises(ConcurrencyError) as caught:
            self.store.append("a-1", "Thing", [happened()], 5)
        self.assertEqual(
            (caught.exception.expected_version, caught.exception.actual_version), (5, 1)
        )

    def test_no_stream_refuses_an_existing_stream(self) -> None:
        self.store.append("a-1", "Thing", [happened()], NO_STREAM)
        with self.assertRaises(ConcurrencyError):
            self.store.append("a-1", "Thing", [happened()], NO_STREAM)

    def test_any_skips_the_check(self) -> None:
        self.store.append("a-1", "Thing", [happened()], ANY)
        records = self.store.append("a-1", "Thing", [happened()], ANY)
        self.assertEqual(records[0].version, 2)

    def test_stream_exists_requires_an_event(self) -> None:
        with self.assertRaises(ConcurrencyError) as caught:
            self.store.append("a-1", "Thing", [happened()], STREAM_EXISTS)
        self.assertEqual(caught.exception.actual_version, 0)
        self.store.append("a-1", "Thing", [happened()], NO_STREAM)
        self.assertEqual(
            self.store.append("a-1", "Thing", [happened()], STREAM_EXISTS)[0].version, 2
        )

    def test_bad_expected_version_values_are_refused(self) -> None:
        bad_values: tuple[Any, ...] = (-1, "1", 1.0, None, True)  # wrong on purpose
        for bad in bad_values:
            with self.subTest(bad=bad), self.assertRaises(InvalidEventError):
                self.store.append("a-1", "Thing", [happened()], bad)

    def test_two_writers_with_the_same_expected_version_one_wins(self) -> None:
        self.store.append("a-1", "Thing", [happened("start")], NO_STREAM)
        barrier = threading.Barrier(2)
        outcomes: list[str] = []

        def write(note: str) -> None:
            barrier.wait()
            try:
                self.store.append("a-1", "Thing", [happened(note)], 1)
                outcomes.append(note)
            except ConcurrencyError:
                outcomes.append("conflict")

        threads = [self.thread(write, n) for n in ("left", "right")]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        self.assertEqual(sorted(outcomes)[0], "conflict")
        winner = next(o for o in outcomes if o != "conflict")
        self.assertEqual(
            [e.data["note"] for e in self.store.read_aggregate("a-1")], ["start", winner]
        )

    def test_a_stream_keeps_its_aggregate_type(self) -> None:
        self.store.append("a-1", "Thing", [happened()], NO_STREAM)
        for events in ([happened()], [happened(), happened()]):
            with self.subTest(events=len(events)), self.assertRaises(InvalidEventError) as caught:
                self.store.append("a-1", "Other", events, 1)
            self.assertEqual(str(caught.exception), "Aggregate 'a-1' is a Thing, not a Other.")
        self.assertEqual(self.store.last_position(), 1)

    # -- atomic batches ------------------------------------------------------------------

    def test_a_batch_with_one_bad_event_stores_nothing(self) -> None:
        self.store.append("a-1", "Thing", [happened("ok")], NO_STREAM)
        bad_batches = [
            [happened("fine"), NewEvent(event_type="contract.Happened", data={"x": {1, 2}})],
            [happened("fine"), NewEvent(event_type="no.such.Type", data={})],
            [happened("fine"), happened("naive", timestamp=datetime(2024, 1, 1))],  # noqa: DTZ001
            [happened("fine"), NewEvent(event_type="contract.Happened", data={"n": float("nan")})],
            [happened("fine"), NewEvent(event_type="contract.Happened", data=[1, 2])],  # type: ignore[arg-type]  # not a mapping, on purpose
        ]
        for batch in bad_batches:
            with self.subTest(batch=batch), self.assertRaises(InvalidEventError):
                self.store.append("a-1", "Thing", batch, 1)
        self.assertEqual(len(self.store.read_all()), 1)
        later = self.store.append("b-1", "Thing", [happened()], NO_STREAM)
        self.assertEqual(later[0].position, 2)

    def test_an_oversized_event_is_refused(self) -> None:
        limit = self.store.options["MAX_EVENT_BYTES"]
        with self.assertRaises(InvalidEventError):
            self.store.append("a-1", "Thing", [happened("é" * limit)], NO_STREAM)
        self.assertEqual(self.store.read_all(), [])

    def test_text_without_a_utf8_form_is_refused_everywhere(self) -> None:
        lone = "x\ud800"  # a lone surrogate: no UTF-8 form (RFC 3629 §3)
        attempts: dict[str, Callable[[], object]] = {
            "data": lambda: self.store.append("a-1", "Thing", [happened(lone)], NO_STREAM),
            "data key": lambda: self.store.append(
                "a-1", "Thing", [NewEvent("contract.Happened", {lone: "v"})], NO_STREAM
            ),
            "metadata": lambda: self.store.append(
                "a-1", "Thing", [happened()], NO_STREAM, metadata={"user_id": lone}
            ),
            "aggregate id": lambda: self.store.append(lone, "Thing", [happened()], NO_STREAM),
            "aggregate type": lambda: self.store.append("a-1", lone, [happened()], NO_STREAM),
            "correlation id": lambda: self.store.append(
                "a-1", "Thing", [happened()], NO_STREAM, correlation_id=lone
            ),
            "causation id": lambda: self.store.append(
                "a-1", "Thing", [happened()], NO_STREAM, causation_id=lone
            ),
        }
        for where, attempt in attempts.items():
            with self.subTest(where=where), self.assertRaises(InvalidEventError) as caught:
                attempt()
            self.assertIn("U+D800", str(caught.exception))
        self.assertEqual(self.store.read_all(), [])
        stored = self.store.append("a-1", "Thing", [happened("emoji 😀 and é")], NO_STREAM)
        self.assertEqual(self.store.read_aggregate("a-1")[0].data["note"], "emoji 😀 and é")
        self.assertEqual(stored[0].position, 1)

    def test_data_that_does_not_fit_its_registered_class_is_refused(self) -> None:
        misfits: dict[str, dict[str, Any]] = {
            "missing field": {"amount": "1.00"},
            "int as text": {"count": "7"},
            "bool as int": {"count": True},
            "malformed decimal": {"count": 1, "amount": "1,50"},
            "list as decimal": {"count": 1, "amount": [1]},
        }
        for case, data in misfits.items():
            with self.subTest(case=case), self.assertRaises(InvalidEventError) as caught:
                self.store.append("a-1", "Thing", [NewEvent("contract.Counted", data)], NO_STREAM)
            self.assertIn("contract.Counted", str(caught.exception))
        with self.assertRaises(InvalidEventError):
            self.store.append("a-1", "Thing", [NewEvent("contract.Happened", {"note": 5})], 0)
        self.assertEqual(self.store.read_all(), [])
        fits = NewEvent("contract.Counted", {"count": 7, "amount": "1.50", "extra": "kept"})
        stored = self.store.append("a-1", "Thing", [fits], NO_STREAM)[0]
        self.assertEqual(stored.to_event(), ContractCounted(count=7, amount=Decimal("1.50")))
        self.assertEqual(stored.data["extra"], "kept")

    def test_an_empty_batch_is_refused(self) -> None:
        with self.assertRaises(InvalidEventError):
            self.store.append("a-1", "Thing", [], NO_STREAM)

    def test_readers_never_see_part_of_a_batch(self) -> None:
        stop = threading.Event()
        torn: list[int] = []

        def read() -> None:
            while not stop.is_set():
                count = len(self.store.read_all())
                if count % 5:
                    torn.append(count)

        reader = self.thread(read)
        reader.start()
        try:
            for number in range(200):
                batch = [happened(str(i)) for i in range(5)]
                self.store.append(f"a-{number}", "Thing", batch, NO_STREAM)
        finally:
            stop.set()
            reader.join()
        self.assertEqual(torn, [])
        self.assertEqual(len(self.store.read_all()), 1000)

    # -- idempotent retries ------------------------------------------------------------------

    def test_retrying_a_batch_returns_the_original_and_stores_nothing(self) -> None:
        recorder = EventRecorder().connect()
        try:
            batch = [happened("1"), happened("2")]
            first = self.store.append("a-1", "Thing", batch, NO_STREAM)
            again = self.store.append("a-1", "Thing", batch, NO_STREAM)
        finally:
            recorder.disconnect()
        self.assertEqual(again, first)
        self.assertEqual(len(self.store.read_all()), 2)
        self.assertEqual(len(recorder.batches), 1)

    def test_retrying_a_one_event_append_returns_the_original_and_publishes_nothing(
        self,
    ) -> None:
        events = [happened("1"), happened("2"), happened("3")]
        stored = [
            self.store.append("a-1", "Thing", [event], version)[0]
            for version, event in enumerate(events)
        ]
        recorder = EventRecorder().connect()
        try:
            again = self.store.append("a-1", "Thing", [events[1]], 1)  # version 2's event
        finally:
            recorder.disconnect()
        self.assertEqual(again, [stored[1]])
        self.assertEqual(recorder.batches, [])
        self.assertEqual(self.store.last_position(), 3)

    def test_retrying_with_any_or_stream_exists_returns_the_original(self) -> None:
        self.store.append("a-1", "Thing", [happened("0")], NO_STREAM)
        for expected in (ANY, STREAM_EXISTS):
            with self.subTest(expected=expected):
                batch = [happened("1"), happened("2")]
                first = self.store.append("a-1", "Thing", batch, expected)
                recorder = EventRecorder().connect()
                try:
                    again = self.store.append("a-1", "Thing", batch, expected)
                finally:
                    recorder.disconnect()
                self.assertEqual(again, first)
                self.assertEqual(recorder.batches, [])
        self.assertEqual(self.store.last_position(), 5)

    def test_retrying_an_earlier_batch_returns_it_after_later_appends(self) -> None:
        batch = [happened("1"), happened("2")]
        first = self.store.append("a-1", "Thing", batch, NO_STREAM)
        self.store.append("a-1", "Thing", [happened("3"), happened("4")], 2)
        self.assertEqual(self.store.append("a-1", "Thing", batch, NO_STREAM), first)
        self.assertEqual(self.store.aggregate_version("a-1"), 4)

    def test_refusals_name_the_event_and_the_stream(self) -> None:
        stored = happened("1")
        self.store.append("a-1", "Thing", [stored], NO_STREAM)
        with self.assertRaises(DuplicateEventError) as caught:
            self.store.append("b-1", "Thing", [happened("2"), stored], NO_STREAM)
        self.assertEqual(caught.exception.event_id, stored.event_id)
        with self.assertRaises(InvalidEventError) as refused:
            self.store.append("a-1", "Other", [happened("3")], 1)
        self.assertEqual(str(refused.exception), "Aggregate 'a-1' is a Thing, not a Other.")

    def test_an_event_id_stored_elsewhere_is_a_duplicate(self) -> None:
        stored = happened("1")
        self.store.append("a-1", "Thing", [stored], NO_STREAM)
        with self.assertRaises(DuplicateEventError):
            self.store.append("b-1", "Thing", [stored], NO_STREAM)
        with self.assertRaises(DuplicateEventError):
            self.store.append("a-1", "Thing", [happened("2"), stored], 1)
        with self.assertRaises(DuplicateEventError):
            self.store.append("a-1", "Thing", [stored], 1)
        same = happened("3")
        with self.assertRaises(DuplicateEventError):
            self.store.append("c-1", "Thing", [same, same], NO_STREAM)
        self.assertEqual(len(self.store.read_all()), 1)

    # -- immutability --------------------------------------------------------------------

    def test_mutating_what_was_appended_changes_nothing(self) -> None:
        data: dict[str, Any] = {"note": "original", "items": [1, 2]}
        metadata = {"organization_id": "acme"}
        self.store.append(
            "a-1", "Thing", [NewEvent("contract.Happened", data, metadata=metadata)], NO_STREAM
        )
        data["note"] = "changed"
        data["items"].append(3)
        metadata["organization_id"] = "evil"
        stored = self.store.read_aggregate("a-1")[0]
        self.assertEqual(stored.data, {"note": "original", "items": [1, 2]})
        self.assertEqual(stored.metadata, {"organization_id": "acme"})

    def test_mutating_what_a_read_returned_changes_nothing(self) -> None:
        self.store.append(
            "a-1", "Thing", [NewEvent("contract.Happened", {"note": "n", "items": [1]})], NO_STREAM
        )
        read = self.store.read_aggregate("a-1")
        read[0].data["note"] = "changed"
        read[0].data["items"].append(2)
        read[0].metadata["user_id"] = "evil"
        read.clear()
        again = self.store.read_aggregate("a-1")[0]
        self.assertEqual(again.data, {"note": "n", "items": [1]})
        self.assertEqual(again.metadata, {})
        with self.assertRaises(AttributeError):
            again.version = 9  # type: ignore[misc]

    # -- reads ---------------------------------------------------------------------------

    def test_read_aggregate_from_and_to_version(self) -> None:
        self.store.append("a-1", "Thing", [happened(str(n)) for n in range(1, 6)], NO_STREAM)
        self.assertEqual([e.version for e in self.store.read_aggregate("a-1", 3)], [3, 4, 5])
        self.assertEqual([e.version for e in self.store.read_aggregate("a-1", 2, 3)], [2, 3])
        self.assertEqual(self.store.read_aggregate("a-1", 6), [])
        self.assertEqual(self.store.read_aggregate("unknown"), [])
        self.assertEqual(self.store.read_aggregate("a-1", 3, 2), [])
        self.assertEqual(self.store.read_aggregate("a-1", 1, 0), [])
        self.assertEqual([e.version for e in self.store.read_aggregate("a-1", 5, 9)], [5])

    def test_read_bounds_below_their_minimum_are_refused(self) -> None:
        self.store.append("a-1", "Thing", [happened("1"), happened("2")], NO_STREAM)
        refused: dict[str, Callable[[], object]] = {
            "from_version 0": lambda: self.store.read_aggregate("a-1", 0),
            "from_version -1": lambda: self.store.read_aggregate("a-1", -1),
            "to_version -1": lambda: self.store.read_aggregate("a-1", 1, -1),
            "from_version True": lambda: self.store.read_aggregate("a-1", True),
            "from_version '1'": lambda: self.store.read_aggregate("a-1", "1"),  # type: ignore[arg-type]
            "after_position -1": lambda: self.store.read_all(-1),
            "limit -1": lambda: self.store.read_all(0, -1),
            "limit 1.5": lambda: self.store.read_all(0, 1.5),  # type: ignore[arg-type]
        }
        for case, read in refused.items():
            with self.subTest(case=case), self.assertRaises(InvalidQueryError):
                read()
        self.assertEqual([e.version for e in self.store.read_all(0, 0)], [])

    def test_read_all_pages_return_each_event_once(self) -> None:
        for number in range(7):
            self.store.append(f"a-{number}", "Thing", [happened(str(number))], NO_STREAM)
        seen: list[int] = []
        position = 0
        while page := self.store.read_all(after_position=position, limit=3):
            seen.extend(e.position for e in page)
            position = page[-1].position
        self.assertEqual(seen, [1, 2, 3, 4, 5, 6, 7])
        self.assertEqual(self.store.last_position(), 7)

    def test_paging_while_writers_append_returns_each_event_once(self) -> None:
        writers_done = threading.Event()

        def write(index: int) -> None:
            for number in range(100):
                self.store.append(f"w{index}-{number}", "Thing", [happened(), happened()], 0)

        writers = [self.thread(write, i) for i in range(3)]
        for writer in writers:
            writer.start()
        seen: list[int] = []
        position = 0
        while True:
            page = self.store.read_all(after_position=position, limit=7)
            if page:
                seen.extend(e.position for e in page)
                position = page[-1].position
            elif writers_done.is_set():
                break
            elif not any(writer.is_alive() for writer in writers):
                writers_done.set()  # one more read after the last write
            else:
                time.sleep(0.001)  # poll like a catch-up reader, leaving room to writers
        for writer in writers:
            writer.join()
        self.assertEqual(seen, list(range(1, 601)))

    def test_read_by_type_time_range_is_inclusive_at_both_ends(self) -> None:
        for minute in range(5):  # events at 12:00, 12:01, ..., 12:04
            self.clock.set(T0 + timedelta(minutes=minute))
            self.store.append(f"a-{minute}", "Thing", [happened(str(minute))], NO_STREAM)
            self.store.append(f"c-{minute}", "Thing", [ContractCounted(count=minute)], NO_STREAM)
        found = self.store.read_by_type(
            "contract.Happened", T0 + timedelta(minutes=1), T0 + timedelta(minutes=3)
        )
        self.assertEqual([e.data["note"] for e in found], ["1", "2", "3"])
        paris = timezone(timedelta(hours=1))
        same_range = self.store.read_by_type(
            "contract.Happened",
            datetime(2024, 3, 1, 13, 1, tzinfo=paris),
            datetime(2024, 3, 1, 13, 3, tzinfo=paris),
        )
        self.assertEqual(same_range, found)
        both = self.store.read_by_type(["contract.Happened", "contract.Counted"], T0, T0)
        self.assertEqual([e.position for e in both], [1, 2])

    def test_time_ranges_refuse_naive_datetimes(self) -> None:
        with self.assertRaises(InvalidQueryError):
            self.store.read_by_type("contract.Happened", datetime(2024, 1, 1))  # noqa: DTZ001
        with self.assertRaises(InvalidQueryError):
            self.store.search(timestamp__lte=datetime(2024, 1, 1))  # noqa: DTZ001

    def test_start_after_end_is_refused(self) -> None:
        with self.assertRaises(InvalidQueryError):
            self.store.read_by_type("contract.Happened", T0, T0 - timedelta(seconds=1))

    def test_results_stay_right_with_timestamps_out_of_append_order(self) -> None:
        late = T0 + timedelta(days=2)
        early = T0 - timedelta(days=2)
        self.store.append("a-1", "Thing", [happened("late", timestamp=late)], NO_STREAM)
        self.store.append("a-2", "Thing", [happened("early", timestamp=early)], NO_STREAM)
        self.store.append("a-3", "Thing", [happened("middle")], NO_STREAM)
        window = self.store.read_by_type("contract.Happened", early, T0)
        self.assertEqual([e.data["note"] for e in window], ["early", "middle"])
        everything = self.store.search(timestamp__gte=early)
        self.assertEqual([e.position for e in everything], [1, 2, 3])
        self.assertEqual(self.store.count(timestamp__lt=T0), 1)

    def test_time_searches_stay_right_as_events_follow_an_out_of_order_import(self) -> None:
        # Positions 1, 2, 3 stamped 12:01, 12:00 (an import, earlier), 12:02.
        for number, stamp in enumerate([minute(1), minute(0), minute(2)], start=1):
            event = happened(str(number), timestamp=stamp)
            self.store.append(f"a-{number}", "Thing", [event], NO_STREAM)
        self.assertEqual(positions(self.store.search(timestamp__gte=minute(0))), [1, 2, 3])
        self.assertEqual(self.store.count(timestamp__gt=minute(0)), 2)
        self.store.append("a-4", "Thing", [happened("4", timestamp=minute(3))], NO_STREAM)
        self.assertEqual(positions(self.store.search(timestamp__gte=minute(1))), [1, 3, 4])
        self.assertEqual(self.store.count(timestamp__gt=minute(0)), 3)
        self.assertEqual(positions(self.store.search(timestamp__lte=minute(1))), [1, 2])

    def test_type_and_time_searches_stay_right_after_out_of_order_imports(self) -> None:
        for number in range(4):  # events of another type inside the window
            counted = NewEvent("contract.Counted", {"count": number}, timestamp=minute(number))
            self.store.append(f"c-{number}", "Thing", [counted], NO_STREAM)
        for name, stamp in [("late", minute(10)), ("early", minute(-10)), ("middle", minute(1))]:
            self.store.append(name, "Thing", [happened(name, timestamp=stamp)], NO_STREAM)
        window = self.store.read_by_type("contract.Happened", minute(-10), minute(2))
        self.assertEqual([e.data["note"] for e in window], ["early", "middle"])
        self.assertEqual(
            self.store.count(event_type="contract.Happened", timestamp__lte=minute(2)), 2
        )

    def test_a_stream_s_timestamps_never_decrease(self) -> None:
        self.store.append("a-1", "Thing", [happened("1")], NO_STREAM)
        self.clock.set(T0 - timedelta(hours=1))  # the clock is stepped back
        later = self.store.append("a-1", "Thing", [happened("2"), happened("3")], 1)
        self.assertEqual([e.timestamp for e in later], [T0, T0])
        other = self.store.append("b-1", "Thing", [happened()], NO_STREAM)[0]
        self.assertEqual(other.timestamp, T0 - timedelta(hours=1))  # other streams: the clock
        with self.assertRaises(InvalidEventError) as caught:
            self.store.append("a-1", "Thing", [happened(timestamp=T0 - timedelta(seconds=1))], 3)
        self.assertIn("never decrease", str(caught.exception))
        with self.assertRaises(InvalidEventError):  # within one batch too
            self.store.append(
                "c-1",
                "Thing",
                [happened(timestamp=T0), happened(timestamp=T0 - timedelta(microseconds=1))],
                NO_STREAM,
            )
        same = self.store.append("a-1", "Thing", [happened(timestamp=T0)], 3)[0]
        self.assertEqual((same.version, same.timestamp), (4, T0))
        self.assertEqual(self.store.last_position(), 5)
        equal = [happened(timestamp=T0), happened(timestamp=T0)]  # equal times: never earlier
        stamped = self.store.append("a-1", "Thing", equal, 4)
        self.assertEqual([e.timestamp for e in stamped], [T0, T0])

    def test_read_by_correlation_and_causation(self) -> None:
        self.store.append("a-1", "Thing", [happened("1")], NO_STREAM, correlation_id="req-1")
        self.store.append("b-1", "Thing", [happened("2")], NO_STREAM, correlation_id="req-2")
        caused = self.store.append(
            "c-1", "Thing", [happened("3")], NO_STREAM, correlation_id="req-1", causation_id="cmd-9"
        )
        self.assertEqual(
            [e.data["note"] for e in self.store.read_by_correlation("req-1")], ["1", "3"]
        )
        self.assertEqual(self.store.read_by_causation("cmd-9"), caused)
        self.assertEqual(self.store.read_by_correlation("nope"), [])

    def test_many_events_of_one_correlation_and_cause(self) -> None:
        for number in range(10):
            self.store.append(
                f"a-{number}",
                "Thing",
                [happened(str(number))],
                NO_STREAM,
                correlation_id="req-many",
                causation_id="cmd-many",
            )

        def notes(events: list[RecordedEvent]) -> list[str]:
            return [e.data["note"] for e in events]

        every = [str(number) for number in range(10)]
        self.assertEqual(notes(self.store.read_by_correlation("req-many")), every)
        self.assertEqual(notes(self.store.read_by_causation("cmd-many")), every)
        self.assertEqual(self.store.count(correlation_id="req-many"), 10)

    def test_event_envelope_overrides_batch_values(self) -> None:
        records = self.store.append(
            "a-1",
            "Thing",
            [happened("1", correlation_id="own", metadata={"user_id": "u2"}), happened("2")],
            NO_STREAM,
            correlation_id="batch",
            metadata={"user_id": "u1", "organization_id": "acme"},
        )
        self.assertEqual([r.correlation_id for r in records], ["own", "batch"])
        self.assertEqual(records[0].metadata, {"user_id": "u2", "organization_id": "acme"})

    def test_each_event_keeps_its_causation_id(self) -> None:
        records = self.store.append(
            "a-1",
            "Thing",
            [happened("1", causation_id="own"), happened("2"), happened("3", causation_id="req")],
            NO_STREAM,
            correlation_id="req",
            causation_id="cmd-1",
        )
        one = self.store.append(
            "b-1", "Thing", [happened("4")], NO_STREAM, correlation_id="req", causation_id="req"
        )
        expected = [("req", "own"), ("req", "cmd-1"), ("req", "req"), ("req", "req")]
        self.assertEqual([(r.correlation_id, r.causation_id) for r in records + one], expected)
        stored = self.store.read_all()
        self.assertEqual([(r.correlation_id, r.causation_id) for r in stored], expected)

    # -- search --------------------------------------------------------------------------

    def _search_fixture(self) -> None:
        rows = [
            ("p-1", "Payment", "acme", "u1", {"note": "Café crème"}),
            ("p-2", "Payment", "globex", "u2", {"note": "ПЛАТЁЖ за услуги"}),
            ("p-3", "Payment", "acme", "u2", {"note": "100% sure_thing"}),
            ("o-1", "Order", "acme", "u1", {"note": "Hauptstraße 5", "region": "eu"}),
        ]
        for minute, (aggregate_id, aggregate_type, org, user, data) in enumerate(rows):
            self.clock.set(T0 + timedelta(minutes=minute))
            self.store.append(
                aggregate_id,
                aggregate_type,
                [NewEvent("contract.Happened", data)],
                NO_STREAM,
                metadata={"organization_id": org, "user_id": user, "channel": f"c{minute % 2}"},
                correlation_id=f"corr-{minute % 2}",
            )

    def test_search_equality_lists_and_metadata(self) -> None:
        self._search_fixture()
        ids: Callable[[list[RecordedEvent]], list[str]] = lambda events: [  # noqa: E731
            e.aggregate_id for e in events
        ]
        self.assertEqual(ids(self.store.search(aggregate_type="Payment")), ["p-1", "p-2", "p-3"])
        self.assertEqual(ids(self.store.search(aggregate_id=["p-3", "o-1"])), ["p-3", "o-1"])
        self.assertEqual(ids(self.store.search(organization_id="acme")), ["p-1", "p-3", "o-1"])
        self.assertEqual(ids(self.store.search(organization_id="acme", user_id="u2")), ["p-3"])
        self.assertEqual(ids(self.store.search(metadata={"channel": "c1"})), ["p-2", "o-1"])
        self.assertEqual(
            ids(self.store.search(aggregate_type="Payment", correlation_id="corr-0")),
            ["p-1", "p-3"],
        )
        self.assertEqual(self.store.search(metadata={"missing": "x"}), [])

    def test_criteria_of_every_kind_apply_together(self) -> None:
        self._search_fixture()
        ids: Callable[[list[RecordedEvent]], list[str]] = lambda events: [  # noqa: E731
            e.aggregate_id for e in events
        ]
        # Each pair: the second criterion alone would also match another event.
        self.assertEqual(
            ids(self.store.search(aggregate_type="Order", correlation_id="corr-1")), ["o-1"]
        )
        self.assertEqual(
            ids(self.store.search(aggregate_type="Payment", metadata={"channel": "c1"})), ["p-2"]
        )
        self.assertEqual(ids(self.store.search(aggregate_type="Payment", text="eu")), [])
        self.assertEqual(ids(self.store.search(aggregate_type="Payment", text="e")), ["p-1", "p-3"])
        # A list of accepted values may mix JSON types.
        self.assertEqual(ids(self.store.search(metadata={"channel": ["c1", 2]})), ["p-2", "o-1"])

    def test_search_ranges_on_version_position_and_timestamp(self) -> None:
        self._search_fixture()
        self.assertEqual(
            [e.position for e in self.store.search(position__gt=1, position__lte=3)], [2, 3]
        )
        self.assertEqual(len(self.store.search(version__gte=2)), 0)
        self.assertEqual(
            [
                e.position
                for e in self.store.search(
                    timestamp__gt=T0, timestamp__lt=T0 + timedelta(minutes=3)
                )
            ],
            [2, 3],
        )

    def test_search_text_is_case_insensitive_unicode_and_literal(self) -> None:
        self._search_fixture()
        ids: Callable[[list[RecordedEvent]], list[str]] = lambda events: [  # noqa: E731
            e.aggregate_id for e in events
        ]
        self.assertEqual(ids(self.store.search(text="CAFÉ")), ["p-1"])
        self.assertEqual(ids(self.store.search(text="платёж")), ["p-2"])
        self.assertEqual(ids(self.store.search(text="100%")), ["p-3"])
        self.assertEqual(ids(self.store.search(text="_")), ["p-3"])
        self.assertEqual(self.store.search(text="%"), self.store.search(text="100% "))
        self.assertEqual(self.store.search(text="*"), [])
        self.assertEqual(self.store.search(text="note"), [])  # keys are not text
        self.assertEqual(ids(self.store.search(text="eu")), ["o-1"])
        self.assertEqual(ids(self.store.search(text="HAUPTSTRASSE")), ["o-1"])  # ß casefolds to ss

    def test_search_pages_and_counts(self) -> None:
        self._search_fixture()
        first = self.store.search(organization_id="acme", limit=2)
        rest = self.store.search(organization_id="acme", after_position=first[-1].position)
        self.assertEqual([e.aggregate_id for e in first + rest], ["p-1", "p-3", "o-1"])
        self.assertEqual(self.store.count(organization_id="acme"), 3)
        self.assertEqual(self.store.count(organization_id="acme", text="café"), 1)
        self.assertEqual(self.store.count(), 4)
        self.assertEqual(self.store.search(limit=0), [])

    def _paging_fixture(self) -> None:
        """Eight one-event aggregates, one a minute from T0: types H C H C H C H C."""
        for minute in range(8):
            self.clock.set(T0 + timedelta(minutes=minute))
            event = happened(str(minute)) if minute % 2 == 0 else ContractCounted(count=minute)
            self.store.append(f"a-{minute}", "Paged", [event], NO_STREAM)

    def test_after_position_is_exclusive_and_limit_caps_every_kind_of_query(self) -> None:
        self._paging_fixture()
        both = ["contract.Happened", "contract.Counted"]
        end = T0 + timedelta(minutes=7)
        queries: dict[
            str, dict[str, Any]
        ] = {  # each matches every event: the paging must not depend on the index used
            "nothing": {},
            "aggregate type": {"aggregate_type": "Paged"},
            "type list": {"event_type": both},
            "time range": {"timestamp__gte": T0, "timestamp__lte": end},
            "types and time": {"event_type": both, "timestamp__gte": T0, "timestamp__lte": end},
            "position": {"position__gte": 1},
        }
        for name, criteria in queries.items():
            with self.subTest(query=name):
                self.assertEqual(positions(self.store.search(**criteria)), [1, 2, 3, 4, 5, 6, 7, 8])
                self.assertEqual(
                    positions(self.store.search(**criteria, after_position=2, limit=3)), [3, 4, 5]
                )
                self.assertEqual(positions(self.store.search(**criteria, after_position=7)), [8])
                self.assertEqual(self.store.search(**criteria, after_position=8), [])
                self.assertEqual(positions(self.store.search(**criteria, limit=1)), [1])
                self.assertEqual(
                    positions(self.store.search(**criteria, after_position=5, limit=10)), [6, 7, 8]
                )
                self.assertEqual(self.store.count(**criteria, after_position=5, limit=1), 8)
                pages, after = [], 0
                while page := self.store.search(**criteria, after_position=after, limit=3):
                    pages.append(positions(page))
                    after = page[-1].position
                self.assertEqual(pages, [[1, 2, 3], [4, 5, 6], [7, 8]])
        self.assertEqual(positions(self.store.read_all(after_position=3, limit=2)), [4, 5])
        self.assertEqual(positions(self.store.read_all(after_position=6)), [7, 8])
        self.assertEqual(self.store.read_all(after_position=8), [])
        self.assertEqual(self.store.read_all(limit=0), [])

    def test_paging_a_filtered_query_counts_matching_events_only(self) -> None:
        self._paging_fixture()
        counted = {"event_type": "contract.Counted"}  # positions 2, 4, 6, 8
        self.assertEqual(positions(self.store.search(**counted, limit=2)), [2, 4])
        self.assertEqual(positions(self.store.search(**counted, after_position=2, limit=2)), [4, 6])
        self.assertEqual(positions(self.store.search(**counted, after_position=3)), [4, 6, 8])
        self.assertEqual(positions(self.store.search(**counted, after_position=4)), [6, 8])
        later = {"timestamp__gte": T0 + timedelta(minutes=3)}  # positions 4..8
        self.assertEqual(positions(self.store.search(**later, after_position=5, limit=2)), [6, 7])
        self.assertEqual(positions(self.store.search(**later, after_position=1, limit=2)), [4, 5])
        self.assertEqual(
            positions(self.store.read_by_type("contract.Happened", after_position=3, limit=2)),
            [5, 7],
        )

    def test_time_bounds_are_inclusive_at_both_ends_and_strict_ones_exclusive(self) -> None:
        self._paging_fixture()
        for types in (None, ["contract.Happened", "contract.Counted"]):
            typed: dict[str, Any] = {} if types is None else {"event_type": types}
            with self.subTest(event_type=types):

                def search(typed: dict[str, Any] = typed, **kw: Any) -> list[int]:
                    return positions(self.store.search(**typed, **kw))

                self.assertEqual(
                    search(timestamp__gte=minute(2), timestamp__lte=minute(5)), [3, 4, 5, 6]
                )
                self.assertEqual(search(timestamp__gte=minute(2)), [3, 4, 5, 6, 7, 8])
                self.assertEqual(search(timestamp__lte=minute(2)), [1, 2, 3])
                self.assertEqual(search(timestamp__gte=minute(4), timestamp__lte=minute(4)), [5])
                self.assertEqual(search(timestamp__gt=minute(2), timestamp__lt=minute(5)), [4, 5])
                self.assertEqual(search(timestamp__gt=minute(7)), [])
                self.assertEqual(search(timestamp__lt=T0), [])
                self.assertEqual(search(timestamp__gte=minute(7)), [8])
                self.assertEqual(search(timestamp__lte=T0), [1])
                self.assertEqual(
                    self.store.count(**typed, timestamp__gte=minute(2), timestamp__lte=minute(5)), 4
                )
                self.assertEqual(self.store.count(**typed, timestamp__gt=minute(2)), 5)
                self.assertEqual(self.store.count(**typed, timestamp__lt=minute(2)), 2)
        window = self.store.read_by_type("contract.Counted", minute(1), minute(5))
        self.assertEqual(positions(window), [2, 4, 6])
        self.assertEqual(
            positions(self.store.read_by_type("contract.Counted", minute(2))), [4, 6, 8]
        )
        self.assertEqual(
            positions(self.store.read_by_type("contract.Counted", end=minute(3))), [2, 4]
        )

    def test_position_bounds_and_paging_inside_bounded_ranges(self) -> None:
        self._paging_fixture()

        def search(**kw: Any) -> list[int]:
            return positions(self.store.search(**kw))

        self.assertEqual(search(position__lte=3), [1, 2, 3])
        self.assertEqual(search(position__gte=3, position__lte=5), [3, 4, 5])
        self.assertEqual(search(position__lt=4), [1, 2, 3])
        self.assertEqual(search(position__gt=2, position__lt=5), [3, 4])
        self.assertEqual(search(position__gt=8), [])
        self.assertEqual(search(position__lte=5, after_position=2), [3, 4, 5])
        self.assertEqual(search(position__lt=5, after_position=2, limit=1), [3])
        self.assertEqual(self.store.count(position__gte=3, position__lt=6), 3)
        self.assertEqual(search(timestamp__lte=minute(5), after_position=2), [3, 4, 5, 6])
        self.assertEqual(
            search(event_type="contract.Happened", timestamp__lte=minute(5), after_position=1),
            [3, 5],
        )
        self.assertEqual(
            search(timestamp__gt=minute(2), timestamp__lt=minute(3), after_position=1), []
        )
        self.assertEqual(
            search(
                event_type="contract.Happened",
                timestamp__gt=minute(2),
                timestamp__lt=minute(4),
                after_position=1,
            ),
            [],
        )

    def test_type_searches_stay_in_position_order_after_out_of_order_imports(self) -> None:
        for number, hours in enumerate([5, 1, 3, -2]):
            event = happened(str(number), timestamp=T0 + timedelta(hours=hours))
            self.store.append(f"a-{number}", "Thing", [event], NO_STREAM)
        self.store.append(
            "c-1", "Thing", [NewEvent("contract.Counted", {"count": 1}, timestamp=T0)], NO_STREAM
        )
        self.assertEqual(positions(self.store.search(event_type="contract.Happened")), [1, 2, 3, 4])
        self.assertEqual(
            positions(self.store.search(event_type=["contract.Happened", "contract.Counted"])),
            [1, 2, 3, 4, 5],
        )
        self.assertEqual(
            positions(self.store.search(event_type="contract.Happened", after_position=2)), [3, 4]
        )

    def test_event_type_lists_merge_in_position_order(self) -> None:
        self._paging_fixture()
        self.assertEqual(
            positions(self.store.search(event_type=["contract.Counted"])), [2, 4, 6, 8]
        )
        self.assertEqual(
            positions(self.store.search(event_type=["contract.Counted", "contract.Happened"])),
            [1, 2, 3, 4, 5, 6, 7, 8],
        )
        self.assertEqual(
            positions(
                self.store.search(event_type=["contract.Happened", "PaymentProcessed"], limit=3)
            ),
            [1, 3, 5],
        )
        self.assertEqual(self.store.search(event_type=["PaymentProcessed"]), [])
        self.assertEqual(self.store.count(event_type=["contract.Counted", "contract.Happened"]), 8)
        self.assertEqual(self.store.count(event_type="contract.Happened"), 4)
        self.assertEqual(
            positions(
                self.store.read_by_type(["contract.Counted", "contract.Happened"], after_position=6)
            ),
            [7, 8],
        )

    def test_unknown_criteria_are_refused(self) -> None:
        kwargs: dict[str, Any]
        for kwargs in (
            {"colour": "red"},
            {"version__between": 1},
            {"limit": -1},
            {"event_type": []},
        ):
            with self.subTest(kwargs=kwargs), self.assertRaises(InvalidQueryError):
                self.store.search(**kwargs)

    # -- event types ---------------------------------------------------------------------

    def test_domain_events_round_trip_exactly(self) -> None:
        self.store.append(
            "a-1", "Thing", [ContractCounted(count=3, amount=Decimal("10.10"))], NO_STREAM
        )
        stored = self.store.read_aggregate("a-1")[0]
        self.assertEqual(stored.data, {"count": 3, "amount": "10.10"})
        self.assertEqual(stored.to_event(), ContractCounted(count=3, amount=Decimal("10.10")))
        self.assertEqual(stored.schema_version, 1)

    def test_unregistered_types_are_refused_on_append_and_named_on_read(self) -> None:
        with self.assertRaises(InvalidEventError):
            self.store.append("a-1", "Thing", [NewEvent("os.system", {})], NO_STREAM)
        self.store.append("a-1", "Thing", [happened()], NO_STREAM)
        stored = self.store.read_aggregate("a-1")[0]
        with self.assertRaises(UnknownEventTypeError) as caught:
            stored.to_event(EventRegistry())
        self.assertIn("contract.Happened", str(caught.exception))

    def test_a_renamed_type_reads_and_finds_events_stored_under_its_former_name(self) -> None:
        @event
        class Before(DomainEvent, event_type="contract.Before"):
            note: str

        self.store.append("a-1", "Thing", [Before(note="old")], NO_STREAM)
        registry.unregister("contract.Before")  # the class is renamed in a deploy
        try:

            @event
            class After(DomainEvent, event_type="contract.After", aliases=["contract.Before"]):
                note: str

            self.store.append("a-1", "Thing", [After(note="new")], 1)
            old, new = self.store.read_aggregate("a-1")
            self.assertEqual(
                (old.event_type, new.event_type), ("contract.Before", "contract.After")
            )
            self.assertEqual(
                [old.to_event(), new.to_event()], [After(note="old"), After(note="new")]
            )
            found = self.store.search(event_type="contract.After")
            self.assertEqual([e.version for e in found], [1, 2])
            self.assertEqual(self.store.count(event_type=["contract.After"]), 2)
            self.assertEqual(len(self.store.read_by_type("contract.Before")), 2)
            self.assertEqual(registry.names().count("contract.Before"), 0)
            with self.assertRaises(InvalidEventError):  # a former name can't be taken again

                @event
                class Other(DomainEvent, event_type="contract.Before"):
                    note: str
        finally:
            registry.unregister("contract.After")

    def test_event_type_counts_name_every_stored_type(self) -> None:
        self.assertEqual(self.store.event_type_counts(), {})
        self.store.append("a-1", "Thing", [happened(), happened()], NO_STREAM)
        self.store.append("b-1", "Thing", [NewEvent("contract.Counted", {"count": 1})], NO_STREAM)
        self.assertEqual(
            self.store.event_type_counts(), {"contract.Happened": 2, "contract.Counted": 1}
        )

    def test_nothing_is_imported_from_stored_names_or_data(self) -> None:
        module = "eventstore_contract_never_imported"
        custom = EventRegistry()

        @event
        class Tricky(DomainEvent, event_type=f"{module}.Evil", register=False):
            note: str

        custom.register(Tricky)
        self.store.registry = custom
        self.store.append(
            "a-1",
            "Thing",
            [NewEvent(f"{module}.Evil", {"note": "x", "__class__": f"{module}.Evil"})],
            NO_STREAM,
        )
        read = self.store.read_aggregate("a-1")[0]
        self.assertEqual(read.to_event(custom), Tricky(note="x"))
        with self.assertRaises(UnknownEventTypeError):
            read.to_event(registry)
        self.assertNotIn(module, sys.modules)

    def test_upcasters_bring_old_payloads_to_the_current_shape(self) -> None:
        custom = EventRegistry()

        @event
        class Renamed(DomainEvent, event_type="contract.Renamed", schema_version=3, register=False):
            full_name: str
            amount: Decimal

        custom.register(Renamed)
        custom.register_upcaster(
            "contract.Renamed", 1, lambda d: {"name": d["name"], "amount": d["cents"] / 100}
        )

        @custom.upcaster("contract.Renamed", 2)
        def _v2(data: dict[str, Any]) -> dict[str, Any]:
            return {"full_name": data["name"].title(), "amount": str(Decimal(str(data["amount"])))}

        self.store.registry = custom
        self.store.append(
            "a-1",
            "Thing",
            [
                NewEvent(
                    "contract.Renamed", {"name": "ada lovelace", "cents": 1250}, schema_version=1
                ),
                NewEvent("contract.Renamed", {"name": "alan", "amount": "7.5"}, schema_version=2),
                NewEvent("contract.Renamed", {"full_name": "Grace", "amount": "1.00"}),
            ],
            NO_STREAM,
        )
        decoded = [e.to_event(custom) for e in self.store.read_aggregate("a-1")]
        self.assertEqual(
            decoded,
            [
                Renamed(full_name="Ada Lovelace", amount=Decimal("12.5")),
                Renamed(full_name="Alan", amount=Decimal("7.5")),
                Renamed(full_name="Grace", amount=Decimal("1.00")),
            ],
        )
        self.assertEqual([e.schema_version for e in self.store.read_aggregate("a-1")], [1, 2, 3])

    # -- event bus -----------------------------------------------------------------------

    def test_the_bus_gets_each_batch_once_in_order_after_it_is_stored(self) -> None:
        seen: list[tuple[int, list[int]]] = []

        def receiver(sender: Any, store: Any, events: list[RecordedEvent], **kwargs: Any) -> None:
            seen.append((store.last_position(), [e.position for e in events]))

        from ..bus import events_appended

        events_appended.connect(receiver, weak=False, dispatch_uid="contract-receiver")
        try:
            self.store.append("a-1", "Thing", [happened(), happened()], NO_STREAM)
            self.store.append("b-1", "Thing", [happened()], NO_STREAM)
        finally:
            events_appended.disconnect(dispatch_uid="contract-receiver")
        self.assertEqual(seen, [(2, [1, 2]), (3, [3])])

    def test_a_failing_subscriber_does_not_undo_or_stop_others(self) -> None:
        from ..bus import events_appended

        def failing(**kwargs: Any) -> None:
            raise RuntimeError("projection broke")

        recorder = EventRecorder()
        events_appended.connect(failing, weak=False, dispatch_uid="contract-failing")
        events_appended.connect(recorder, weak=False, dispatch_uid="contract-recorder")
        try:
            with self.assertLogs("eventstore.bus", "ERROR") as logs:
                records = self.store.append("a-1", "Thing", [happened()], NO_STREAM)
        finally:
            events_appended.disconnect(dispatch_uid="contract-failing")
            events_appended.disconnect(dispatch_uid="contract-recorder")
        self.assertEqual(len(self.store.read_all()), 1)
        self.assertEqual(recorder.events, records)
        self.assertIn(str(records[0].event_id), logs.output[0])

    def test_catch_up_feeds_everything_after_a_checkpoint(self) -> None:
        from ..bus import catch_up

        for number in range(5):
            self.store.append(f"a-{number}", "Thing", [happened(str(number))], NO_STREAM)
        seen: list[int] = []
        checkpoint = catch_up(
            self.store, lambda page: seen.extend(e.position for e in page), batch_size=2
        )
        self.assertEqual((seen, checkpoint), ([1, 2, 3, 4, 5], 5))
        self.store.append("z", "Thing", [happened()], NO_STREAM)
        more: list[int] = []
        self.assertEqual(
            catch_up(
                self.store,
                lambda page: more.extend(e.position for e in page),
                after_position=checkpoint,
            ),
            6,
        )
        self.assertEqual(more, [6])

    # -- concurrency ---------------------------------------------------------------------

    def test_many_threads_with_retries_lose_and_duplicate_nothing(self) -> None:
        threads_count, appends_each = 8, 25
        retries = [0] * threads_count

        def work(index: int) -> None:
            for number in range(appends_each):
                own = f"own-{index}"
                self.store.append(own, "Thing", [happened(f"{index}:{number}")], number)
                while True:  # shared stream: read, then append with what was read
                    version = self.store.aggregate_version("shared")
                    try:
                        self.store.append(
                            "shared", "Thing", [happened(f"{index}:{number}")], version
                        )
                        break
                    except ConcurrencyError:
                        retries[index] += 1

        threads = [self.thread(work, i) for i in range(threads_count)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        shared = self.store.read_aggregate("shared")
        self.assertEqual(
            [e.version for e in shared], list(range(1, threads_count * appends_each + 1))
        )
        self.assertEqual(len({e.data["note"] for e in shared}), threads_count * appends_each)
        for index in range(threads_count):
            own = self.store.read_aggregate(f"own-{index}")
            self.assertEqual(
                [e.data["note"] for e in own], [f"{index}:{n}" for n in range(appends_each)]
            )
        positions = [e.position for e in self.store.read_all()]
        self.assertEqual(len(positions), 2 * threads_count * appends_each)
        self.assertEqual(len(set(positions)), len(positions))
        self.assertEqual(positions, sorted(positions))
        # Concurrent appends chain in position order, each from the one committed before.
        self.assertEqual(verify_store(self.store).events, len(positions))
        self.retries_seen = sum(retries)

    def test_ids_may_be_given_as_strings(self) -> None:
        event_id = uuid.uuid4()
        records = self.store.append("a-1", "Thing", [happened(event_id=str(event_id))], NO_STREAM)
        self.assertEqual(records[0].event_id, event_id)
        self.assertEqual(self.store.get_event(str(event_id)), records[0])
        self.assertIsNone(self.store.get_event("not-a-uuid"))
        copy.deepcopy(records)  # records are plain, copyable values

    # -- hash chain ----------------------------------------------------------------------

    def chained_history(self) -> list[RecordedEvent]:
        """Positions 1-3: one event of a-1, then a batch of two of b-1, fixed ids and times."""
        first = self.store.append(
            "a-1", "Thing", [happened("x", event_id=uuid.UUID(int=1))], NO_STREAM
        )
        self.clock.advance(seconds=1.5)
        batch = self.store.append(
            "b-1",
            "Other",
            [
                NewEvent(
                    event_type="contract.Counted",
                    data={"count": 3, "amount": Decimal("12.50")},
                    event_id=uuid.UUID(int=2),
                ),
                happened("é", event_id=uuid.UUID(int=3), causation_id="cause-9"),
            ],
            NO_STREAM,
            metadata={"user_id": "u-7"},
            correlation_id="c-1",
        )
        return first + batch

    def test_chain_hashes_follow_the_documented_construction(self) -> None:
        import calendar
        import hashlib

        recorded = self.chained_history()
        t0 = calendar.timegm((2024, 3, 1, 12, 0, 0)) * 1_000_000  # T0 in microseconds
        # The metadata as stored: its user id is personal, so sealed under a random
        # nonce; the text is read back from the store (and holds no plain "u-7").
        sealed = [record.metadata_json for record in recorded[1:]]
        self.assertTrue(all("u-7" not in text for text in sealed), sealed)
        bodies = [
            '["00000000-0000-0000-0000-000000000001","a-1","Thing","contract.Happened",1,'
            'null,null]\n{}\n{"note":"x"}',
            '["00000000-0000-0000-0000-000000000002","b-1","Other","contract.Counted",1,'
            f'"c-1",null]\n{sealed[0]}\n{{"amount":"12.50","count":3}}',
            '["00000000-0000-0000-0000-000000000003","b-1","Other","contract.Happened",1,'
            f'"c-1","cause-9"]\n{sealed[1]}\n{{"note":"é"}}',
        ]
        links = [(1, 1, t0), (2, 1, t0 + 1_500_000), (3, 2, t0 + 1_500_000)]
        expected, previous = [], bytes(32)
        for body, (position, version, micros) in zip(bodies, links, strict=True):
            previous = hashlib.sha256(
                previous
                + position.to_bytes(8, "big")
                + version.to_bytes(8, "big")
                + micros.to_bytes(8, "big", signed=True)
                + hashlib.sha256(body.encode("utf-8")).digest()
            ).digest()
            expected.append(previous)
        self.assertEqual([e.chain_hash for e in recorded], expected)
        self.assertEqual([e.chain_hash for e in self.store.read_all()], expected)
        self.assertEqual(self.store.get_event(uuid.UUID(int=3)).chain_hash, expected[2])  # type: ignore[union-attr]
        self.assertEqual(self.store.chain_head(), (3, expected[2]))

    def test_an_empty_store_has_the_zero_head_and_verifies(self) -> None:
        self.assertEqual(self.store.chain_head(), (0, bytes(32)))
        verified = verify_store(self.store)
        self.assertEqual((verified.events, verified.first, verified.last), (0, 0, 0))

    def test_verify_covers_the_whole_store_or_from_a_position(self) -> None:
        recorded = self.chained_history()
        self.store.append("a-1", "Thing", [happened("w")], 1)
        verified = verify_store(self.store)
        self.assertEqual((verified.events, verified.first, verified.last), (4, 1, 4))
        self.assertEqual(verified.head, self.store.chain_head()[1])
        self.assertIn("Verified 4 events, positions 1-4, head ", verified.summary())
        later = verify_store(self.store, from_position=3)
        self.assertEqual((later.events, later.first, later.last), (2, 3, 4))
        # From position 3 on, the stored hash of 2 is trusted: an edit of 1 goes unseen.
        self.tamper.update(self.store, 1, data_json='{"note":"X"}')
        self.assertEqual(verify_store(self.store, from_position=3).events, 2)
        with self.assertRaises(ChainError) as caught:
            verify_store(self.store)
        self.assertEqual((caught.exception.position, caught.exception.kind), (1, "hash"))
        self.assertEqual(recorded[0].position, 1)

    def test_a_failed_append_leaves_the_chain_head(self) -> None:
        self.chained_history()
        head = self.store.chain_head()
        with self.assertRaises(ConcurrencyError):
            self.store.append("a-1", "Thing", [happened("late")], NO_STREAM)
        self.assertEqual(self.store.chain_head(), head)
        self.store.append("a-1", "Thing", [happened("next")], 1)
        self.assertEqual(verify_store(self.store).last, 4)

    def assert_broken(self, position: int, kind: str, *words: str) -> ChainError:
        """Verify and expect the first problem at ``position``, of ``kind``, naming ``words``."""
        with self.assertRaises(ChainError) as caught:
            verify_store(self.store)
        error = caught.exception
        self.assertEqual((error.position, error.kind), (position, kind), str(error))
        for word in words:
            self.assertIn(word, str(error))
        return error

    def test_verify_finds_a_changed_amount(self) -> None:
        recorded = self.chained_history()
        self.tamper.update(self.store, 2, data_json='{"amount":"12.51","count":3}')
        error = self.assert_broken(2, "hash", "position 2", recorded[1].chain_hash.hex())
        self.assertIn("stored", str(error))

    def test_verify_finds_a_changed_timestamp(self) -> None:
        self.chained_history()
        self.tamper.update(self.store, 3, timestamp=minute(5))
        self.assert_broken(3, "hash", "position 3")

    def test_verify_finds_a_changed_user_id_in_the_metadata(self) -> None:
        self.chained_history()
        self.tamper.update(self.store, 2, metadata_json='{"user_id":"u-8"}')
        self.assert_broken(2, "hash", "position 2")

    def test_verify_finds_a_removed_event(self) -> None:
        self.chained_history()
        self.tamper.delete(self.store, 2)
        self.assert_broken(2, "gap", "Position 2 is missing")

    def test_verify_finds_a_removed_last_event_by_the_head(self) -> None:
        self.chained_history()
        self.tamper.delete(self.store, 3)
        self.assert_broken(3, "head", "Events after position 2 are missing or the head was changed")

    def test_verify_finds_two_swapped_events(self) -> None:
        self.chained_history()
        self.tamper.swap(self.store, 1, 3)
        self.assert_broken(1, "hash", "position 1", "00000000-0000-0000-0000-000000000003")

    def test_the_next_append_after_tampering_keeps_the_break_visible(self) -> None:
        self.chained_history()
        self.tamper.update(self.store, 2, data_json='{"amount":"0","count":3}')
        self.store.append("a-1", "Thing", [happened("after")], 1)
        self.assert_broken(2, "hash")
