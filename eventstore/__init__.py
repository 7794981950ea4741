"""eventstore: an event-sourcing event store for Django with settings-selected backends.

Public API::

    from eventstore import eventstore, eventstores, ANY, NO_STREAM, STREAM_EXISTS
    from eventstore import DomainEvent, NewEvent, RecordedEvent, event
    from eventstore.exceptions import ConcurrencyError

Vocabulary: an *aggregate* (``aggregate_id``, ``aggregate_type``) has one
*stream* of events; *version* is an event's 1-based place in its stream,
*expected_version* the version a writer last saw (0: the stream must not
exist); *position* is its 1-based place in the whole store; *correlation_id*
is shared by everything one request caused, *causation_id* names the direct
cause; a *projection* derives a read model and keeps a *checkpoint*.
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
