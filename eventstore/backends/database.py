"""The database backend, on the Django ORM (SQLite for development, PostgreSQL for deployments).

Several worker processes (or machines) share one history here, unlike the
process-memory backend.

Commit-ordered positions: every append first updates the single
:class:`~eventstore.models.PositionCounter` row, inside the append's
transaction. That row stays locked until the transaction ends (a row lock on
PostgreSQL; SQLite's write lock), so appends run one after another and each
takes the positions right after the previous commit's. A reader paging
"everything after position P" therefore never sees position P+2 while P+1 is
still uncommitted: nothing can be skipped, and positions have no gaps (a
rolled-back append rolls the counter back too). The cost is that appends do
not run in parallel, which the benchmark figures show.

Concurrency: the expected version is checked under that lock; the unique
constraint on (aggregate_id, version) backs it up. Database errors become
the store's own errors in one place, :func:`translate_errors`.

Events are published on the event bus after the transaction commits
(``transaction.on_commit``), never for a rolled-back append.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any, cast

from django.db import DatabaseError, IntegrityError, connections, transaction
from django.db.models import Count, Max, Q, QuerySet

from .. import codec
from ..bus import publish
from ..criteria import Criteria, Range, searchable_text
from ..exceptions import (
    ConcurrencyError,
    DuplicateEventError,
    EventStoreError,
    InvalidBackendError,
    InvalidEventError,
)
from ..mapping import PendingEvent
from ..projections.notify import notify_append
from ..records import ENVELOPE_FIELDS, RecordedEvent
from .base import BaseEventStore, ExpectedVersionArg

if TYPE_CHECKING:
    from ..models import StoredEvent

__all__ = ["DatabaseEventStore", "records", "to_record", "translate_errors"]

COUNTER = "events"
_INDEXED_METADATA = {"organization_id": "organization_id", "user_id": "user_id"}


@contextlib.contextmanager
def translate_errors(aggregate_id: str | None = None) -> Iterator[None]:
    """Turn database errors into the store's errors.

    A unique violation on (aggregate_id, version) becomes :class:`ConcurrencyError`,
    one on event_id :class:`DuplicateEventError`; a value the database refuses
    :class:`InvalidEventError`; anything else :class:`EventStoreError`.
    """
    try:
        yield
    except IntegrityError as exc:
        text = str(exc).lower()
        if "event_id" in text:
            raise DuplicateEventError(
                None, f"An event id of the batch is already stored: {exc}"
            ) from exc
        if "version" in text or "aggregate" in text:
            raise ConcurrencyError(aggregate_id or "?", "?", -1) from exc
        raise EventStoreError(f"Database refused the append: {exc}") from exc
    except DatabaseError as exc:
        if exc.__class__.__name__ == "DataError":
            raise InvalidEventError(f"Database refused a value: {exc}") from exc
        raise EventStoreError(f"Database error: {exc}") from exc


class DatabaseEventStore(BaseEventStore):
    """Event store in the ``eventstore_storedevent`` table of a Django database.

    Options:
        DATABASE (str): the ``DATABASES`` alias to use (default ``"default"``).
        MAX_EVENT_BYTES (int): largest data + metadata of one event (default 1 MiB).

    Every alias configured on the same database shares one event table.
    """

    option_defaults = {**BaseEventStore.option_defaults, "DATABASE": "default"}

    def validate_options(self, options: dict[str, Any]) -> dict[str, Any]:
        merged = super().validate_options(options)
        from django.conf import settings

        if merged["DATABASE"] not in settings.DATABASES:
            raise InvalidBackendError(
                f"EVENTSTORES[{self.alias!r}]: OPTIONS['DATABASE'] {merged['DATABASE']!r} is "
                "not in settings.DATABASES."
            )
        return merged

    @property
    def using(self) -> str:
        return cast(str, self.options["DATABASE"])

    def _events(self) -> QuerySet[StoredEvent]:
        from ..models import StoredEvent

        return StoredEvent.objects.using(self.using)

    # -- writing ---------------------------------------------------------------------------

    def _append(
        self,
        aggregate_id: str,
        aggregate_type: str,
        pending: list[PendingEvent],
        expected_version: ExpectedVersionArg,
    ) -> tuple[list[RecordedEvent], bool]:
        from ..models import StoredEvent

        with translate_errors(aggregate_id), transaction.atomic(using=self.using):
            last = self._lock_positions(len(pending))
            ids = [event.event_id for event in pending]
            existing = {row.event_id: row for row in self._events().filter(event_id__in=ids)}
            if pending[0].event_id in existing:
                first = to_record(existing[pending[0].event_id])
                stored = self.read_aggregate(
                    first.aggregate_id, first.version, first.version + len(pending) - 1
                )
                transaction.set_rollback(True, using=self.using)  # give the positions back
                return self.retried_batch(
                    first, stored, aggregate_id, pending, expected_version
                ), False
            if existing:
                raise DuplicateEventError(next(iter(existing)))
            head = (
                self._events()
                .filter(aggregate_id=aggregate_id)
                .order_by("-version")
                .values_list("version", "aggregate_type", "timestamp")
                .first()
            )
            actual, stored_type, previous = head if head else (0, None, None)
            self.check_expected_version(aggregate_id, expected_version, actual)
            self.check_stream_type(stored_type, aggregate_id, aggregate_type)
            stamps = self.stream_timestamps(pending, previous)
            rows = []
            for offset, (event, stamp) in enumerate(zip(pending, stamps, strict=True), start=1):
                data = codec.loads(event.data_json)
                metadata = codec.loads(event.metadata_json)
                rows.append(
                    StoredEvent(
                        position=last + offset,
                        event_id=event.event_id,
                        aggregate_id=aggregate_id,
                        aggregate_type=aggregate_type,
                        event_type=event.event_type,
                        version=actual + offset,
                        timestamp=stamp,
                        correlation_id=event.correlation_id,
                        causation_id=event.causation_id,
                        schema_version=event.schema_version,
                        organization_id=_scalar_text(metadata.get("organization_id")),
                        user_id=_scalar_text(metadata.get("user_id")),
                        data=data,
                        metadata=metadata,
                        search_text=searchable_text(data),
                    )
                )
            StoredEvent.objects.using(self.using).bulk_create(rows)
            notify_append(self.using, rows[-1].position)  # PostgreSQL: NOTIFY, sent on commit
        return [to_record(row) for row in rows], True

    def _lock_positions(self, count: int) -> int:
        """Take the append lock and reserve ``count`` positions; return the last one used."""
        from ..models import PositionCounter

        table = connections[self.using].ops.quote_name(PositionCounter._meta.db_table)
        # One round trip: UPDATE ... RETURNING (PostgreSQL, and SQLite since 3.35).
        sql = f"UPDATE {table} SET value = value + %s WHERE name = %s RETURNING value"  # noqa: S608
        with connections[self.using].cursor() as cursor:
            cursor.execute(sql, [count, COUNTER])
            row = cursor.fetchone()
            if row is None:
                # First append (or the table was emptied): start after the highest position.
                highest = self._events().aggregate(Max("position"))["position__max"] or 0
                try:
                    with transaction.atomic(using=self.using):
                        PositionCounter.objects.using(self.using).create(
                            name=COUNTER, value=highest
                        )
                except IntegrityError:
                    pass  # another writer created it first
                cursor.execute(sql, [count, COUNTER])
                row = cursor.fetchone()
        return cast(int, row[0]) - count

    def publish(self, records: Sequence[RecordedEvent]) -> None:
        """Publish once the surrounding transaction commits; never for a rolled-back one."""
        transaction.on_commit(lambda: publish(self, records), using=self.using)

    # -- reading ---------------------------------------------------------------------------

    def _read_aggregate(
        self, aggregate_id: str, from_version: int, to_version: int | None
    ) -> list[RecordedEvent]:
        rows = self._events().filter(aggregate_id=aggregate_id, version__gte=from_version)
        if to_version is not None:
            rows = rows.filter(version__lte=to_version)
        with translate_errors():
            return records(rows.order_by("version"))

    def _read_all(self, after_position: int, limit: int | None) -> list[RecordedEvent]:
        rows = self._events().filter(position__gt=after_position).order_by("position")
        if limit is not None:
            rows = rows[:limit]
        with translate_errors():
            return records(rows)

    def aggregate_version(self, aggregate_id: str) -> int:
        with translate_errors():
            result = self._events().filter(aggregate_id=aggregate_id).aggregate(Max("version"))
        return result["version__max"] or 0

    def get_event(self, event_id: uuid.UUID | str) -> RecordedEvent | None:
        try:
            event_id = uuid.UUID(str(event_id))
        except ValueError:
            return None
        with translate_errors():
            row = self._events().filter(event_id=event_id).first()
        return None if row is None else to_record(row)

    def event_type_counts(self) -> dict[str, int]:
        """One GROUP BY over the (event_type, timestamp) index."""
        with translate_errors():
            rows = self._events().values("event_type").annotate(events=Count("position"))
            return {row["event_type"]: row["events"] for row in rows.order_by()}

    def last_position(self) -> int:
        with translate_errors():
            return cast(int | None, self._events().aggregate(Max("position"))["position__max"]) or 0

    def identity(self) -> str:
        """Kept in one row of the database, created on first use; renewed by clear()."""
        from ..projections.notify import database_identity

        with translate_errors():
            return database_identity(self.using)

    def _queryset(self, criteria: Criteria | None = None) -> QuerySet[StoredEvent]:
        """Return the model QuerySet of events matching ``criteria`` (paging ignored)."""
        rows = self._events()
        return rows.filter(criteria_q(criteria)) if criteria is not None else rows

    def _search(self, criteria: Criteria) -> list[RecordedEvent]:
        rows = self._queryset(criteria).filter(position__gt=criteria.after_position)
        rows = rows.order_by("position")
        if criteria.limit is not None:
            rows = rows[: criteria.limit]
        with translate_errors():
            return records(rows)

    def _count(self, criteria: Criteria) -> int:
        with translate_errors():
            return self._queryset(criteria).count()

    def stats(self) -> dict[str, Any]:
        """Return ``events`` (the last position: positions are gapless, so no count
        of rows) and ``aggregates`` (first events, from a partial index)."""
        with translate_errors():
            events = self.last_position()
            aggregates = self._events().filter(version=1).count()
        return {
            "backend": type(self).__name__,
            "alias": self.alias,
            "database": self.using,
            "vendor": connections[self.using].vendor,
            "events": events,
            "aggregates": aggregates,
        }

    def clear(self) -> None:
        from ..models import PositionCounter, StoreIdentity

        with translate_errors(), transaction.atomic(using=self.using):
            self._events().delete()
            PositionCounter.objects.using(self.using).filter(name=COUNTER).delete()
            StoreIdentity.objects.using(self.using).filter(name=COUNTER).delete()


_RECORD_FIELDS = (*ENVELOPE_FIELDS, "data", "metadata")


def records(rows: QuerySet[StoredEvent]) -> list[RecordedEvent]:
    """Return the recorded events of a ``StoredEvent`` QuerySet, in its order.

    Reads plain tuples (no model instances) and writes data and metadata back as
    canonical JSON text.
    """
    dumps = codec.dumps
    return [
        RecordedEvent(  # type: ignore[misc]  # fields: exactly the envelope, before data_json
            *fields, data_json=dumps(data, native=True), metadata_json=dumps(metadata, native=True)
        )
        for *fields, data, metadata in rows.values_list(*_RECORD_FIELDS)
    ]


def to_record(row: Any) -> RecordedEvent:
    """Build a :class:`RecordedEvent` from a ``StoredEvent`` row."""
    return RecordedEvent(
        event_id=row.event_id,
        aggregate_id=row.aggregate_id,
        aggregate_type=row.aggregate_type,
        event_type=row.event_type,
        version=row.version,
        position=row.position,
        timestamp=row.timestamp,
        correlation_id=row.correlation_id,
        causation_id=row.causation_id,
        schema_version=row.schema_version,
        data_json=codec.dumps(row.data),
        metadata_json=codec.dumps(row.metadata),
    )


def _scalar_text(value: Any) -> str | None:
    if value is None or isinstance(value, (dict, list)):
        return None
    return value if isinstance(value, str) else codec.dumps(value)


def _range_q(field: str, bounds: Range) -> Q:
    q = Q()
    for lookup in ("gte", "gt", "lte", "lt"):
        value = getattr(bounds, lookup)
        if value is not None:
            q &= Q(**{f"{field}__{lookup}": value})
    return q


def criteria_q(criteria: Criteria) -> Q:
    """Translate :class:`Criteria` (paging aside) into a ``Q`` on ``StoredEvent``."""
    q = Q()
    for name, field in (
        ("event_types", "event_type"),
        ("aggregate_types", "aggregate_type"),
        ("aggregate_ids", "aggregate_id"),
        ("correlation_ids", "correlation_id"),
        ("causation_ids", "causation_id"),
    ):
        values = getattr(criteria, name)
        if values is not None:
            q &= Q(**{f"{field}__in": sorted(values)})
    for key, accepted in criteria.metadata:
        if key in _INDEXED_METADATA:
            # None (an absent value) is in no SQL IN list: leave it out, as it cannot sort.
            texts = [text for text in map(_scalar_text, accepted) if text is not None]
            q &= Q(**{f"{_INDEXED_METADATA[key]}__in": sorted(texts)})
        else:
            q &= Q(**{"metadata__has_key": key}) & Q(
                **{f"metadata__{key}__in": sorted(accepted, key=repr)}
            )
    for field in ("timestamp", "version", "position"):
        bounds = getattr(criteria, field)
        if bounds is not None:
            q &= _range_q(field, bounds)
    if criteria.text is not None:
        q &= Q(search_text__contains=criteria.text)
    return q
