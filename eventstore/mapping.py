"""Events to pending records: the validation and encoding done once for every backend.

:func:`prepare_event` turns a :class:`~eventstore.events.DomainEvent` or a
:class:`~eventstore.records.NewEvent` into a :class:`PendingEvent` (canonical
JSON, a UUID, an aware UTC timestamp or none yet); backends store pending
events and never see an unchecked one.
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any, NamedTuple

from . import codec
from .criteria import ensure_aware
from .events import DomainEvent, EventRegistry, _type_hints
from .exceptions import InvalidEventError, InvalidQueryError, UnknownEventTypeError
from .privacy.keys import KeyStore
from .privacy.sealing import PERSONAL, erased_view, seal, sealed_form_problem
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


class PendingEvent(NamedTuple):
    """An event validated and serialized by :meth:`BaseEventStore.append`, not yet stored.

    A named tuple (immutable, and cheap to build once per appended event).
    """

    event_id: uuid.UUID
    event_type: str
    schema_version: int
    data_json: str
    metadata_json: str
    correlation_id: str | None
    causation_id: str | None
    timestamp: datetime | None
    #: The values of :data:`INDEXED_METADATA_KEYS` in the metadata, for indexes (a
    #: personal value's blind index token, see :func:`indexable_value`).
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
    keys: KeyStore | None = None,
) -> PendingEvent:
    """Validate one event of an append's batch and encode it as a :class:`PendingEvent`.

    Args:
        event: a :class:`DomainEvent` instance or a :class:`NewEvent` record.
        index: its place in the batch (named in error messages as ``events[index]``).
        batch_metadata: merged under the event's own metadata (the event's keys win).
        correlation_id / causation_id: used when the event sets none.
        event_registry: where the event type must be registered.
        max_event_bytes: the bound on the UTF-8 size of data + metadata JSON.
        keys: the store's key store: personal values are sealed with it (see
            :mod:`eventstore.privacy.sealing`); None stores them as given (a check
            that must create no key, as :func:`~eventstore.transfer.check_importable`).

    Returns:
        The pending event: a UUID id, the schema version (the current one when
        the event gives none), canonical JSON of data and metadata (personal
        values sealed; an event already in the sealed form, an import, kept as
        it is), an aware UTC timestamp or None (the store stamps it), and the
        indexed metadata.

    Raises:
        InvalidEventError: the event is not a DomainEvent/NewEvent, its type is
            not registered, its schema version is outside 1..current, its id is
            not a UUID, data or metadata is not a JSON object (or not
            serializable, or nested too deeply), its data does not decode into
            its class (see :func:`check_replayable`), its timestamp is naive, an id
            is empty, too long or holds NUL, or it is larger than ``max_event_bytes``.
    """
    return prepare(
        event,
        index,
        batch_metadata,
        correlation_id,
        causation_id,
        event_registry,
        max_event_bytes,
        keys,
    )


def prepare(
    event: DomainEvent | NewEvent,
    index: int,
    batch_metadata: Mapping[str, Any],
    correlation_id: str | None,
    causation_id: str | None,
    event_registry: EventRegistry,
    max_event_bytes: int,
    keys: KeyStore | None = None,
) -> PendingEvent:
    """:func:`prepare_event` with positional arguments (cheaper to call once per event)."""
    if isinstance(event, NewEvent):
        native = False
        event_type, data, event_id = event.event_type, event.data, event.event_id
        metadata, timestamp = event.metadata, event.timestamp
        own_correlation, own_causation = event.correlation_id, event.causation_id
        given_version = event.schema_version
    elif isinstance(event, DomainEvent):
        # What NewEvent.from_domain(event) holds, without building it.
        native = True  # to_data() gives JSON-native values
        event_type, data, event_id = event.event_type, event.to_data(), uuid.uuid4()
        metadata, timestamp, own_correlation, own_causation = {}, None, None, None
        given_version = event.schema_version
    else:
        raise InvalidEventError(
            f"events[{index}]: expected a DomainEvent or NewEvent, got {type(event).__name__}."
        )
    try:
        event_class = event_registry.get(event_type)
    except UnknownEventTypeError:
        raise InvalidEventError(
            f"events[{index}]: event type {event_type!r} is not registered."
        ) from None
    current_version = event_class.schema_version
    schema_version = current_version if given_version is None else given_version
    if not (type(schema_version) is int and 1 <= schema_version <= current_version) and (
        isinstance(schema_version, bool)
        or not isinstance(schema_version, int)
        or not 1 <= schema_version <= current_version
    ):
        raise InvalidEventError(
            f"events[{index}]: schema_version must be 1..{current_version}, got {schema_version!r}."
        )
    if type(event_id) is not uuid.UUID and not isinstance(event_id, uuid.UUID):
        try:
            event_id = uuid.UUID(str(event_id))
        except ValueError:
            raise InvalidEventError(
                f"events[{index}]: event_id {event_id!r} is not a UUID."
            ) from None
    if (type(data) is not dict and not isinstance(data, Mapping)) or (
        type(metadata) is not dict and not isinstance(metadata, Mapping)
    ):
        raise InvalidEventError(f"events[{index}]: data and metadata must be JSON objects.")
    if batch_metadata:
        metadata = {**batch_metadata, **metadata}
    sealed = PERSONAL in metadata
    try:
        native_data = data if native else codec.to_native(data)
    except (TypeError, ValueError) as exc:
        raise InvalidEventError(f"events[{index}]: {exc}") from exc
    except RecursionError:
        raise InvalidEventError(f"events[{index}]: data is nested too deeply.") from None
    if sealed:  # an import of an export: kept as it is, it must replay once erased
        problem = sealed_form_problem(event_class, native_data, metadata)
        if problem is not None:
            raise InvalidEventError(f"events[{index}]: {problem}")
        checked = erased_view(native_data)
        if not _fits_plan(event_class, schema_version, checked, event_registry):
            check_replayable(
                event_type,
                schema_version,
                _dumps(checked, index, native=True),
                event_registry,
                f"events[{index}]",
            )
    elif not native and not _fits_plan(event_class, schema_version, native_data, event_registry):
        check_replayable(
            event_type,
            schema_version,
            _dumps(native_data, index, native=True),
            event_registry,
            f"events[{index}]",
        )
    stored_data, stored_metadata = native_data, metadata
    try:
        if keys is not None and not sealed and (event_class.personal_data or metadata):
            native_metadata = codec.to_native(metadata)  # a copy only if it was not native
            stored_data, stored_metadata = seal(event_class, native_data, native_metadata, keys)
            data_json = codec.dumps(stored_data, native=True)
            metadata_json = codec.dumps(stored_metadata, native=True)
        else:
            data_json = codec.dumps(stored_data, native=True)
            metadata_json = codec.dumps(stored_metadata)
    except (TypeError, ValueError) as exc:
        raise InvalidEventError(f"events[{index}]: {exc}") from exc
    except RecursionError:
        raise InvalidEventError(
            f"events[{index}]: data or metadata is nested too deeply."
        ) from None
    metadata = stored_metadata
    if timestamp is not None and timestamp.tzinfo is not UTC:
        try:
            timestamp = ensure_aware(timestamp, f"events[{index}].timestamp")
        except InvalidQueryError as exc:
            raise InvalidEventError(str(exc)) from None
    if (len(data_json) + len(metadata_json)) * 4 > max_event_bytes:
        size = len(data_json.encode()) + len(metadata_json.encode())
        if size > max_event_bytes:
            raise InvalidEventError(
                f"events[{index}]: {size} bytes of data and metadata exceed MAX_EVENT_BYTES "
                f"({max_event_bytes})."
            )
    own_correlation = own_correlation or correlation_id
    if own_correlation is not None and not (
        type(own_correlation) is str
        and 0 < len(own_correlation) <= MAX_ID_LENGTH
        and own_correlation.isascii()
        and "\x00" not in own_correlation
    ):
        own_correlation = check_id(f"events[{index}].correlation_id", own_correlation)
    own_causation = own_causation or causation_id
    if own_causation is not None and not (
        type(own_causation) is str
        and 0 < len(own_causation) <= MAX_ID_LENGTH
        and own_causation.isascii()
        and "\x00" not in own_causation
    ):
        own_causation = check_id(f"events[{index}].causation_id", own_causation)
    first, second = metadata.get(_FIRST_KEY), metadata.get(_SECOND_KEY)
    if type(second) is dict:  # a sealed user_id: its blind index token
        second = second.get("index")
    return PendingEvent(
        event_id,
        event_type,
        schema_version,
        data_json,
        metadata_json,
        own_correlation,
        own_causation,
        timestamp,
        (
            None if isinstance(first, (dict, list)) else first,
            None if isinstance(second, (dict, list)) else second,
        ),
    )


_FIRST_KEY, _SECOND_KEY = INDEXED_METADATA_KEYS


def _dumps(value: Any, index: int, *, native: bool = False) -> str:
    """``codec.dumps``, its errors as the :class:`InvalidEventError` of ``events[index]``."""
    try:
        return codec.dumps(value, native=native)
    except (TypeError, ValueError) as exc:
        raise InvalidEventError(f"events[{index}]: {exc}") from exc
    except RecursionError:
        raise InvalidEventError(f"events[{index}]: data is nested too deeply.") from None


#: Per event class: its fields as ``(name, check, required)``, or None when only the
#: full decode can tell (see :func:`_fits_plan`).
_plans: dict[type, tuple[tuple[str, frozenset[type], Callable[[Any], bool], bool], ...] | None] = {}


def _fits_plan(
    event_class: type[DomainEvent],
    schema_version: int,
    native_data: Mapping[str, Any],
    event_registry: EventRegistry,
) -> bool:
    """Whether the JSON-native payload surely decodes into ``event_class`` (a fast yes).

    True only when decoding it as reads do (:meth:`EventRegistry.decode`) cannot
    fail: the payload is in the current schema (no upcaster runs), every required
    field is there and every value fits its annotation as
    :func:`~eventstore.codec.from_json_value` checks it, and the class builds
    from keywords without code of its own (no ``__post_init__``, no ``from_data``
    or registry override). False means "not sure": the caller then runs the full
    :func:`check_replayable`, which raises with the precise message or accepts.
    The JSON text decodes to the same values as ``native_data`` (JSON-native
    values round-trip exactly), so checking them skips parsing the text again.
    """
    if schema_version != event_class.schema_version or type(event_registry) is not EventRegistry:
        return False
    plan = _plans.get(event_class, _MISSING)
    if plan is _MISSING:
        plan = _plans[event_class] = _build_plan(event_class)
    if plan is None:
        return False
    for name, exact_types, fits, required in plan:
        if name in native_data:
            value = native_data[name]
            if value is not None and type(value) not in exact_types and not fits(value):
                return False
        elif required:
            return False
    return True


_MISSING: Any = object()


def _build_plan(
    event_class: type[DomainEvent],
) -> tuple[tuple[str, frozenset[type], Callable[[Any], bool], bool], ...] | None:
    """Return the class's field checks for :func:`_fits_plan`, or None if it has code of its own."""
    if (
        not dataclasses.is_dataclass(event_class)
        or hasattr(event_class, "__post_init__")
        or getattr(event_class.from_data, "__func__", None) is not _BASE_FROM_DATA
    ):
        return None
    try:
        hints = _type_hints(event_class)
    except Exception:  # noqa: BLE001 - unresolvable annotations: the full check reports them
        return None
    plan = []
    for field in dataclasses.fields(event_class):
        if not field.init:
            return None
        required = (
            field.default is dataclasses.MISSING and field.default_factory is dataclasses.MISSING
        )
        annotation = hints[field.name]
        exact = _EXACT_TYPES.get(annotation, frozenset()) if _hashable(annotation) else frozenset()
        plan.append((field.name, exact, _fits_annotation(annotation), required))
    return tuple(plan)


_BASE_FROM_DATA = DomainEvent.from_data.__func__  # type: ignore[attr-defined]

#: Exact checks for common annotations (what codec.from_json_value accepts for them).
_SCALAR_FITS: dict[Any, Callable[[Any], bool]] = {
    str: lambda value: isinstance(value, str),
    bool: lambda value: isinstance(value, bool),
    int: lambda value: isinstance(value, int) and not isinstance(value, bool),
    float: lambda value: isinstance(value, (int, float)) and not isinstance(value, bool),
    Any: lambda value: True,
}


#: Types of JSON-native values that always fit an annotation (no call needed to check).
_EXACT_TYPES: dict[Any, frozenset[type]] = {
    str: frozenset({str}),
    int: frozenset({int}),
    bool: frozenset({bool}),
    float: frozenset({int, float}),
}


def _hashable(value: Any) -> bool:
    try:
        hash(value)
    except TypeError:
        return False
    return True


def _fits_annotation(annotation: Any) -> Callable[[Any], bool]:
    """Return a predicate: does a JSON-native value convert to ``annotation`` without error?"""
    try:
        scalar = _SCALAR_FITS.get(annotation)
    except TypeError:  # an unhashable annotation
        scalar = None
    if scalar is not None:
        return scalar

    def fits(value: Any) -> bool:
        try:
            codec.from_json_value(value, annotation)
        except Exception:  # noqa: BLE001 - "not sure": the full check gives the message
            return False
        return True

    return fits


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
    """Return ``value`` if an index can hold it (a scalar), else None.

    A sealed personal value (its placeholder) gives its blind index token, or
    None when it has none (see :mod:`eventstore.privacy.sealing`).
    """
    if isinstance(value, dict):
        token = value.get(PERSONAL) and value.get("index")
        return token if isinstance(token, str) else None
    return None if isinstance(value, list) else value


def check_id(name: str, value: Any, *, required: bool = False) -> Any:
    """Return ``value`` if it is a valid id, or None when it is None and optional.

    A valid id is a string of 1 to 255 characters without NUL that has a UTF-8
    form (no lone surrogate).

    Raises:
        InvalidEventError: naming ``name``, when the value is not such a string.
    """
    if type(value) is str and 0 < len(value) <= MAX_ID_LENGTH and value.isascii():
        if "\x00" not in value:
            return value
    elif value is None and not required:
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
