"""The floor of the append rows: a locked, indexed list store fed pre-encoded JSON.

What the memory backend cannot be faster than, written as plainly as Python
allows: one lock, one list of records (tuples), and the indexes the backend
keeps (by event id, aggregate, aggregate type, correlation id, causation id,
``organization_id`` and ``user_id``, event type in time order), with the
stream's expected-version check and the duplicate-id check. Its input is an
event already validated and encoded (the JSON text made before the timer), so
its rate is the cost of storing and indexing alone: no validation, no
encoding, no timestamps chosen, no publishing. The benchmark compares our
``append`` (which does all of those) against it.
"""

from __future__ import annotations

import threading
from datetime import datetime
from typing import Any, NamedTuple

__all__ = ["FloorEvent", "FloorStore"]


class FloorEvent(NamedTuple):
    """One pre-encoded event for :meth:`FloorStore.append`."""

    event_id: Any
    event_type: str
    timestamp: datetime
    correlation_id: str | None
    causation_id: str | None
    organization_id: str | None
    user_id: str | None
    data_json: str
    metadata_json: str


class FloorStore:
    """A list under a lock, and the memory backend's indexes (see the module)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.events: list[tuple[Any, ...]] = []
        self.by_id: dict[Any, tuple[Any, ...]] = {}
        self.streams: dict[str, list[tuple[Any, ...]]] = {}
        self.by_aggregate_type: dict[str, list[tuple[Any, ...]]] = {}
        self.by_correlation: dict[str, list[tuple[Any, ...]]] = {}
        self.by_causation: dict[str, list[tuple[Any, ...]]] = {}
        self.by_organization: dict[str, list[tuple[Any, ...]]] = {}
        self.by_user: dict[str, list[tuple[Any, ...]]] = {}
        self.by_type: dict[str, list[tuple[Any, ...]]] = {}

    def append(
        self,
        aggregate_id: str,
        aggregate_type: str,
        events: list[FloorEvent],
        expected_version: int,
    ) -> list[tuple[Any, ...]]:
        """Store ``events`` at the end of the stream if it is at ``expected_version``.

        Returns the records ``(event_id, aggregate_id, aggregate_type, event_type,
        version, position, timestamp, correlation_id, causation_id, data_json,
        metadata_json)``.

        Raises:
            RuntimeError: the stream is at another version, or an id is stored.
        """
        with self.lock:
            stream = self.streams.get(aggregate_id)
            version = len(stream) if stream else 0
            if version != expected_version:
                raise RuntimeError(f"{aggregate_id}: version {version}, not {expected_version}")
            by_id = self.by_id
            for event in events:
                if event.event_id in by_id:
                    raise RuntimeError(f"duplicate event id {event.event_id}")
            if stream is None:
                stream = self.streams[aggregate_id] = []
            position = len(self.events)
            records = []
            for offset, event in enumerate(events, start=1):
                record = (
                    event.event_id,
                    aggregate_id,
                    aggregate_type,
                    event.event_type,
                    version + offset,
                    position + offset,
                    event.timestamp,
                    event.correlation_id,
                    event.causation_id,
                    event.data_json,
                    event.metadata_json,
                )
                records.append(record)
                self.events.append(record)
                by_id[event.event_id] = record
                stream.append(record)
                self.by_aggregate_type.setdefault(aggregate_type, []).append(record)
                for index, key in (
                    (self.by_correlation, event.correlation_id),
                    (self.by_causation, event.causation_id),
                    (self.by_organization, event.organization_id),
                    (self.by_user, event.user_id),
                ):
                    if key is not None:
                        index.setdefault(key, []).append(record)
                self.by_type.setdefault(event.event_type, []).append(record)
            return records

    def __len__(self) -> int:
        return len(self.events)
