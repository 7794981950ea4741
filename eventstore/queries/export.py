"""Events as CSV rows: one format for the event browser's download and the API's ``text/csv``.

Columns (header row first), one row per event:

``position, event_id, timestamp, event_type, schema_version, aggregate_type,
aggregate_id, version, correlation_id, causation_id, organization_id, user_id,
amount, currency, data, metadata``

- ``timestamp``: ISO 8601 with UTC offset, as stored (UTC).
- ``organization_id``, ``user_id``: from the metadata (empty when absent).
- ``amount``, ``currency``: the money the event carries
  (:func:`~eventstore.money.event_money`), the amount as the exact
  decimal string recorded ("20.00", never rounded or in exponent form);
  empty for events without money.
- ``data``, ``metadata``: compact JSON of the whole payload, so nothing is lost.
- When the export is filtered by event type, one more column per field those
  event classes declare (``data.reason``, ``data.refund_id``: dataclass fields
  in declaration order, ``amount`` and ``currency`` left out as they have
  their own), empty for events without that field; a spreadsheet can then
  sort and filter on them.

Text cells that a spreadsheet would run as a formula are neutralised
(:func:`~eventstore.queries.csv.csv_cell`, OWASP "CSV Injection").
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

from ..backends.base import BaseEventStore
from ..events import registry
from ..money import event_money
from ..records import RecordedEvent
from .csv import csv_lines

__all__ = [
    "CHUNK",
    "EVENT_CSV_HEADER",
    "data_columns",
    "event_csv_header",
    "event_csv_lines",
    "event_csv_row",
    "matching_events",
]

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
_MONEY_FIELDS = ("amount", "currency")
#: Events read per store query while streaming an export.
CHUNK = 1_000


def data_columns(event_types: Iterable[str]) -> list[str]:
    """Return the data fields declared by the classes of ``event_types``, for extra columns.

    Fields of each registered class (its dataclass fields, in declaration order;
    the types in the order given), each once, without the amount and currency
    fields (those the class's money role names, else ``amount`` and ``currency``).
    A name with no registered class adds nothing. Empty for no types.
    """
    names: list[str] = []
    for event_type in event_types:
        if event_type not in registry:
            continue
        event_class = registry.get(event_type)
        if not dataclasses.is_dataclass(event_class):
            continue
        role = event_class.money_role
        money_fields = (role.amount, role.currency) if role else _MONEY_FIELDS
        for field in dataclasses.fields(event_class):
            if field.name not in names and field.name not in money_fields:
                names.append(field.name)
    return names


def event_csv_header(fields: Sequence[str] = ()) -> list[str]:
    """Return the header row: :data:`EVENT_CSV_HEADER`, then ``data.<field>`` for ``fields``."""
    return [*EVENT_CSV_HEADER, *(f"data.{name}" for name in fields)]


def event_csv_row(
    event: RecordedEvent | Mapping[str, Any], fields: Sequence[str] = ()
) -> list[Any]:
    """Return the cells of one event, in :data:`EVENT_CSV_HEADER` order (values, not text).

    ``event`` is a recorded event or its JSON form (:meth:`RecordedEvent.as_dict`, what the
    API's JSON lists): both give the same row, so a CSV download and the API's JSON
    agree field for field. ``fields``: the data fields of the extra columns
    (:func:`data_columns`), each the value in the event's data or None.
    """
    record = event.as_dict() if isinstance(event, RecordedEvent) else event
    data, metadata = record["data"], record["metadata"]
    money = event_money(data, registry.money_role(record["event_type"]))
    return [
        record["position"],
        record["event_id"],
        record["timestamp"],
        record["event_type"],
        record["schema_version"],
        record["aggregate_type"],
        record["aggregate_id"],
        record["version"],
        record["correlation_id"],
        record["causation_id"],
        metadata.get("organization_id"),
        metadata.get("user_id"),
        money.amount if money else None,
        money.currency if money else None,
        data,
        metadata,
        *(data.get(name) for name in fields),
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


def event_csv_lines(
    events: Iterable[RecordedEvent | Mapping[str, Any]], event_types: Iterable[str] = ()
) -> Iterator[bytes]:
    """Yield the CSV file of ``events`` (records or their JSON form), UTF-8, line by line.

    The header row comes first, with a column per data field of ``event_types``
    (the filter's; see :func:`data_columns`); ``events`` is read lazily, one at a time.
    """
    fields = data_columns(event_types)
    return csv_lines(event_csv_header(fields), (event_csv_row(event, fields) for event in events))
