"""The database backend, on the Django ORM (SQLite for development, PostgreSQL for deployments).

Several worker processes (or machines) share one history here, unlike the
process-memory backend.

Commit-ordered positions: positions come from the single
:class:`~eventstore.models.PositionCounter` row, updated by the append's last
statement(s) and locked from then until the append's transaction ends (a row
lock on PostgreSQL; SQLite's write lock). Two appends therefore never hold
positions at once: each takes the positions right after the previous commit's.
A reader paging "everything after position P" never sees position P+2 while
P+1 is still uncommitted: nothing can be skipped, and positions have no gaps
(a rolled-back append rolls the counter back too).

Short hold: everything else happens before the counter is taken, without any
lock: validation and encoding, the expected-version check (against the
stream's last event), timestamps and the rows' values. On PostgreSQL, a batch
of up to :data:`CHUNK_ROWS` events is then written by one statement (one round
trip, committing by itself outside a transaction): a guard that the stream
still ends where the append expects it (when the expected version is an int;
no lock is taken if it does not), the counter update, the insert of every row
and the ``NOTIFY``. So the counter is held for that statement's insert and its
commit only. On SQLite (and for bigger batches) it is one short transaction:
the counter update (``UPDATE … RETURNING``), then the insert.

Hash chain (:mod:`eventstore.integrity`): each row's ``chain_hash`` links
from the previous position's. The body digests and the rest of each link
that needs no lock (version, timestamp) are computed before the counter is
taken; the links themselves come from the counter row, which holds the chain
head (``last_hash``): on PostgreSQL inside the same one statement (the update
computes the new head in SQL, the rows link from the old one it returns), on
SQLite and for big batches in Python inside the transaction, then one more
update of the head. The previous hash never comes from the events table: a
statement that waited for the counter's lock sees the counter's latest row,
but its snapshot does not show the events committed while it waited.

Concurrency: the unique constraint on (aggregate_id, version) decides between
two appends that read the same version; the loser gets
:class:`~eventstore.exceptions.ConcurrencyError` with the version read
afterwards (with ``ANY``/``STREAM_EXISTS`` it reads the stream again and
retries). An idempotent retry of a stored batch is recognized when the write
(or the version check) fails. Database errors become the store's own errors in
one place, :func:`translate_errors`.

Events are published on the event bus after the transaction commits
(``transaction.on_commit``), never for a rolled-back append.
"""

from __future__ import annotations

import contextlib
import functools
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import replace
from datetime import datetime
from typing import TYPE_CHECKING, Any, NamedTuple, cast

from django.db import DatabaseError, IntegrityError, connections, transaction
from django.db.models import Count, Field, Max, Q, QuerySet

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
from ..integrity import ZERO_HASH, ChainError, link, link_tail, record_digest
from ..mapping import PendingEvent, indexable_value
from ..privacy.keys import DatabaseKeyStore
from ..projections.notify import CHANNEL, notify_append
from ..records import ANY, ENVELOPE_FIELDS, STREAM_EXISTS, RecordedEvent
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

    def __init__(self, alias: str = "default", options: Any = None, **kwargs: Any) -> None:
        super().__init__(alias, options, **kwargs)
        #: The data subjects' keys: the ``SubjectKey`` table of the same database.
        self.keys: DatabaseKeyStore = DatabaseKeyStore(self.using)

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
        """Check and build the rows without any lock, then write them in one short step.

        With an int ``expected_version`` on PostgreSQL the write is a single
        statement that checks the stream itself (:func:`write_rows` with a
        guard); when its check fails, or otherwise, the stream's last event is
        read first and checked here. A write that loses a race on
        (aggregate_id, version) raises :class:`ConcurrencyError` with the
        version read afterwards; with ``ANY``/``STREAM_EXISTS`` the stream is
        read again and the write retried (each retry follows another append to
        that stream that committed).
        """
        if type(expected_version) is int and one_statement(self.using, len(pending)):
            try:
                stamps = self.stream_timestamps(pending, None)
            except InvalidEventError:
                pass  # the checked path below reports it, after the version check
            else:
                records = _records(
                    aggregate_id, aggregate_type, pending, expected_version, stamps, self.keys
                )
                guard = (
                    None
                    if expected_version == 0  # version 1 is free only in a new stream
                    else Guard(aggregate_id, expected_version, aggregate_type, stamps[0])
                )
                written = self._write(aggregate_id, pending, expected_version, records, guard)
                if written is not None:
                    return written
        while True:
            with translate_errors(aggregate_id):
                actual, stored_type, previous = stream_head(self.using, aggregate_id)
            try:
                self.check_expected_version(aggregate_id, expected_version, actual)
                self.check_stream_type(stored_type, aggregate_id, aggregate_type)
                stamps = self.stream_timestamps(pending, previous)
            except (ConcurrencyError, InvalidEventError):
                retried = self._stored_batch(aggregate_id, pending, expected_version)
                if retried is not None:
                    return retried, False
                raise
            records = _records(aggregate_id, aggregate_type, pending, actual, stamps, self.keys)
            written = self._write(aggregate_id, pending, expected_version, records, None)
            if written is not None:
                return written
            # Lost the stream's next version to another append (ANY/STREAM_EXISTS): read again.

    def _write(
        self,
        aggregate_id: str,
        pending: list[PendingEvent],
        expected_version: ExpectedVersionArg,
        records: list[RecordedEvent],
        guard: Guard | None,
    ) -> tuple[list[RecordedEvent], bool] | None:
        """Write ``records`` (positions 1..n within the batch); return them with their positions.

        The chain links' parts known before the counter is taken (version,
        timestamp, body digest) are computed here, outside any lock; the
        records returned carry their chain hash.

        Returns:
            ``(records, True)``, or ``(stored records, False)`` for a retry of a
            stored batch; None when ``guard`` does not hold or, with ``ANY`` /
            ``STREAM_EXISTS``, another append took the stream's next version.

        Raises:
            ConcurrencyError: another append took the version (an int
                ``expected_version``), with the stream's version read afterwards.
            DuplicateEventError: an event id is stored, not as this batch.
        """
        rows = [row_values(self.using, record) for record in records]
        tails = [link_tail(r.version, r.timestamp, record_digest(r)) for r in records]
        try:
            with translate_errors(aggregate_id):
                try:
                    written = write_rows(self.using, rows, tails, guard)
                except IntegrityError:
                    retried = self._stored_batch(aggregate_id, pending, expected_version)
                    if retried is not None:
                        return retried, False
                    raise
        except ConcurrencyError as exc:
            if expected_version is ANY or expected_version is STREAM_EXISTS:
                return None
            current = self.aggregate_version(aggregate_id)
            raise ConcurrencyError(aggregate_id, expected_version, current) from exc
        if written is None:
            return None
        last, hashes = written
        first = last - len(records)
        return [
            replace(record, position=first + record.position, chain_hash=chain_hash)
            for record, chain_hash in zip(records, hashes, strict=True)
        ], True

    def _stored_batch(
        self,
        aggregate_id: str,
        pending: list[PendingEvent],
        expected_version: ExpectedVersionArg,
    ) -> list[RecordedEvent] | None:
        """Return the stored batch if ``pending`` is a retry of it, None if no id is stored.

        Raises:
            DuplicateEventError: an id of the batch is stored, but not as this batch.
        """
        ids = [event.event_id for event in pending]
        with translate_errors(aggregate_id):
            existing = {row.event_id: row for row in self._events().filter(event_id__in=ids)}
        if not existing:
            return None
        if pending[0].event_id not in existing:
            raise DuplicateEventError(next(iter(existing)))
        first = to_record(existing[pending[0].event_id], self.keys)
        stored = self.read_aggregate(
            first.aggregate_id, first.version, first.version + len(pending) - 1
        )
        return self.retried_batch(first, stored, aggregate_id, pending, expected_version)

    def atomic(self) -> Any:
        """A transaction on the store's database (``transaction.atomic(using=DATABASE)``)."""
        return transaction.atomic(using=self.using)

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
            return records(rows.order_by("version"), self.keys)

    def _read_all(self, after_position: int, limit: int | None) -> list[RecordedEvent]:
        rows = self._events().filter(position__gt=after_position).order_by("position")
        if limit is not None:
            rows = rows[:limit]
        with translate_errors():
            return records(rows, self.keys)

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
        return None if row is None else to_record(row, self.keys)

    def event_type_counts(self) -> dict[str, int]:
        """One GROUP BY over the (event_type, timestamp) index."""
        with translate_errors():
            rows = self._events().values("event_type").annotate(events=Count("position"))
            return {row["event_type"]: row["events"] for row in rows.order_by()}

    def last_position(self) -> int:
        with translate_errors():
            return cast(int | None, self._events().aggregate(Max("position"))["position__max"]) or 0

    def chain_head(self) -> tuple[int, bytes]:
        """The counter row's ``(value, last_hash)``; ``(0, zero hash)`` before the first append."""
        from ..models import PositionCounter

        with translate_errors():
            row = (
                PositionCounter.objects.using(self.using)
                .filter(name=COUNTER)
                .values_list("value", "last_hash")
                .first()
            )
        return (0, ZERO_HASH) if row is None else (row[0], bytes(row[1]))

    def check_stored_page(self, records: Sequence[RecordedEvent]) -> None:
        """Check the indexed copies of a page's rows against their metadata and data.

        ``organization_id``, ``user_id`` and ``search_text`` are what filters and
        free-text search read; a row whose copy was edited (outside the store)
        would be found, or missed, by the wrong queries though its chained
        metadata and data are intact. One query per page.

        Raises:
            ChainError: kind ``"index"``, naming the first position and column that disagree.
        """
        if not records:
            return
        columns = ("organization_id", "user_id", "search_text")
        rows = self._events().filter(
            position__gte=records[0].position, position__lte=records[-1].position
        )
        with translate_errors():
            stored = {row[0]: row[1:] for row in rows.values_list("position", *columns)}
        for record in records:
            values = row_values(self.using, record)
            expected = (values[9], values[10], values[13])
            actual = stored.get(record.position, (None, None, None))
            for name, want, got in zip(columns, expected, actual, strict=True):
                if want != got:
                    raise ChainError(
                        record.position,
                        "index",
                        f"The event at position {record.position} has {name} column {got!r} "
                        f"but its {'data' if name == 'search_text' else 'metadata'} gives "
                        f"{want!r}: the indexed copy was changed.",
                    )

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
            return records(rows, self.keys)

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
        """Delete every event and every data subject's key of the database."""
        from ..models import PositionCounter, StoreIdentity

        with translate_errors(), transaction.atomic(using=self.using):
            self._events().delete()
            self.keys.truncate()
            PositionCounter.objects.using(self.using).filter(name=COUNTER).delete()
            StoreIdentity.objects.using(self.using).filter(name=COUNTER).delete()


#: Columns written by an append after ``position``, in order (see :func:`row_values`).
_WRITE_COLUMNS = (
    "event_id",
    "aggregate_id",
    "aggregate_type",
    "event_type",
    "version",
    "timestamp",
    "correlation_id",
    "causation_id",
    "schema_version",
    "organization_id",
    "user_id",
    "data",
    "metadata",
    "search_text",
)
#: Largest batch written in one statement; a bigger one goes in chunks (one transaction).
CHUNK_ROWS = 500


def row_values(using: str, record: RecordedEvent) -> tuple[Any, ...]:
    """Return the database values of ``record``'s row, in :data:`_WRITE_COLUMNS` order.

    Data and metadata go as their canonical JSON text (``jsonb`` on PostgreSQL,
    text on SQLite); the other values are prepared by the model's fields for
    the database of ``using`` (a UUID is 32 hex digits on SQLite, for instance).
    The indexed copies are taken here: ``organization_id`` and ``user_id`` from
    the metadata (a sealed ``user_id``: its blind index token, never the id),
    ``search_text`` from the data (personal values left out).
    """
    connection = connections[using]
    fields = _fields()
    metadata = codec.loads(record.metadata_json)
    return (
        fields["event_id"].get_db_prep_save(record.event_id, connection),
        record.aggregate_id,
        record.aggregate_type,
        record.event_type,
        record.version,
        fields["timestamp"].get_db_prep_save(record.timestamp, connection),
        record.correlation_id,
        record.causation_id,
        record.schema_version,
        _scalar_text(indexable_value(metadata.get("organization_id"))),
        _scalar_text(indexable_value(metadata.get("user_id"))),
        record.data_json,
        record.metadata_json,
        searchable_text(codec.loads(record.data_json)),
    )


def stream_head(using: str, aggregate_id: str) -> tuple[int, str | None, datetime | None]:
    """Return the last event's ``(version, aggregate_type, timestamp)`` of a stream.

    ``(0, None, None)`` for a stream without events. One indexed query (the
    unique (aggregate_id, version) index, read backwards), converted by the
    model fields' database converters as the ORM would (an aware UTC timestamp).
    """
    from ..models import StoredEvent

    connection = connections[using]
    quote = connection.ops.quote_name
    sql = (
        f"SELECT {quote('version')}, {quote('aggregate_type')}, {quote('timestamp')} "  # noqa: S608
        f"FROM {quote(StoredEvent._meta.db_table)} WHERE {quote('aggregate_id')} = %s "
        f"ORDER BY {quote('version')} DESC LIMIT 1"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [aggregate_id])
        row = cursor.fetchone()
    if row is None:
        return 0, None, None
    version, stored_type, stamp = row
    column = _fields()["timestamp"].get_col(StoredEvent._meta.db_table)
    for converter in connection.ops.get_db_converters(column) + column.get_db_converters(
        connection
    ):
        stamp = converter(stamp, column, connection)
    return version, stored_type, stamp


@functools.cache
def _fields() -> dict[str, Field[Any, Any]]:
    """The model fields of :data:`_WRITE_COLUMNS`, by name."""
    from ..models import StoredEvent

    return {
        name: cast("Field[Any, Any]", StoredEvent._meta.get_field(name)) for name in _WRITE_COLUMNS
    }


class Guard(NamedTuple):
    """What :func:`write_rows` checks before taking the counter: the stream's last event.

    The write happens only if the stream has an event at ``version`` (so, as
    the unique (aggregate_id, version) index refuses version + 1 if taken, it
    is the last), of ``aggregate_type``, stamped no later than ``timestamp``
    (the batch's first timestamp).
    """

    aggregate_id: str
    version: int
    aggregate_type: str
    timestamp: datetime


def one_statement(using: str, count: int) -> bool:
    """Whether :func:`write_rows` writes ``count`` rows on ``using`` in one statement."""
    return connections[using].vendor == "postgresql" and count <= CHUNK_ROWS


def write_rows(
    using: str,
    rows: Sequence[tuple[Any, ...]],
    tails: Sequence[bytes],
    guard: Guard | None = None,
) -> tuple[int, list[bytes]] | None:
    """Write an append's rows (from :func:`row_values`) at the next positions, chained.

    ``tails`` are the rows' chain links after the position (version,
    timestamp, body digest: :func:`eventstore.integrity.link_tail`), one per
    row, computed by the caller before any lock. Each row's ``chain_hash``
    links from the previous one, the first from the counter row's
    ``last_hash`` (never from the events table: under READ COMMITTED a
    statement that waited for the counter's lock sees the counter's latest
    committed row but not the rows committed meanwhile), and the counter's
    ``last_hash`` becomes the last row's.

    The position counter is taken by the write's last statement(s) only, and
    held until the write commits (or the surrounding transaction does). When
    :func:`one_statement` (PostgreSQL, up to :data:`CHUNK_ROWS` rows) it is a
    single statement: the ``guard`` check if any, the counter update (which
    also computes the new head in SQL), the insert of every row with its hash
    and the ``NOTIFY``; it commits by itself outside a transaction (a savepoint
    inside one). Otherwise (SQLite, bigger batches; ``guard`` must be None):
    one transaction of the counter update (``UPDATE … RETURNING`` of the
    position and the head), the hashes computed in Python, an insert per chunk
    and the head's update.

    Returns:
        ``(last position written, the rows' chain hashes)``, or None (nothing
        written) if ``guard`` does not hold or the counter row is missing (the
        first append of a store).

    Raises:
        IntegrityError: a row's (aggregate_id, version) or event_id is taken;
            nothing is written and the counter is unchanged.
    """
    connection = connections[using]
    if one_statement(using, len(rows)):
        kind = "append" if guard is None else "guarded append"
        statement = _statement(connection, kind, len(rows))
        params = [
            *(value for row in rows for value in row),
            list(tails),
            COUNTER,
            *(() if guard is None else _guard_values(using, guard)),
            CHANNEL,
        ]
        for _ in range(2):
            if connection.get_autocommit() and not connection.in_atomic_block:
                written = _fetch_rows(using, statement, params)  # one statement, one commit
            else:
                with transaction.atomic(using=using):
                    written = _fetch_rows(using, statement, params)
            if written:
                return written[0][0], [bytes(chain_hash) for _last, chain_hash in written]
            if guard is not None:
                return None
            _create_counter(using)  # the first append: no counter row yet
        return None
    if guard is not None:
        raise ValueError("write_rows: a guard needs the one-statement write")
    with transaction.atomic(using=using):
        last, chain_hash = _take_positions(using, len(rows))
        first = last - len(rows)
        previous = chain_hash
        hashes = []
        for offset, tail in enumerate(tails, start=first + 1):
            chain_hash = link(chain_hash, offset, tail)
            hashes.append(chain_hash)
        for start in range(0, len(rows), CHUNK_ROWS):
            chunk = rows[start : start + CHUNK_ROWS]
            params = [
                value
                for offset, row in enumerate(chunk, start=first + start + 1)
                for value in (offset, *row, hashes[offset - first - 1])
            ]
            with connection.cursor() as cursor:
                cursor.execute(_statement(connection, "insert", len(chunk)), params)
        _set_head(using, chain_hash, previous)
        notify_append(using, last)  # PostgreSQL: NOTIFY, sent on commit
    return last, hashes


def _guard_values(using: str, guard: Guard) -> tuple[Any, ...]:
    connection = connections[using]
    stamp = _fields()["timestamp"].get_db_prep_save(guard.timestamp, connection)
    return guard.aggregate_id, guard.version, guard.aggregate_type, stamp


def _records(
    aggregate_id: str,
    aggregate_type: str,
    pending: Sequence[PendingEvent],
    actual: int,
    stamps: Sequence[datetime],
    keys: Any = None,
) -> list[RecordedEvent]:
    """The records of a batch appended after version ``actual``; positions 1..n for now."""
    return [
        RecordedEvent(
            event_id=event.event_id,
            aggregate_id=aggregate_id,
            aggregate_type=aggregate_type,
            event_type=event.event_type,
            version=actual + offset,
            position=offset,  # within the batch until the counter gives the first
            timestamp=stamp,
            correlation_id=event.correlation_id,
            causation_id=event.causation_id,
            schema_version=event.schema_version,
            data_json=event.data_json,
            metadata_json=event.metadata_json,
            keys=keys,
        )
        for offset, (event, stamp) in enumerate(zip(pending, stamps, strict=True), start=1)
    ]


def _fetch_rows(using: str, statement: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
    """Run ``statement``; return its rows."""
    with connections[using].cursor() as cursor:
        cursor.execute(statement, params)
        return cast(list[tuple[Any, ...]], cursor.fetchall())


def _take_positions(using: str, count: int) -> tuple[int, bytes]:
    """Lock the position counter (until the transaction ends), add ``count``.

    Returns:
        ``(the counter's new value, the chain head before this append)``.
    """
    from ..models import PositionCounter

    table = connections[using].ops.quote_name(PositionCounter._meta.db_table)
    # One round trip: UPDATE ... RETURNING (PostgreSQL, and SQLite since 3.35).
    sql = (
        f"UPDATE {table} SET value = value + %s WHERE name = %s "  # noqa: S608
        "RETURNING value, last_hash"
    )
    for _ in range(2):
        rows = _fetch_rows(using, sql, [count, COUNTER])
        if rows:
            return rows[0][0], bytes(rows[0][1])
        _create_counter(using)
    raise EventStoreError("The position counter row cannot be created.")


def _set_head(using: str, head: bytes, previous: bytes) -> None:
    """Set the chain head on the counter row (locked by :func:`_take_positions`)."""
    from ..models import PositionCounter

    PositionCounter.objects.using(using).filter(name=COUNTER).update(
        last_hash=head, previous_hash=previous
    )


def _create_counter(using: str) -> None:
    """Create the position counter after the highest stored position (first append).

    Its chain head is the highest stored event's hash (zero for an empty store).
    """
    from ..models import PositionCounter, StoredEvent

    last = (
        StoredEvent.objects.using(using)
        .order_by("-position")
        .values_list("position", "chain_hash")
        .first()
    )
    highest, head = (0, ZERO_HASH) if last is None else (last[0], bytes(last[1]))
    try:
        with transaction.atomic(using=using):
            PositionCounter.objects.using(using).create(
                name=COUNTER, value=highest, last_hash=head, previous_hash=ZERO_HASH
            )
    except IntegrityError:
        pass  # another writer created it first


#: Built statements, by (vendor, kind, rows); batches of up to 16 rows are kept.
_STATEMENTS: dict[tuple[str, str, int], str] = {}


def _statement(connection: Any, kind: str, count: int) -> str:
    """Return the ``kind`` statement (``"insert"`` or ``"append"``) for ``count`` rows."""
    key = (connection.vendor, kind, count)
    statement = _STATEMENTS.get(key)
    if statement is None:
        if kind == "insert":
            statement = _insert_sql(connection, count)
        else:
            statement = _postgresql_append_sql(connection, count, guarded=kind != "append")
        if count <= 16:
            _STATEMENTS[key] = statement
    return statement


def _insert_sql(connection: Any, count: int) -> str:
    """``INSERT`` of ``count`` rows of (position, *_WRITE_COLUMNS, chain_hash), plain ``%s``."""
    from ..models import StoredEvent

    quote = connection.ops.quote_name
    columns = ", ".join(quote(name) for name in ("position", *_WRITE_COLUMNS, "chain_hash"))
    row = "(" + ", ".join(["%s"] * (len(_WRITE_COLUMNS) + 2)) + ")"
    table = quote(StoredEvent._meta.db_table)
    return f"INSERT INTO {table} ({columns}) VALUES {', '.join([row] * count)}"  # noqa: S608


def _postgresql_append_sql(connection: Any, count: int, *, guarded: bool) -> str:
    """The one-statement append of ``count`` rows on PostgreSQL.

    Parameters: the rows' values, their link tails (one ``bytea[]``), the
    counter's name, the :class:`Guard`'s values if ``guarded``, the
    notification channel. Returns one row per appended event, ``(last
    position, its chain hash)`` in position order, or none if the guard fails
    or the counter row is missing (then nothing was written). The guard is a
    condition of the counter's update, so a failing one takes no lock. Each
    value is cast to its column's type (``text`` for character columns, so
    that a value too long for its column is refused by the insert, not cut by
    the cast).

    The chain is computed in SQL from the counter row alone, as
    :func:`eventstore.integrity.link` does (``sha256(prev || int8send(position)
    || tail)``): the update sets ``previous_hash = last_hash`` (a right-hand
    side reads the old row) and ``last_hash`` to the batch's last link, one
    nested expression of the old row's columns (PostgreSQL evaluates it again
    on the latest row when the update had to wait for the row's lock; a
    subquery with a CTE would keep its first result); the rows' hashes link
    from the returned ``previous_hash``.
    """
    from ..models import PositionCounter, StoredEvent

    quote = connection.ops.quote_name
    casts = []
    for field in _fields().values():
        is_text = field.get_internal_type() in ("CharField", "TextField")
        casts.append(f"%s::{'text' if is_text else field.db_type(connection)}")
    values = ", ".join(f"({offset}, {', '.join(casts)})" for offset in range(1, count + 1))
    names = ", ".join(quote(name) for name in _WRITE_COLUMNS)
    counter = quote(PositionCounter._meta.db_table)
    events = quote(StoredEvent._meta.db_table)
    selected = ", ".join(f"v.{quote(name)}" for name in _WRITE_COLUMNS)
    condition = ""
    if guarded:
        condition = (
            f" AND EXISTS (SELECT 1 FROM {events} WHERE {quote('aggregate_id')} = %s "  # noqa: S608
            f"AND {quote('version')} = %s AND {quote('aggregate_type')} = %s "
            f"AND {quote('timestamp')} <= %s::timestamptz)"
        )
    head = "pc.last_hash"
    for offset in range(1, count + 1):
        tail = f"(SELECT t.a[{offset}] FROM t)"  # noqa: S608  # no value in the text
        head = f"sha256({head} || int8send(pc.value + {offset}) || {tail})"
    columns = f"{quote('position')}, {names}, {quote('chain_hash')}"
    if count == 1:  # the usual append: no recursion, the row's hash is the new head
        return (
            f"WITH v(o, {names}) AS (VALUES {values}), "  # noqa: S608
            "t(a) AS (SELECT %s::bytea[]), "
            f"counter AS (UPDATE {counter} AS pc SET value = pc.value + 1, "
            f"previous_hash = pc.last_hash, last_hash = {head} "
            f"WHERE pc.name = %s{condition} RETURNING value, last_hash), "
            f"inserted AS (INSERT INTO {events} ({columns}) "
            f"SELECT counter.value, {selected}, counter.last_hash FROM counter, v) "
            "SELECT value, last_hash FROM counter, pg_notify(%s, counter.value::text)"
        )
    return (
        f"WITH RECURSIVE v(o, {names}) AS (VALUES {values}), "  # noqa: S608
        "t(a) AS (SELECT %s::bytea[]), "
        f"counter AS (UPDATE {counter} AS pc SET value = pc.value + {count}, "
        f"previous_hash = pc.last_hash, last_hash = {head} "
        f"WHERE pc.name = %s{condition} RETURNING value, previous_hash), "
        "ch(o, h) AS (SELECT 0, counter.previous_hash FROM counter UNION ALL "
        f"SELECT ch.o + 1, sha256(ch.h || int8send(counter.value - {count} + ch.o + 1) "
        f"|| t.a[ch.o + 1]) FROM ch, counter, t WHERE ch.o < {count}), "
        f"inserted AS (INSERT INTO {events} ({columns}) "
        f"SELECT counter.value - {count} + v.o, {selected}, ch.h "
        "FROM counter, v JOIN ch ON ch.o = v.o) "
        "SELECT counter.value, ch.h FROM counter, ch, pg_notify(%s, counter.value::text) "
        "WHERE ch.o > 0 ORDER BY ch.o"
    )


_RECORD_FIELDS = (*ENVELOPE_FIELDS, "data", "metadata", "chain_hash")


def records(rows: QuerySet[StoredEvent], keys: Any = None) -> list[RecordedEvent]:
    """Return the recorded events of a ``StoredEvent`` QuerySet, in its order.

    Reads plain tuples (no model instances) and writes data and metadata back as
    canonical JSON text. ``keys``: the store's key store, to reveal personal values.
    """
    dumps = codec.dumps
    return [
        RecordedEvent(  # type: ignore[misc]  # fields: exactly the envelope, before data_json
            *fields,
            data_json=dumps(data, native=True),
            metadata_json=dumps(metadata, native=True),
            chain_hash=bytes(chain_hash),
            keys=keys,
        )
        for *fields, data, metadata, chain_hash in rows.values_list(*_RECORD_FIELDS)
    ]


def to_record(row: Any, keys: Any = None) -> RecordedEvent:
    """Build a :class:`RecordedEvent` from a ``StoredEvent`` row (``keys``: see :func:`records`)."""
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
        chain_hash=bytes(row.chain_hash),
        keys=keys,
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
