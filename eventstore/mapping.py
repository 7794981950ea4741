"""Events to pending records: the validation and encoding done once for every backend.

:func:`prepare_event` turns a :class:`~eventstore.events.DomainEvent` or a
:class:`~eventstore.records.NewEvent` into a :class:`PendingEvent` (canonical
JSON, a UUID, an aware UTC timestamp or none yet); backends store pending
events and never see an unchecked one.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from . import codec
from .criteria import ensure_aware
from .events import DomainEvent, EventRegistry
from .exceptions import InvalidEventError, InvalidQueryError, UnknownEventTypeError
from .records import NewEvent

__all__ = [
    "DEFAULT_MAX_EVENT_BYTES",
    "INDEXED_METADATA_KEYS",
    "MAX_ID_LENGTH",
    "PendingEvent",
    "check_id",
    "check_replayable",
    "indexable_value",
    "prepare_event",
]

#: Metadata keys that backends index (and that searches on them use).
INDEXED_METADATA_KEYS = ("organization_id", "user_id")
#: Longest aggregate, correlation or causation id, in characters.
MAX_ID_LENGTH = 255
#: Default bound on one event's data + metadata, in UTF-8 bytes.
DEFAULT_MAX_EVENT_BYTES = 1_048_576


@dataclass(frozen=True, slots=True)
class PendingEvent:
    """An event validated and serialized by :meth:`BaseEventStore.append`, not yet stored."""

    event_id: uuid.UUID
    event_type: str
    schema_version: int
    data_json: str
    metadata_json: str
    correlation_id: str | None
    causation_id: str | None
    timestamp: datetime | None
    #: The values of :data:`INDEXED_METADATA_KEYS` in the metadata, for indexes.
    indexed_metadata: tuple[Any, ...] = ()


def prepare_event(
    event: DomainEvent | NewEvent,
    *,
    index: int,
    batch_metadata: Mapping[str, Any],
    correlation_id: str | None,
    causation_id: str | None,
    event_registry: EventRegistry,
    max_event_bytes: int,
) -> PendingEvent:
    """Validate one event of an append's batch and encode it as a :class:`PendingEvent`.

    Args:
        event: a :class:`DomainEvent` instance or a :class:`NewEvent` record.
        index: its place in the batch (named in error messages as ``events[index]``).
        batch_metadata: merged under the event's own metadata (the event's keys win).
        correlation_id / causation_id: used when the event sets none.
        event_registry: where the event type must be registered.
        max_event_bytes: the bound on the UTF-8 size of data + metadata JSON.

    Returns:
        The pending event: a UUID id, the schema version (the current one when
        the event gives none), canonical JSON of data and metadata, an aware
        UTC timestamp or None (the store stamps it), and the indexed metadata.

    Raises:
        InvalidEventError: the event is not a DomainEvent/NewEvent, its type is
            not registered, its schema version is outside 1..current, its id is
            not a UUID, data or metadata is not a JSON object (or not
            serializable, or nested too deeply), its data does not decode into
            its class (see :func:`check_replayable`), its timestamp is naive, an id
            is empty, too long or holds NUL, or it is larger than ``max_event_bytes``.
    """
    where = f"events[{index}]"
    native = False
    if isinstance(event, DomainEvent):
        event = NewEvent.from_domain(event)
        native = True  # to_data() already gave JSON-native values
    elif not isinstance(event, NewEvent):
        raise InvalidEventError(
            f"{where}: expected a DomainEvent or NewEvent, got {type(event).__name__}."
        )
    try:
        current_version = event_registry.get(event.event_type).schema_version
    except UnknownEventTypeError:
        raise InvalidEventError(
            f"{where}: event type {event.event_type!r} is not registered."
        ) from None
    schema_version = current_version if event.schema_version is None else event.schema_version
    if (
        isinstance(schema_version, bool)
        or not isinstance(schema_version, int)
        or not 1 <= schema_version <= current_version
    ):
        raise InvalidEventError(
            f"{where}: schema_version must be 1..{current_version}, got {schema_version!r}."
        )
    event_id = event.event_id
    if not isinstance(event_id, uuid.UUID):
        try:
            event_id = uuid.UUID(str(event_id))
        except ValueError:
            raise InvalidEventError(f"{where}: event_id {event_id!r} is not a UUID.") from None
    if not isinstance(event.data, Mapping) or not isinstance(event.metadata, Mapping):
        raise InvalidEventError(f"{where}: data and metadata must be JSON objects.")
    metadata = {**batch_metadata, **event.metadata} if batch_metadata else event.metadata
    try:
        data_json = codec.dumps(event.data, native=native)
        metadata_json = codec.dumps(metadata)
    except (TypeError, ValueError) as exc:
        raise InvalidEventError(f"{where}: {exc}") from exc
    except RecursionError:
        raise InvalidEventError(f"{where}: data or metadata is nested too deeply.") from None
    if not native:
        check_replayable(event.event_type, schema_version, data_json, event_registry, where)
    timestamp = event.timestamp
    if timestamp is not None and timestamp.tzinfo is not UTC:
        try:
            timestamp = ensure_aware(timestamp, f"{where}.timestamp")
        except InvalidQueryError as exc:
            raise InvalidEventError(str(exc)) from None
    limit = max_event_bytes
    if (len(data_json) + len(metadata_json)) * 4 > limit:
        size = len(data_json.encode()) + len(metadata_json.encode())
        if size > limit:
            raise InvalidEventError(
                f"{where}: {size} bytes of data and metadata exceed MAX_EVENT_BYTES ({limit})."
            )
    return PendingEvent(
        event_id=event_id,
        event_type=event.event_type,
        schema_version=schema_version,
        data_json=data_json,
        metadata_json=metadata_json,
        correlation_id=check_id(f"{where}.correlation_id", event.correlation_id or correlation_id),
        causation_id=check_id(f"{where}.causation_id", event.causation_id or causation_id),
        timestamp=timestamp,
        indexed_metadata=tuple(indexable_value(metadata.get(key)) for key in INDEXED_METADATA_KEYS),
    )


def check_replayable(
    event_type: str, schema_version: int, data_json: str, event_registry: EventRegistry, where: str
) -> None:
    """Raise unless the stored payload decodes into its registered class, as reads will.

    The payload (canonical JSON, at ``schema_version``) is upcast to the current
    shape and built into the class with the same rules as
    :meth:`~eventstore.events.DomainEvent.from_data`, so what is stored can
    always be replayed. A :class:`DomainEvent` instance needs no check: its
    payload came from the class itself.

    Raises:
        InvalidEventError: naming ``where``, the type and what does not fit (a
            missing field, a value of the wrong type, an upcaster that failed).
    """
    try:
        event_registry.decode(event_type, schema_version, codec.loads(data_json))
    except InvalidEventError as exc:
        raise InvalidEventError(f"{where}: the data does not fit {event_type}: {exc}") from None
    except Exception as exc:  # an upcaster is project code: any failure means "not replayable"
        raise InvalidEventError(
            f"{where}: upcasting {event_type} from schema version {schema_version} failed: "
            f"{type(exc).__name__}: {exc}"
        ) from exc


def indexable_value(value: Any) -> Any:
    """Return ``value`` if an index can hold it (a scalar), else None."""
    return None if isinstance(value, (dict, list)) else value


def check_id(name: str, value: Any, *, required: bool = False) -> Any:
    """Return ``value`` if it is a valid id, or None when it is None and optional.

    A valid id is a string of 1 to 255 characters without NUL that has a UTF-8
    form (no lone surrogate).

    Raises:
        InvalidEventError: naming ``name``, when the value is not such a string.
    """
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value or len(value) > MAX_ID_LENGTH or "\x00" in value:
        raise InvalidEventError(
            f"{name} must be a non-empty string of at most {MAX_ID_LENGTH} characters, "
            f"got {value!r}."
        )
    if not value.isascii():
        try:
            codec.check_utf8(value)
        except ValueError as exc:
            raise InvalidEventError(f"{name}: {exc}") from None
    return value
