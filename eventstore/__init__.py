"""eventstore: an event-sourcing event store for Django with settings-selected backends.

Public API::

    from eventstore import eventstore, eventstores, ANY, NO_STREAM, STREAM_EXISTS
    from eventstore import DomainEvent, NewEvent, RecordedEvent, event
    from eventstore.exceptions import ConcurrencyError

See ``DESIGN.md`` for the vocabulary (aggregate, stream, version, position, ...).
"""

from .events import DomainEvent, event, registry
from .handler import eventstore, eventstores
from .records import ANY, NO_STREAM, STREAM_EXISTS, NewEvent, RecordedEvent

__all__ = [
    "ANY",
    "NO_STREAM",
    "STREAM_EXISTS",
    "DomainEvent",
    "NewEvent",
    "RecordedEvent",
    "event",
    "eventstore",
    "eventstores",
    "registry",
]
