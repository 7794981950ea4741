"""The errors the event store raises.

Every error derives from :class:`EventStoreError`, and each also derives from
the built-in exception that best matches it (``ValueError`` for bad input,
``ImproperlyConfigured`` for bad settings), so callers can catch either.
"""

from __future__ import annotations

from django.core.exceptions import ImproperlyConfigured


class EventStoreError(Exception):
    """Base class of every error raised by the event store."""


class InvalidBackendError(EventStoreError, ImproperlyConfigured):
    """An ``EVENTSTORES`` entry names a backend that cannot be loaded or configured."""


class ConcurrencyError(EventStoreError):
    """An append's expected version does not match the aggregate's actual version.

    Attributes:
        aggregate_id: the stream that was written to.
        expected_version: what the writer expected (an int, or the name of a
            sentinel such as ``"STREAM_EXISTS"``).
        actual_version: the stream's version when the append was refused
            (0 when the stream does not exist).
    """

    def __init__(self, aggregate_id: str, expected_version: object, actual_version: int):
        self.aggregate_id = aggregate_id
        self.expected_version = expected_version
        self.actual_version = actual_version
        super().__init__(
            f"Concurrency conflict on aggregate {aggregate_id!r}: "
            f"expected version {expected_version}, actual version {actual_version}."
        )


class DuplicateEventError(EventStoreError, ValueError):
    """An event id of the batch is already stored, and the append is not a retry of it."""

    def __init__(self, event_id: object, message: str | None = None):
        self.event_id = event_id
        super().__init__(message or f"An event with id {event_id} is already stored.")


class InvalidEventError(EventStoreError, ValueError):
    """An event of a batch cannot be stored (bad type, payload, timestamp or size)."""


class InvalidQueryError(EventStoreError, ValueError):
    """A read or search was given criteria that make no sense (naive datetime, bad range)."""


class UnknownEventTypeError(EventStoreError, LookupError):
    """An event type name is not in the registry."""

    def __init__(self, event_type: str):
        self.event_type = event_type
        super().__init__(f"Event type {event_type!r} is not registered.")


class UndecodableEventError(EventStoreError, ValueError):
    """A stored event cannot be decoded into its registered class (or its type is unknown).

    Raised when state is built from history: the event stays readable as a raw
    record; only what needs its class (replay, state) cannot go past it.

    Attributes:
        event_type: the stored type name.
        version: the event's version in its stream.
        position: its position in the store.
    """

    def __init__(self, event_type: str, version: int, position: int, reason: str):
        self.event_type = event_type
        self.version = version
        self.position = position
        super().__init__(
            f"Event {event_type!r} at version {version} (position {position}) cannot be "
            f"decoded: {reason}"
        )


class AggregateNotFoundError(EventStoreError, LookupError):
    """An aggregate has no events in the store."""

    def __init__(self, aggregate_id: str):
        self.aggregate_id = aggregate_id
        super().__init__(f"Aggregate {aggregate_id!r} does not exist.")


class EventStoreFull(EventStoreError):
    """An append would pass the store's configured bound; nothing was stored or evicted."""


class InvalidSubjectError(EventStoreError, ValueError):
    """A data subject is not written ``<kind>:<id>`` (see :mod:`eventstore.privacy`)."""


class UnknownSubjectError(EventStoreError, LookupError):
    """The store holds no personal data of a data subject and never erased any."""

    def __init__(self, subject: str):
        self.subject = subject
        super().__init__(
            f"The audit trail holds no personal data of {subject!r} and never erased any."
        )
