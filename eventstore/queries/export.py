"""Events as CSV rows: one format for the event browser's download and the API's ``text/csv``.

Columns (header row first), one row per event:

``position, event_id, timestamp, event_type, schema_version, aggregate_type,
aggregate_id, version, correlation_id, causation_id, organization_id, user_id,
amount, currency, data, metadata``

- ``timestamp``: ISO 8601 with UTC offset, as stored (UTC).
- ``organization_id``, ``user_id``: from the metadata (empty when absent).
- ``amount``, ``currency``: the money the event carries
  (:func:`~eventstore.queries.money.event_money`), the amount as the exact
  decimal string recorded ("20.00", never rounded or in exponent form);
  empty for events without money.
- ``data``, ``metadata``: compact JSON of the whole payload, so nothing is lost.

Text cells that a spreadsheet would run as a formula are neutralised
(:func:`~eventstore.queries.csv.csv_cell`, OWASP "CSV Injection").
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from ..backends.base import BaseEventStore
from ..records import RecordedEvent
from .csv import csv_lines
from .money import event_money

__all__ = ["CHUNK", "EVENT_CSV_HEADER", "event_csv_lines", "event_csv_row", "matching_events"]

EVENT_CSV_HEADER = (
    "position",
    "event_id",
    "timestamp",
    "event_type",
    "schema_version",
    "aggregate_type",
    "aggregate_id",
    "version",
    "correlation_id",
    "causation_id",
    "organization_id",
    "user_id",
    "amount",
    "currency",
    "data",
    "metadata",
)
#: Events read per store query while streaming an export.
CHUNK = 1_000


def event_csv_row(event: RecordedEvent | Mapping[str, Any]) -> list[Any]:
    """Return the cells of one event, in :data:`EVENT_CSV_HEADER` order (values, not text).

    ``event`` is a recorded event or its JSON form (:meth:`RecordedEvent.as_dict`, what the
    API's JSON lists): both give the same row, so a CSV download and the API's JSON
    agree field for field.
    """
    fields = event.as_dict() if isinstance(event, RecordedEvent) else event
    data, metadata = fields["data"], fields["metadata"]
    money = event_money(data)
    return [
        fields["position"],
        fields["event_id"],
        fields["timestamp"],
        fields["event_type"],
        fields["schema_version"],
        fields["aggregate_type"],
        fields["aggregate_id"],
        fields["version"],
        fields["correlation_id"],
        fields["causation_id"],
        metadata.get("organization_id"),
        metadata.get("user_id"),
        money.amount if money else None,
        money.currency if money else None,
        data,
        metadata,
    ]


def matching_events(
    store: BaseEventStore, criteria: Mapping[str, Any], *, chunk: int = CHUNK
) -> Iterator[RecordedEvent]:
    """Yield every event matching ``criteria``, in position order (oldest first).

    Reads ``chunk`` events per store query, after the last position yielded,
    so memory holds one chunk whatever the number of matches. The export
    stops at the store's last position when it starts: events appended while
    it runs are left out, so it always ends.

    Raises:
        InvalidQueryError: from the store, for criteria it refuses (on the first read).
    """
    bounded = {"position__lte": store.last_position(), **criteria}
    after = 0
    while True:
        found = store.search(**bounded, after_position=after, limit=chunk)
        yield from found
        if len(found) < chunk:
            return
        after = found[-1].position


def event_csv_lines(events: Iterable[RecordedEvent | Mapping[str, Any]]) -> Iterator[bytes]:
    """Yield the CSV file of ``events`` (records or their JSON form), UTF-8, line by line.

    The header row comes first; ``events`` is read lazily, one at a time.
    """
    return csv_lines(EVENT_CSV_HEADER, (event_csv_row(event) for event in events))
