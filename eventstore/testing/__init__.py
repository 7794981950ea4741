"""Testing support: a manual clock, a memory-store mixin, and the backend contract suite.

- :class:`ManualClock`: a clock tests set and advance (``store.clock = clock``).
- :class:`EventStoreTestMixin`: for Django ``TestCase`` classes; gives the class
  a memory store and each test ``self.recorded_events`` (events appended during
  the test, like ``mail.outbox``).
- :class:`EventStoreContract`: the promises every backend keeps, written once.
  Subclass it with a ``unittest``/Django test case and implement
  :meth:`EventStoreContract.create_store`.

The pytest plugin (:mod:`eventstore.testing.plugin`) offers the same as fixtures.

Rules the fixtures and the mixin follow:

- **Only the aliases they take over.** The ``default`` alias (or those of the
  ``eventstore_aliases`` marker / class attribute) is switched to a memory store
  of the test's own; every other alias of ``EVENTSTORES`` keeps its
  configuration. What an alias held before (a project's store, journaled or not)
  is set aside untouched and comes back afterwards.
- **The reset empties only those.** After each test (the plugin's autouse reset,
  :func:`reset_memory_stores`), the aliases taken over go back to their
  baseline; no other store is emptied, and a journal file is never truncated,
  rewritten or deleted. Use the fixture or the mixin for an empty store.
- **The mixin's store is class-scoped**, like a ``TestCase``'s database: events
  seeded in ``setUpTestData`` stay; the state when the first test starts is put
  back before every test, so a test's appends never reach the next one.
- **Strict mode** (on by default): a receiver of
  :data:`~eventstore.bus.events_appended` that raises, or a failure reported
  through :func:`eventstore.bus.report_receiver_error` (projection runners), fails
  the test after its body with :class:`ReceiverFailed`, naming the receiver and
  the event ids. The append itself still returns normally, as in production, so
  the code under test takes no error path it never takes for real, and failures
  in other threads (a live server) are caught too. Turn it off with
  ``@pytest.mark.eventstore_lenient`` or ``eventstore_lenient = True`` on the
  class. Outside tests, failures are only logged.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar

from ..bus import events_appended, receiver_failed
from ..records import RecordedEvent

__all__ = [
    "AggregateScenario",
    "EventRecorder",
    "EventStoreTestMixin",
    "MEMORY_EVENTSTORE",
    "MEMORY_EVENTSTORES",
    "ManualClock",
    "ReceiverFailed",
    "ReceiverFailures",
    "reset_memory_stores",
]


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


class ReceiverFailed(AssertionError):
    """Strict mode: a bus receiver (or projection) failed during the test."""


class ReceiverFailures:
    """Strict mode: collect the receiver failures reported on the bus while connected.

    :meth:`check` raises :class:`ReceiverFailed` naming each receiver and its
    events, chained to the first error (whose traceback is shown), and forgets
    them. Failures are collected from every thread (a live server's included).
    """

    def __init__(self) -> None:
        self.failures: list[tuple[Any, list[RecordedEvent], BaseException]] = []
        self._lock = threading.Lock()

    def __call__(
        self,
        sender: Any,
        receiver: Any,
        events: list[RecordedEvent],
        error: BaseException,
        **_: Any,
    ) -> None:
        with self._lock:
            self.failures.append((receiver, list(events), error))

    def connect(self) -> ReceiverFailures:
        receiver_failed.connect(self, weak=False, dispatch_uid=("strict", id(self)))
        return self

    def disconnect(self) -> None:
        receiver_failed.disconnect(dispatch_uid=("strict", id(self)))

    def check(self) -> None:
        """Raise :class:`ReceiverFailed` if a failure was reported since the last check."""
        with self._lock:
            failures, self.failures = self.failures, []
        if not failures:
            return
        lines = [
            f"- {_name(receiver)} raised {error!r} for events "
            + ", ".join(str(event.event_id) for event in events)
            for receiver, events, error in failures
        ]
        raise ReceiverFailed(
            f"{len(failures)} event bus receiver failure(s) during the test (strict mode; "
            "mark a test that expects them with @pytest.mark.eventstore_lenient, or set "
            "eventstore_lenient = True on the test class):\n" + "\n".join(lines)
        ) from failures[0][2]


def _name(receiver: Any) -> str:
    qualname = getattr(receiver, "__qualname__", None)
    return f"{receiver.__module__}.{qualname}" if qualname else repr(receiver)


#: The configuration the testing support gives each alias it takes over.
MEMORY_EVENTSTORE = {"BACKEND": "eventstore.backends.memory.InMemoryEventStore", "OPTIONS": {}}

#: The ``EVENTSTORES`` setting the testing support selects: one empty memory store.
MEMORY_EVENTSTORES = {"default": MEMORY_EVENTSTORE}

_active_takeovers: list[_Takeover] = []
_takeovers_lock = threading.Lock()


class _Takeover:
    """Aliases given memory data of their own, the data they had put back afterwards.

    Only these aliases are managed by the testing support: :meth:`reset` puts
    them back to their baseline (empty, or what :meth:`mark_baseline` saw). The
    data set aside by :meth:`start` (a project's memory store, journaled or not)
    is not touched, and comes back as it was in :meth:`stop`.
    """

    def __init__(self, aliases: tuple[str, ...] = ("default",)) -> None:
        if not aliases:
            raise ValueError("Take over at least one event store alias.")
        self.aliases = tuple(aliases)
        self._previous: dict[str, Any] = {}
        self._stores: dict[str, Any] = {}
        self._baselines: dict[str, Any] = {}
        self._settings: Any = None  # the override_settings of enable_settings()
        self._settings_holder: Any = None

    def start(self) -> _Takeover:
        from ..backends import memory

        for alias in self.aliases:
            self._previous[alias] = memory.swap_data(alias, None)
            # Builds the alias's new, empty, journal-less data.
            self._stores[alias] = memory.InMemoryEventStore(alias, MEMORY_EVENTSTORE["OPTIONS"])
        self.mark_baseline()
        with _takeovers_lock:
            _active_takeovers.append(self)
        return self

    def eventstores_setting(self) -> dict[str, Any]:
        """The ``EVENTSTORES`` setting in force, with the aliases taken over switched to memory.

        Every other alias keeps its configuration.
        """
        from django.conf import settings

        from ..handler import DEFAULT_SETTINGS

        current = getattr(settings, "EVENTSTORES", DEFAULT_SETTINGS)
        memory = {alias: {**MEMORY_EVENTSTORE, "OPTIONS": {}} for alias in self.aliases}
        return {**current, **memory}

    def enable_settings(self) -> None:
        """Override ``EVENTSTORES`` with :meth:`eventstores_setting` until :meth:`stop`."""
        from django.conf import settings
        from django.test import override_settings

        self._settings = override_settings(EVENTSTORES=self.eventstores_setting())
        self._settings.enable()
        self._settings_holder = settings.__dict__["_wrapped"]

    def settings_in_force(self) -> bool:
        """Whether every alias taken over is still configured as a memory store."""
        from django.conf import settings

        configured = getattr(settings, "EVENTSTORES", {})
        return all(configured.get(alias) == MEMORY_EVENTSTORE for alias in self.aliases)

    def stop_if_innermost(self) -> None:
        """:meth:`stop` now if no settings override was enabled after ours and is still on.

        Overrides must be undone in reverse order; when a later one is still
        enabled (a class-level ``@override_settings``, undone by a class cleanup),
        :meth:`stop` is left to the class cleanup registered before it.
        """
        from django.conf import settings

        if self._settings is None or settings.__dict__["_wrapped"] is self._settings_holder:
            self.stop()

    def mark_baseline(self) -> None:
        """Make the events stored now what :meth:`reset` goes back to."""
        self._baselines = {alias: store.snapshot() for alias, store in self._stores.items()}

    def reset(self) -> None:
        """Put each alias taken over back to its baseline (in place)."""
        for alias, store in self._stores.items():
            store.restore(self._baselines[alias])

    def stop(self) -> None:
        """Give every alias its previous data back (idempotent)."""
        from ..backends import memory

        with _takeovers_lock:
            if self in _active_takeovers:
                _active_takeovers.remove(self)
        if self._settings is not None:
            self._settings.disable()
            self._settings = self._settings_holder = None
        while self._previous:
            alias, previous = self._previous.popitem()
            memory.swap_data(alias, previous)
        self._stores.clear()
        self._baselines.clear()


def reset_memory_stores() -> None:
    """Put the aliases taken over by the testing support back to their baseline.

    Only those: a store the ``event_store`` fixture or :class:`EventStoreTestMixin`
    did not take over keeps its events, and a journal file is never truncated,
    rewritten or deleted.
    """
    with _takeovers_lock:
        takeovers = list(_active_takeovers)
    for takeover in takeovers:
        takeover.reset()


class EventStoreTestMixin:
    """Mixin for Django test cases: a memory store per test class, and each test's events.

    The aliases in ``eventstore_aliases`` (default: ``("default",)``) are
    switched to process memory through settings (so code calling
    ``eventstore.eventstore`` sees it), as the pytest ``event_store`` fixture
    does; every other alias of ``EVENTSTORES`` keeps its configuration.

    The store is class-scoped, like a ``TestCase``'s database: it is taken over
    in ``setUpClass`` before ``setUpTestData`` runs, so events seeded there (or in
    ``setUpClass`` after ``super()``) stay, together with the read models they fed.
    The store's state when the class's first test starts is its baseline, put
    back before each test: every test starts from the class's seeded events, and
    a test's own appends never reach the next one.

    Override ``EVENTSTORES`` by hand around ``super().setUpClass()``/
    ``super().tearDownClass()`` or in the settings module; a class-level
    ``@override_settings(EVENTSTORES=...)`` would replace the memory store (the
    tests then fail, saying so).

    Strict mode (unless ``eventstore_lenient = True``): a bus receiver that raises
    during the class (its ``setUpTestData`` included) fails the test, after the
    test's body, naming the receiver and the event ids; see the module docstring.

    Attributes set for each test:
        event_store: the store of the first alias taken over, at the class baseline.
        recorded_events: events appended during the test (not those seeded), in order.
    """

    #: The aliases switched to memory stores of the class's own.
    eventstore_aliases: tuple[str, ...] = ("default",)
    #: False (strict mode): a failing bus receiver fails the test. True: it is only logged.
    eventstore_lenient: bool = False
    _eventstore_failures: ClassVar[Any] = None
    _eventstore_takeover: ClassVar[Any] = None
    _eventstore_baseline_taken: ClassVar[bool] = False

    @classmethod
    def setUpClass(cls) -> None:
        cls._eventstore_failures = None
        if not cls.eventstore_lenient:
            failures = cls._eventstore_failures = ReceiverFailures().connect()
            cls.addClassCleanup(failures.disconnect)  # type: ignore[attr-defined]
        takeover = _Takeover(tuple(cls.eventstore_aliases)).start()
        cls._eventstore_takeover = takeover
        cls._eventstore_baseline_taken = False
        cls.addClassCleanup(takeover.stop)  # type: ignore[attr-defined]
        takeover.enable_settings()
        super().setUpClass()  # type: ignore[misc]

    @classmethod
    def tearDownClass(cls) -> None:
        super().tearDownClass()  # type: ignore[misc]
        cls._eventstore_takeover.stop_if_innermost()

    def setUp(self) -> None:
        from ..handler import eventstores

        super().setUp()  # type: ignore[misc]
        cls = type(self)
        if cls._eventstore_failures is not None:
            # Runs after every other cleanup: failures during the class's setup
            # (setUpTestData) are reported by its first test.
            self.addCleanup(cls._eventstore_failures.check)  # type: ignore[attr-defined]
        takeover = cls._eventstore_takeover
        if not takeover.settings_in_force():
            raise AssertionError(
                f"EventStoreTestMixin switched {', '.join(takeover.aliases)} to memory in "
                "setUpClass, but EVENTSTORES was overridden since (a class-level "
                "@override_settings?): override it before super().setUpClass() instead."
            )
        if cls._eventstore_baseline_taken:
            takeover.reset()
        else:
            takeover.mark_baseline()
            cls._eventstore_baseline_taken = True
        self.event_store = eventstores[takeover.aliases[0]]
        self._event_recorder = EventRecorder().connect()
        self.recorded_events = self._event_recorder.events
        self.addCleanup(self._event_recorder.disconnect)  # type: ignore[attr-defined]


class AggregateScenario:
    """Given / when / then for aggregates, without a store.

    ::

        (AggregateScenario(Payment, "p-1")
            .given(PaymentProcessed(amount=Decimal("100.00"), currency="EUR", organization_id="a"))
            .when(lambda payment: payment.refund("30.00", refund_id="r-1"))
            .then(PaymentRefunded(amount=Decimal("30.00"), currency="EUR", refund_id="r-1")))

    ``then`` asserts exactly these new events, in order; ``then_raises``
    asserts the command raised (and recorded nothing).
    """

    def __init__(self, aggregate_class: type, aggregate_id: str = "aggregate-1") -> None:
        self.aggregate_class = aggregate_class
        self.aggregate_id = aggregate_id
        self.history: list[Any] = []
        self.aggregate: Any = None
        self.error: BaseException | None = None
        self.ran = False

    def given(self, *events: Any) -> AggregateScenario:
        """Prior events of the aggregate (domain event instances), oldest first."""
        self.history.extend(events)
        return self

    def when(self, command: Any) -> AggregateScenario:
        """Run ``command(aggregate)`` on the aggregate rebuilt from the given events."""
        aggregate = self.aggregate_class(self.aggregate_id)
        for number, event in enumerate(self.history, start=1):
            aggregate.apply(event)
            aggregate.version = number
        self.aggregate = aggregate
        try:
            command(aggregate)
        except Exception as exc:  # noqa: BLE001 - kept for then()/then_raises()
            self.error = exc
        self.ran = True
        return self

    def then(self, *expected: Any) -> Any:
        """Assert the command recorded exactly ``expected``; return the aggregate."""
        if not self.ran:
            raise AssertionError("Call when() before then().")
        if self.error is not None:
            raise AssertionError(f"Expected events, but the command raised {self.error!r}")
        if list(self.aggregate.pending_events) != list(expected):
            raise AssertionError(
                f"Expected events {list(expected)!r}, got {self.aggregate.pending_events!r}"
            )
        return self.aggregate

    def then_raises(self, error_class: type[BaseException], match: str | None = None) -> Any:
        """Assert the command raised ``error_class`` (``match`` in its text), recording nothing."""
        if not self.ran:
            raise AssertionError("Call when() before then_raises().")
        if not isinstance(self.error, error_class):
            raise AssertionError(f"Expected {error_class.__name__}, got {self.error!r}")
        if match is not None and match not in str(self.error):
            raise AssertionError(f"{match!r} not in {str(self.error)!r}")
        if self.aggregate.pending_events:
            raise AssertionError(
                f"The command raised but recorded {self.aggregate.pending_events!r}"
            )
        return self.error
