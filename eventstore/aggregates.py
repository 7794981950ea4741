"""Aggregates rebuilt from their events, and a repository that loads and saves them.

An aggregate subclasses :class:`Aggregate`, names its ``aggregate_type``, and
marks one method per event class with ``@applies(EventClass)``. Command
methods check the rules and call :meth:`Aggregate.record` with the new event;
``record`` applies it and keeps it as pending until
:meth:`AggregateRepository.save` appends it with the expected version the
aggregate was loaded at.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any, ClassVar, Generic, TypeVar

from .events import DomainEvent
from .exceptions import (
    AggregateNotFoundError,
    InvalidEventError,
    UndecodableEventError,
    UnknownEventTypeError,
)
from .records import RecordedEvent
from .snapshots import Snapshot

__all__ = [
    "Aggregate",
    "AggregateRepository",
    "aggregate_types",
    "applies",
    "decode_for_replay",
]

A = TypeVar("A", bound="Aggregate")
F = TypeVar("F", bound=Callable[..., None])


def applies(event_class: type[DomainEvent]) -> Callable[[F], F]:
    """Mark an aggregate method as the one that applies ``event_class`` to the state."""

    def decorator(method: F) -> F:
        method._applies_to = event_class  # type: ignore[attr-defined]
        return method

    return decorator


aggregate_types: dict[str, type[Aggregate]] = {}
"""Aggregate classes by ``aggregate_type``, filled by defining subclasses (for replay pages)."""


def decode_for_replay(record: RecordedEvent) -> DomainEvent:
    """Return ``record`` decoded into its registered class, for building state.

    Raises:
        UndecodableEventError: naming the type, version and position, when the
            type is not registered (say, renamed without an alias) or the payload
            does not fit the class.
    """
    try:
        return record.to_event()
    except UnknownEventTypeError:
        reason = "the type is not registered (renamed or removed without an alias?)"
    except InvalidEventError as exc:
        reason = str(exc)
    raise UndecodableEventError(record.event_type, record.version, record.position, reason)


class Aggregate:
    """Base class of event-sourced aggregates.

    Attributes:
        aggregate_id: the stream id.
        version: the version of the last event applied (0 for a new aggregate).
        pending_events: events recorded since loading, not yet saved.

    Class attributes:
        aggregate_type: the stream kind stored with its events (default: the class name).
        api_url_names: URL names of the domain's API for one aggregate, by kind
            (``"history"``, ``"replay"``), each reversed with the aggregate id; the
            audit-trail pages link to them when they are installed.
    """

    aggregate_type: ClassVar[str]
    api_url_names: ClassVar[Mapping[str, str]] = {}
    _appliers: ClassVar[dict[type[DomainEvent], Callable[..., None]]] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls.aggregate_type = cls.__dict__.get("aggregate_type", cls.__name__)
        cls._appliers = dict(cls._appliers)
        for member in vars(cls).values():
            event_class = getattr(member, "_applies_to", None)
            if event_class is not None:
                cls._appliers[event_class] = member
        aggregate_types[cls.aggregate_type] = cls

    def __init__(self, aggregate_id: str) -> None:
        self.aggregate_id = aggregate_id
        self.version = 0
        self.pending_events: list[DomainEvent] = []

    @classmethod
    def from_events(cls: type[A], aggregate_id: str, events: Iterable[RecordedEvent]) -> A:
        """Rebuild an aggregate by applying recorded events in version order (upcast first)."""
        aggregate = cls(aggregate_id)
        for record in events:
            aggregate.replay(record)
        return aggregate

    def replay(self, record: RecordedEvent) -> None:
        """Apply one stored event (upcast and decoded) and move to its version.

        Subclasses that need the envelope (event id, timestamp) extend this.

        Raises:
            UndecodableEventError: the event's type is not registered, or its
                payload does not decode into the class; the aggregate stays at
                the version before it.
        """
        self.apply(decode_for_replay(record))
        self.version = record.version

    def apply(self, event: DomainEvent) -> None:
        """Change state for one event with the method marked ``@applies`` for its class.

        Raises:
            NotImplementedError: if no method applies this event class.
        """
        try:
            applier = self._appliers[type(event)]
        except KeyError:
            raise NotImplementedError(
                f"{type(self).__name__} has no @applies method for {type(event).__name__}"
            ) from None
        applier(self, event)

    def record(self, event: DomainEvent) -> None:
        """Apply a new event and keep it until it is saved."""
        self.apply(event)
        self.pending_events.append(event)

    @property
    def expected_version(self) -> int:
        """The version the store must still have for pending events to be saved."""
        return self.version

    def state(self) -> dict[str, Any]:
        """Return the aggregate's state as JSON-native values (for history pages and APIs)."""
        return {"aggregate_id": self.aggregate_id, "version": self.version}

    def snapshot_state(self) -> dict[str, Any]:
        """Return the attributes a snapshot keeps (all but pending events); deep-copied later."""
        return {key: value for key, value in vars(self).items() if key != "pending_events"}

    @classmethod
    def from_snapshot(cls: type[A], snapshot: Snapshot) -> A:
        """Rebuild an aggregate from a snapshot taken by :meth:`snapshot_state`."""
        aggregate = cls.__new__(cls)
        vars(aggregate).update(snapshot.state)
        aggregate.pending_events = []
        aggregate.version = snapshot.version
        return aggregate


class AggregateRepository(Generic[A]):
    """Load aggregates of one class from a store by replay, and save their new events.

    Args:
        store: a :class:`~eventstore.backends.base.BaseEventStore`.
        aggregate_class: the :class:`Aggregate` subclass to rebuild.
        snapshots: where to keep snapshots (e.g. an
            :class:`~eventstore.snapshots.InMemorySnapshotStore`), or None for none.
        snapshot_every: take a snapshot when a save crosses a multiple of this
            many events (requires ``snapshots``).
    """

    def __init__(
        self,
        store: Any,
        aggregate_class: type[A],
        *,
        snapshots: Any = None,
        snapshot_every: int | None = None,
    ) -> None:
        if snapshot_every is not None and (snapshots is None or snapshot_every < 1):
            raise ValueError("snapshot_every needs a snapshot store and must be 1 or more.")
        self.store = store
        self.aggregate_class = aggregate_class
        self.snapshots = snapshots
        self.snapshot_every = snapshot_every

    def load(self, aggregate_id: str, *, to_version: int | None = None) -> A:
        """Return the aggregate rebuilt from its events (up to ``to_version``, inclusive).

        Starts from the latest snapshot when there is one at or before
        ``to_version``, then applies only the later events. A stream with no
        events gives a new aggregate at version 0.
        """
        snapshot = None
        if self.snapshots is not None:
            snapshot = self.snapshots.get(self.aggregate_class.aggregate_type, aggregate_id)
            if snapshot is not None and to_version is not None and snapshot.version > to_version:
                snapshot = None
        if snapshot is None:
            events = self.store.read_aggregate(aggregate_id, 1, to_version)
            return self.aggregate_class.from_events(aggregate_id, events)
        aggregate = self.aggregate_class.from_snapshot(snapshot)
        for record in self.store.read_aggregate(aggregate_id, snapshot.version + 1, to_version):
            aggregate.replay(record)
        return aggregate

    def get(self, aggregate_id: str, *, to_version: int | None = None) -> A:
        """Like :meth:`load`, but raise for an aggregate with no events.

        Raises:
            AggregateNotFoundError: if the stream has no events.
        """
        aggregate = self.load(aggregate_id, to_version=to_version)
        if aggregate.version == 0:
            raise AggregateNotFoundError(aggregate_id)
        return aggregate

    def save(
        self,
        aggregate: A,
        *,
        metadata: Mapping[str, Any] | None = None,
        correlation_id: str | None = None,
        causation_id: str | None = None,
    ) -> list[RecordedEvent]:
        """Append the aggregate's pending events with its expected version.

        Returns the recorded events (empty when nothing was pending) and moves the
        aggregate to the new version.

        Raises:
            ConcurrencyError: if another writer appended since the aggregate was loaded.
        """
        if not aggregate.pending_events:
            return []
        records: list[RecordedEvent] = self.store.append(
            aggregate.aggregate_id,
            aggregate.aggregate_type,
            aggregate.pending_events,
            aggregate.expected_version,
            metadata=metadata,
            correlation_id=correlation_id,
            causation_id=causation_id,
        )
        before = aggregate.version
        aggregate.pending_events = []
        aggregate.version = records[-1].version
        every = self.snapshot_every
        if every and aggregate.version // every > before // every:
            self.snapshots.save(
                Snapshot(
                    aggregate.aggregate_id,
                    aggregate.aggregate_type,
                    aggregate.version,
                    aggregate.snapshot_state(),
                )
            )
        return records
