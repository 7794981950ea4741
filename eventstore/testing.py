"""Testing support: a manual clock, a fresh-store mixin, and the backend contract suite.

- :class:`ManualClock`: a clock tests set and advance (``store.clock = clock``).
- :class:`EventStoreTestMixin`: for Django ``TestCase`` classes; gives each test
  an empty default store and ``self.recorded_events`` (events appended during
  the test, like ``mail.outbox``).
- :class:`EventStoreContract`: the promises every backend keeps, written once.
  Subclass it with a ``unittest``/Django test case and implement
  :meth:`EventStoreContract.create_store`.

The pytest plugin (:mod:`eventstore.pytest_plugin`) offers the same as fixtures.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from typing import Any

from .bus import events_appended
from .records import RecordedEvent

__all__ = ["ManualClock", "EventRecorder", "EventStoreTestMixin", "reset_memory_stores"]


class ManualClock:
    """A clock that stays where a test puts it.

    Args:
        start: the initial time, timezone-aware (default 2024-01-01T00:00:00Z).
        step: advance by this much after each reading (default: never move).
    """

    def __init__(self, start: datetime | None = None, step: timedelta | None = None) -> None:
        self.now = start or datetime(2024, 1, 1, tzinfo=UTC)
        if self.now.utcoffset() is None:
            raise ValueError("ManualClock needs a timezone-aware start.")
        self.step = step
        self._lock = threading.Lock()

    def __call__(self) -> datetime:
        with self._lock:
            value = self.now
            if self.step:
                self.now += self.step
            return value

    def set(self, value: datetime) -> None:
        """Move the clock to ``value`` (aware)."""
        if value.utcoffset() is None:
            raise ValueError("ManualClock needs a timezone-aware time.")
        self.now = value

    def advance(self, **delta: float) -> None:
        """Move the clock forward by ``timedelta(**delta)``."""
        self.now += timedelta(**delta)


class EventRecorder:
    """Collect every batch published on the event bus while connected.

    ``events`` is the flat list of recorded events, in publication order.
    """

    def __init__(self) -> None:
        self.events: list[RecordedEvent] = []
        self.batches: list[list[RecordedEvent]] = []

    def __call__(self, sender: Any, events: list[RecordedEvent], **kwargs: Any) -> None:
        self.batches.append(list(events))
        self.events.extend(events)

    def connect(self) -> EventRecorder:
        events_appended.connect(self, weak=False, dispatch_uid=id(self))
        return self

    def disconnect(self) -> None:
        events_appended.disconnect(dispatch_uid=id(self))


def reset_memory_stores() -> None:
    """Empty every process-memory store of this process (as Django empties ``mail.outbox``)."""
    import sys

    memory = sys.modules.get("eventstore.backends.memory")
    if memory is None:
        return
    with memory._data_lock:
        aliases = list(memory._data)
    for alias in aliases:
        memory.InMemoryEventStore(alias).clear()


class EventStoreTestMixin:
    """Mixin for Django test cases: an empty memory store per test, and its events.

    Attributes set for each test:
        event_store: the default store (``eventstore.eventstore``), emptied.
        recorded_events: events appended during the test, in order.
    """

    def setUp(self) -> None:
        from .handler import eventstores

        super().setUp()  # type: ignore[misc]
        reset_memory_stores()
        self.event_store = eventstores["default"]
        self._event_recorder = EventRecorder().connect()
        self.recorded_events = self._event_recorder.events
        self.addCleanup(self._event_recorder.disconnect)  # type: ignore[attr-defined]
        self.addCleanup(reset_memory_stores)  # type: ignore[attr-defined]
