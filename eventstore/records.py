"""The records that go into the store and come out of it.

:class:`NewEvent` is what a writer appends; :class:`RecordedEvent` is what the
store returns. Both are frozen. A recorded event keeps its data and metadata as
JSON text and decodes a fresh dict on every access, so no caller can change
what is stored, or what another reader sees, by mutating what it was given.

Personal data: ``data_json``/``metadata_json`` are the stored (sealed) form;
:attr:`RecordedEvent.data` and :attr:`RecordedEvent.metadata` reveal it through
the store's key store (``keys``), an erased value reading as
:data:`~eventstore.privacy.ERASED` (see :mod:`eventstore.privacy.sealing`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from datetime import datetime
from typing import Any, cast
from uuid import UUID, uuid4

from . import codec
from .events import DomainEvent, EventRegistry, registry
from .privacy.sealing import MARK, reveal_data, reveal_metadata

__all__ = [
    "ANY",
    "ENVELOPE_FIELDS",
    "NO_STREAM",
    "STREAM_EXISTS",
    "ExpectedVersion",
    "NewEvent",
    "RecordedEvent",
    "make_record",
]


class ExpectedVersion:
    """A named expected-version sentinel (see :data:`ANY` and :data:`STREAM_EXISTS`)."""

    __slots__ = ("name",)

    def __init__(self, name: str):
        self.name = name

    def __repr__(self) -> str:
        return self.name

    __str__ = __repr__


ANY = ExpectedVersion("ANY")
"""Expected version that skips the concurrency check (append whatever the stream holds)."""

STREAM_EXISTS = ExpectedVersion("STREAM_EXISTS")
"""Expected version that requires the stream to hold at least one event."""

NO_STREAM = 0
"""Expected version meaning "the stream must not exist yet" (an exact 0)."""


@dataclasses.dataclass(frozen=True)
class NewEvent:
    """An event to append.

    Attributes:
        event_type: registered event type name.
        data: JSON-serializable payload (``Decimal``, aware ``datetime`` and
            ``UUID`` are stored as exact strings, see :mod:`eventstore.codec`).
        event_id: unique in the whole store; a fixed id makes retries idempotent.
        metadata: who/where (``organization_id``, ``user_id``, ...), a JSON object.
        correlation_id / causation_id: request chain and direct cause, or None
            to take the batch's values given to ``append``.
        timestamp: aware datetime to keep (imports); None means "now" by the
            store's clock.
        schema_version: version of ``data``'s shape; None means the registered
            class's current version.
    """

    event_type: str
    data: Mapping[str, Any]
    event_id: UUID = dataclasses.field(default_factory=uuid4)
    metadata: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    correlation_id: str | None = None
    causation_id: str | None = None
    timestamp: datetime | None = None
    schema_version: int | None = None

    @classmethod
    def from_domain(cls, event: DomainEvent, **envelope: Any) -> NewEvent:
        """Wrap a :class:`DomainEvent` instance; ``envelope`` sets the other attributes."""
        return cls(
            event_type=event.event_type,
            data=event.to_data(),
            schema_version=event.schema_version,
            **envelope,
        )


@dataclasses.dataclass(frozen=True, slots=True)
class RecordedEvent:
    """An event as stored: immutable, with its place in its stream and in the store.

    Attributes:
        event_id: the event's unique id.
        aggregate_id / aggregate_type: the stream the event belongs to.
        event_type: registered event type name.
        version: 1-based position in the aggregate's stream.
        position: 1-based position in the whole store ("all" stream).
        timestamp: when the store recorded it, aware UTC.
        correlation_id / causation_id: request chain and direct cause (or None).
        schema_version: shape of the stored ``data``.
        data_json / metadata_json: the stored JSON text (personal values in
            their sealed form); use :attr:`data` and :attr:`metadata` for dicts.
        chain_hash: the event's link in the store's hash chain, 32 bytes once
            stored (see :mod:`eventstore.integrity`); ``b""`` for a record not
            (yet) stored.
        keys: the key store of the store that returned the event (None: a
            record read from a file), which :attr:`data` and :attr:`metadata`
            reveal personal values with; not compared, not shown.
    """

    event_id: UUID
    aggregate_id: str
    aggregate_type: str
    event_type: str
    version: int
    position: int
    timestamp: datetime
    correlation_id: str | None
    causation_id: str | None
    schema_version: int
    data_json: str
    metadata_json: str
    chain_hash: bytes = b""
    keys: Any = dataclasses.field(default=None, compare=False, repr=False)

    @property
    def data(self) -> dict[str, Any]:
        """The payload as a new dict (mutating it changes nothing stored).

        Personal values are revealed, or :data:`~eventstore.privacy.ERASED`.
        """
        text = self.data_json
        if MARK not in text:
            return cast(dict[str, Any], codec.loads(text))
        return reveal_data(text, self.metadata_json, self.event_id, self.keys)

    @property
    def metadata(self) -> dict[str, Any]:
        """The metadata as a new dict (mutating it changes nothing stored).

        Personal values are revealed, or :data:`~eventstore.privacy.ERASED`;
        the sealed envelopes (key ``"$personal"``) are left out.
        """
        text = self.metadata_json
        if MARK not in text:
            return cast(dict[str, Any], codec.loads(text))
        return reveal_metadata(text, self.event_id, self.keys)

    def to_event(self, event_registry: EventRegistry = registry) -> DomainEvent:
        """Decode into the registered :class:`DomainEvent`, upcasting old payloads.

        Raises:
            UnknownEventTypeError: if the event type is not registered.
            InvalidEventError: if the payload cannot be upcast or does not fit.
        """
        return event_registry.decode(self.event_type, self.schema_version, self.data)

    def as_dict(self) -> dict[str, Any]:
        """Return every field as JSON-native values (ids and times as strings)."""
        return {
            "event_id": str(self.event_id),
            "aggregate_id": self.aggregate_id,
            "aggregate_type": self.aggregate_type,
            "event_type": self.event_type,
            "version": self.version,
            "position": self.position,
            "timestamp": self.timestamp.isoformat(),
            "correlation_id": self.correlation_id,
            "causation_id": self.causation_id,
            "schema_version": self.schema_version,
            "metadata": self.metadata,
            "data": self.data,
        }


def _record_maker() -> Any:
    """Build :func:`make_record`: the slots set directly, skipping the frozen ``__init__``.

    A frozen dataclass's ``__init__`` sets each field through ``object.__setattr__``;
    the slot descriptors' own setters do the same work in about half the time.
    """
    setters = [
        getattr(RecordedEvent, field.name).__set__ for field in dataclasses.fields(RecordedEvent)
    ]
    new = object.__new__
    (s0, s1, s2, s3, s4, s5, s6, s7, s8, s9, s10, s11, s12) = setters[:13]
    s13 = RecordedEvent.__dict__["keys"].__set__

    def make_record(
        event_id: UUID,
        aggregate_id: str,
        aggregate_type: str,
        event_type: str,
        version: int,
        position: int,
        timestamp: datetime,
        correlation_id: str | None,
        causation_id: str | None,
        schema_version: int,
        data_json: str,
        metadata_json: str,
        chain_hash: bytes = b"",
        keys: Any = None,
    ) -> RecordedEvent:
        record = new(RecordedEvent)
        s0(record, event_id)
        s1(record, aggregate_id)
        s2(record, aggregate_type)
        s3(record, event_type)
        s4(record, version)
        s5(record, position)
        s6(record, timestamp)
        s7(record, correlation_id)
        s8(record, causation_id)
        s9(record, schema_version)
        s10(record, data_json)
        s11(record, metadata_json)
        s12(record, chain_hash)
        s13(record, keys)
        return record

    return make_record


make_record = _record_maker()
"""Return a :class:`RecordedEvent` from its fields in declaration order, unchecked.

The same object ``RecordedEvent(...)`` builds, made faster, for backends that
build records from values they already checked.
"""

#: The fields of a recorded event besides its data, metadata and chain hash, in their
#: usual order (the fields before ``data_json``).
ENVELOPE_FIELDS = tuple(
    field.name
    for field in dataclasses.fields(RecordedEvent)
    if field.name not in ("data_json", "metadata_json", "chain_hash", "keys")
)
