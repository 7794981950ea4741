"""Import of recorded events from another store (or an export file), keeping their identity."""

from __future__ import annotations

from collections.abc import Iterable

from . import codec
from .backends.base import BaseEventStore
from .mapping import check_id, prepare_event
from .records import NewEvent, RecordedEvent

__all__ = ["as_new_event", "check_importable", "import_records"]


def as_new_event(record: RecordedEvent) -> NewEvent:
    """Return ``record`` as a :class:`NewEvent` keeping its id, timestamp and schema version."""
    return NewEvent(
        event_type=record.event_type,
        data=codec.loads(record.data_json),
        event_id=record.event_id,
        metadata=codec.loads(record.metadata_json),
        correlation_id=record.correlation_id,
        causation_id=record.causation_id,
        timestamp=record.timestamp,
        schema_version=record.schema_version,
    )


def check_importable(store: BaseEventStore, record: RecordedEvent) -> None:
    """Check ``record`` exactly as ``store.append`` will, without writing anything.

    Runs the same mapping (:func:`~eventstore.mapping.prepare_event`): a
    registered type, a schema version the class knows, data that decodes into
    the class, ids and text with a UTF-8 form, the size bound.

    Raises:
        InvalidEventError: what append would raise for this record.
    """
    check_id("aggregate_id", record.aggregate_id, required=True)
    check_id("aggregate_type", record.aggregate_type, required=True)
    prepare_event(
        as_new_event(record),
        index=0,
        batch_metadata={},
        correlation_id=None,
        causation_id=None,
        event_registry=store.registry,
        max_event_bytes=store.options["MAX_EVENT_BYTES"],
    )


def import_records(store: BaseEventStore, records: Iterable[RecordedEvent]) -> list[RecordedEvent]:
    """Append recorded events from another store, keeping ids, timestamps and versions.

    ``records`` must come in position order. Consecutive events of one
    aggregate form one batch (all or nothing), appended with the expected
    version just before the first (so a stream must be imported from its
    first event on). Positions are assigned by ``store``: into an empty
    memory store they come out equal to the source's.

    Returns:
        The events as ``store`` recorded them.

    Raises:
        DuplicateEventError: an event id is already stored (nothing of that
            batch is stored; earlier batches stay).
        ConcurrencyError: a stream's versions do not follow on from what is stored.
    """
    imported: list[RecordedEvent] = []
    batch: list[RecordedEvent] = []

    def flush() -> None:
        if not batch:
            return
        first = batch[0]
        imported.extend(
            store.append(
                first.aggregate_id,
                first.aggregate_type,
                [as_new_event(record) for record in batch],
                first.version - 1,
            )
        )
        batch.clear()

    for record in records:
        if batch and (
            record.aggregate_id != batch[-1].aggregate_id or record.version != batch[-1].version + 1
        ):
            flush()
        batch.append(record)
    flush()
    return imported
