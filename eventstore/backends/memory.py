"""The process-memory backend.

Data lives at module level keyed by alias, so every thread of the process (a
live-server thread included) and every store instance built for that alias
see the same events. One re-entrant lock per alias guards writes and reads, so
readers never see part of a batch.

Indexes, kept on every append (O(1) amortised; O(log n) for the time indexes
when events arrive in timestamp order):

- all events in a list (position p at index p - 1: positions are gapless);
- per aggregate, per correlation id, per causation id, per aggregate type and
  per indexed metadata key (``organization_id``, ``user_id``): lists in
  position order;
- per event type: records kept sorted by timestamp for range reads; over all
  events, the list itself while events arrive in timestamp order (the usual
  case), else a sorted index built on the first time query and kept from then on;
- by event id (keyed by the UUID's 128-bit integer, hashed in C).

Each event's strings are shared where equal ones are stored: its stream's id
and type, its event type, its correlation id (a causation id equal to it
too), and its metadata text (a bounded table of recent ones: metadata is who
and where, the same for many events).

Hash chain (:mod:`eventstore.integrity`): each record's body digest is
computed before the write lock is taken, its link (from the head kept in
``_Data.head``) under it.

A query picks the smallest index among its criteria, then checks the other
criteria on those candidates only, so its cost is O(log n + k) in the events
the index yields. Only a query with no indexed criterion at all (free text
alone) walks the store, from ``after_position``, stopping at ``limit``.
"""

from __future__ import annotations

import copy
import heapq
import logging
import os
import threading
import time
from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from operator import attrgetter
from typing import Any
from uuid import UUID

from .. import codec
from ..criteria import Criteria, Range
from ..exceptions import (
    DuplicateEventError,
    EventStoreFull,
    InvalidBackendError,
)
from ..identity import journal_identity, new_identity, write_journal_identity
from ..integrity import ZERO_HASH, body_digest, next_hash, record_hash
from ..mapping import INDEXED_METADATA_KEYS, PendingEvent, indexable_value
from ..privacy.cipher import SubjectKey
from ..privacy.keys import MemoryKeyStore, keys_file_path, read_keys_file
from ..records import ANY, RecordedEvent, make_record
from ..serving import refuse_if_forked
from .base import BaseEventStore, ExpectedVersionArg
from .journal import Journal
from .locks import ONE_PROCESS_HINT

__all__ = ["InMemoryEventStore"]

logger = logging.getLogger("eventstore.journal")

#: Memory one stored event takes beyond the characters of its JSON text: the record,
#: its ids, timestamp, chain hash, string headers and index entries. Measured with
#: ``benchmarks/run.py`` (tracemalloc, payment-like events): about 790 bytes per event
#: of which about 90 are JSON characters, before the chain; its 32-byte hash adds 73
#: (a 65-byte bytes object and its slot: ``python -m benchmarks.memory_probe ours 3000 1
#: trace`` gave 671 bytes per event before, 744 with it).
RECORD_OVERHEAD_BYTES = 770

_position = attrgetter("position")
_timestamp = attrgetter("timestamp")
#: Most metadata texts kept for sharing (:meth:`_Data.shared_metadata`); the table is
#: emptied when full, so it costs at most this many dict entries.
SHARED_METADATA_LIMIT = 65_536


class _View(Sequence[RecordedEvent]):
    """A read-only window ``items[start:stop]`` of a list, without copying it.

    Paging through a large index (``after_position`` + ``limit``) then costs
    the events returned, not a copy of everything after the page start.
    """

    __slots__ = ("items", "start", "stop")

    def __init__(self, items: Sequence[RecordedEvent], start: int = 0, stop: int | None = None):
        self.items = items
        self.start = start
        self.stop = len(items) if stop is None else stop

    def __len__(self) -> int:
        return max(0, self.stop - self.start)

    def __getitem__(self, index: Any) -> Any:
        if isinstance(index, slice):
            start, stop, _step = index.indices(len(self))
            return _View(self.items, self.start + start, self.start + stop)
        if index < 0:
            index += len(self)
        if not 0 <= index < len(self):
            raise IndexError(index)
        return self.items[self.start + index]

    def __iter__(self) -> Iterator[RecordedEvent]:
        return map(self.items.__getitem__, range(self.start, self.stop))


class _TimeIndex:
    """Records kept sorted by (timestamp, position), with range look-ups by bisection."""

    __slots__ = ("records", "in_position_order")

    def __init__(self, records: Iterable[RecordedEvent] = ()) -> None:
        self.records: list[RecordedEvent] = sorted(records, key=_timestamp)
        self.in_position_order = all(
            earlier.position < later.position
            for earlier, later in zip(self.records, self.records[1:], strict=False)
        )

    def add(self, record: RecordedEvent) -> None:
        records = self.records
        if not records or record.timestamp >= records[-1].timestamp:
            records.append(record)
            return
        records.insert(bisect_right(records, record.timestamp, key=_timestamp), record)
        self.in_position_order = False

    def between(self, bounds: Range) -> Sequence[RecordedEvent]:
        """Return the records inside ``bounds``, in position order.

        While events arrived in timestamp order (the usual case) this is a view
        of the index; after out-of-order imports, a sorted copy of the range.
        """
        start, stop = _time_span(self.records, bounds)
        if self.in_position_order:
            return _View(self.records, start, stop)
        return sorted(self.records[start:stop], key=_position)

    def count_between(self, bounds: Range) -> int:
        start, stop = _time_span(self.records, bounds)
        return stop - start


def _time_span(records: Sequence[RecordedEvent], bounds: Range) -> tuple[int, int]:
    """Return the slice of ``records`` (sorted by timestamp) inside ``bounds``."""
    start, stop = 0, len(records)
    if (lower := bounds.lower) is not None:
        start = (bisect_left if lower[1] else bisect_right)(records, lower[0], key=_timestamp)
    if (upper := bounds.upper) is not None:
        stop = (bisect_right if upper[1] else bisect_left)(records, upper[0], key=_timestamp)
    return start, max(start, stop)


#: Records a key of a :class:`_SmallIndex` keeps in a tuple before moving them to a list.
SMALL_GROUP = 8


class _SmallIndex(dict[str, RecordedEvent | tuple[RecordedEvent, ...] | list[RecordedEvent]]):
    """Key → records, keeping a lone record without a container around it.

    Correlation and causation ids mostly have one to a few events each; a list
    per key would cost about 64 bytes per event, so a key holds its record
    directly until a second one arrives, then a tuple (no spare room, half a
    list's size) while it has fewer than :data:`SMALL_GROUP`, then a list.
    """

    def add(self, key: Any, record: RecordedEvent) -> None:
        current = self.get(key)
        if current is None:
            self[key] = record
        elif isinstance(current, list):
            current.append(record)
        elif isinstance(current, tuple):
            self[key] = current + (record,) if len(current) < SMALL_GROUP else [*current, record]
        else:
            self[key] = (current, record)

    def records(self, key: Any) -> Sequence[RecordedEvent]:
        """Return the records of ``key`` in position order (empty if none)."""
        current = self.get(key)
        if current is None:
            return ()
        return current if isinstance(current, (list, tuple)) else (current,)


@dataclass
class _Data:
    """Everything one alias stores; guarded by ``lock``."""

    lock: threading.RLock = field(default_factory=threading.RLock)
    events: list[RecordedEvent] = field(default_factory=list)
    #: Event id's ``UUID.int`` -> record.
    by_id: dict[int, RecordedEvent] = field(default_factory=dict)
    streams: dict[str, list[RecordedEvent]] = field(default_factory=dict)
    by_aggregate_type: dict[str, list[RecordedEvent]] = field(default_factory=dict)
    by_correlation: _SmallIndex = field(default_factory=_SmallIndex)
    by_causation: _SmallIndex = field(default_factory=_SmallIndex)
    by_metadata: dict[str, dict[Any, list[RecordedEvent]]] = field(
        default_factory=lambda: {key: {} for key in INDEXED_METADATA_KEYS}
    )
    by_type: dict[str, _TimeIndex] = field(default_factory=dict)
    #: Every event by time: None while ``events`` itself is in timestamp order.
    by_time: _TimeIndex | None = None
    #: Whether ``events`` is in timestamp order (then it is the all-events time index).
    events_in_time_order: bool = True
    #: Metadata text -> the stored string equal to it (see shared_metadata()).
    metadata_texts: dict[str, str] = field(default_factory=dict)
    #: Event type name -> the stored string equal to it.
    type_names: dict[str, str] = field(default_factory=dict)
    approx_bytes: int = 0
    #: The chain head: the last event's ``chain_hash`` (see :mod:`eventstore.integrity`).
    head: bytes = ZERO_HASH
    journal: Journal | None = None
    #: Which history this is (see :mod:`eventstore.identity`); renewed by reset().
    identity: str = field(default_factory=new_identity)
    #: The data subjects' keys, by key id and by subject (see key_store); replaced
    #: whole on each change, so readers need no lock.
    keys: dict[str, SubjectKey] = field(default_factory=dict)
    subject_keys: dict[str, SubjectKey] = field(default_factory=dict)

    def __post_init__(self) -> None:
        #: The key store over ``keys`` (its file set once a journal is opened).
        self.key_store = MemoryKeyStore(self, None)

    def reset(self) -> None:
        """Forget every event and key (in place: stores holding this object see it), empty the
        journal and its keys file."""
        with self.lock:
            fresh = _Data()
            for name in _Data.__dataclass_fields__:
                if name not in ("lock", "journal"):
                    setattr(self, name, getattr(fresh, name))
            if self.journal is not None:
                self.journal.truncate()
                write_journal_identity(self.journal.path, self.identity)
                self.key_store.truncate()

    def snapshot(self) -> dict[str, Any]:
        """Return a copy of the events and indexes, for :meth:`restore` (testing support).

        The containers are copied, the records (frozen) are shared.
        """
        with self.lock:
            return self._copy_state(
                {name: getattr(self, name) for name in _Data.__dataclass_fields__}
            )

    def restore(self, snapshot: dict[str, Any]) -> None:
        """Put back the events and indexes of ``snapshot``, in place (``snapshot`` stays reusable).

        Raises:
            InvalidBackendError: for journaled data, whose journal would no longer
                match the events in memory (a journal is never rewritten).
        """
        if self.journal is not None:
            raise InvalidBackendError(
                f"Cannot restore a snapshot over the journaled store of {self.journal.path}."
            )
        with self.lock:
            for name, value in self._copy_state(snapshot).items():
                setattr(self, name, value)

    @staticmethod
    def _copy_state(state: dict[str, Any]) -> dict[str, Any]:
        # Records, their ids and timestamps are immutable and shared: deepcopy takes the
        # memo's entries as already copied.
        memo: dict[int, Any] = {}
        for record in state["events"]:
            memo[id(record)] = record
            memo[id(record.event_id)] = record.event_id
            memo[id(record.event_id.int)] = record.event_id.int
            memo[id(record.timestamp)] = record.timestamp
        return {
            name: copy.deepcopy(value, memo)
            for name, value in state.items()
            if name not in ("lock", "journal")
        }

    def shared_type(self, event_type: str) -> str:
        """Return the stored copy of ``event_type`` if there is one (else keep this one)."""
        return self.type_names.setdefault(event_type, event_type)

    def shared_correlation(self, correlation_id: str | None) -> str | None:
        """Return the stored copy of ``correlation_id`` if there is one."""
        stored = self.by_correlation.get(correlation_id) if correlation_id else None
        if stored is None:
            return correlation_id
        return self._first(stored).correlation_id

    @staticmethod
    def _first(
        stored: RecordedEvent | tuple[RecordedEvent, ...] | list[RecordedEvent],
    ) -> RecordedEvent:
        """The first record of a :class:`_SmallIndex` entry."""
        return stored[0] if isinstance(stored, (list, tuple)) else stored

    def shared_metadata(self, metadata_json: str) -> str:
        """Return the stored string equal to ``metadata_json`` if a recent event has one.

        Metadata (who and where) repeats across events; sharing the text saves its
        ~100 bytes per event. The table holds at most :data:`SHARED_METADATA_LIMIT`
        texts and starts again empty when full. Safe without the lock (one dict
        operation each, atomic in CPython).
        """
        texts = self.metadata_texts
        shared = texts.get(metadata_json)
        if shared is not None:
            return shared
        if len(texts) >= SHARED_METADATA_LIMIT:
            texts.clear()
        return texts.setdefault(metadata_json, metadata_json)

    def index(self, record: RecordedEvent, indexed_metadata: tuple[Any, ...]) -> None:
        """Add ``record`` to every index but its stream (``indexed_metadata``: see PendingEvent).

        Written out flat (no helper calls): it runs once per stored event.
        """
        events = self.events
        timestamp = record.timestamp
        if self.events_in_time_order and events and timestamp < events[-1].timestamp:
            self.events_in_time_order = False
        events.append(record)
        self.by_id[record.event_id.int] = record
        self.by_aggregate_type.setdefault(record.aggregate_type, []).append(record)
        key = record.correlation_id
        if key is not None:
            small = self.by_correlation
            if key in small:
                small.add(key, record)
            else:
                small[key] = record
        key = record.causation_id
        if key is not None:
            small = self.by_causation
            if key in small:
                small.add(key, record)
            else:
                small[key] = record
        by_metadata = self.by_metadata
        for name, value in zip(INDEXED_METADATA_KEYS, indexed_metadata, strict=True):
            if value is not None:
                by_metadata[name].setdefault(value, []).append(record)
        type_index = self.by_type.get(record.event_type)
        if type_index is None:
            type_index = self.by_type[record.event_type] = _TimeIndex()
        by_type = type_index.records
        if by_type and timestamp < by_type[-1].timestamp:
            type_index.add(record)
        else:
            by_type.append(record)
        if self.by_time is not None:
            self.by_time.add(record)

    def time_index(self) -> _TimeIndex | Sequence[RecordedEvent]:
        """Every event sorted by time: the events list while it is in time order.

        Else the :class:`_TimeIndex` over every event, built here on first use
        (O(n log n), once) and kept up to date by :meth:`index` from then on.
        Call with the lock held.
        """
        if self.events_in_time_order:
            return self.events
        if self.by_time is None:
            self.by_time = _TimeIndex(self.events)
        return self.by_time


class _WriteLock:
    """Take an append's lock without ever waiting for it in a blocking call (no lock convoy).

    A thread blocked on the lock wakes up holding it but without the GIL, and
    then waits for the GIL while every other appender blocks on the lock: from
    then on each append costs a thread switch. Here a thread that finds the lock
    taken lets the holder run (``time.sleep(0)`` gives up the GIL) and tries
    again; after many tries (a journal's fsync holds the lock for milliseconds)
    it blocks as usual.
    """

    __slots__ = ("lock",)

    def __init__(self, lock: threading.RLock) -> None:
        self.lock = lock

    def __enter__(self) -> None:
        lock = self.lock
        if lock.acquire(False):
            return
        for _ in range(_SPINS):
            time.sleep(0)
            if lock.acquire(False):
                return
        lock.acquire()

    def __exit__(self, *exc_info: object) -> None:
        self.lock.release()


#: Tries of _WriteLock before blocking.
_SPINS = 200

_data: dict[str, _Data] = {}
_data_lock = threading.Lock()


def _data_for(alias: str, journal_path: str | None, fsync: bool) -> _Data:
    """Return the alias's data, creating it (and loading its journal) on first use."""
    with _data_lock:
        data = _data.get(alias)
        if data is None:
            data = _Data()
            if journal_path is not None:
                data.journal = Journal(journal_path, fsync=fsync)
                try:
                    data.key_store.path = keys_file_path(data.journal.path)
                    try:
                        keys = read_keys_file(data.key_store.path)
                    except ValueError as exc:
                        raise InvalidBackendError(f"EVENTSTORES[{alias!r}]: {exc}") from None
                    data.keys = {key.key_id: key for key in keys}
                    data.subject_keys = {key.subject: key for key in keys}
                    _load_journal(data)
                    data.identity = journal_identity(data.journal.path)
                except Exception:
                    data.journal.close()
                    raise
            _data[alias] = data
        elif (data.journal.path if data.journal else None) != (
            None if journal_path is None else Journal.resolve(journal_path)
        ):
            raise InvalidBackendError(
                f"EVENTSTORES[{alias!r}]: this process already holds the alias with "
                f"journal {data.journal.path if data.journal else None}; restart to change it."
            )
        return data


def _digest(aggregate_id: str, aggregate_type: str, event: PendingEvent) -> bytes:
    """The chain's body digest of a pending event (computed before the write lock)."""
    return body_digest(
        event.event_id,
        aggregate_id,
        aggregate_type,
        event.event_type,
        event.schema_version,
        event.correlation_id,
        event.causation_id,
        event.metadata_json,
        event.data_json,
    )


def _load_journal(data: _Data) -> None:
    """Load the journal's events; chain those written before the chain existed (no hash).

    Stored hashes are kept as read (``eventstore_verify`` checks them); the head
    is the last event's hash.
    """
    assert data.journal is not None  # called once the journal is open
    chained = 0
    for batch in data.journal.load():
        for record in batch:
            record = replace(record, keys=data.key_store)
            if record.position != len(data.events) + 1:
                raise InvalidBackendError(
                    f"Journal {data.journal.path}: event {record.event_id} has position "
                    f"{record.position}, expected {len(data.events) + 1}."
                )
            if not record.chain_hash:
                record = replace(record, chain_hash=record_hash(data.head, record))
                chained += 1
            data.head = record.chain_hash
            data.streams.setdefault(record.aggregate_id, []).append(record)
            metadata = codec.loads(record.metadata_json)
            data.index(
                record, tuple(indexable_value(metadata.get(key)) for key in INDEXED_METADATA_KEYS)
            )
            data.approx_bytes += (
                len(record.data_json) + len(record.metadata_json) + RECORD_OVERHEAD_BYTES
            )
    if chained:
        logger.warning(
            "Journal %s: %d events written before the hash chain existed were chained on "
            "load (their hashes are computed, not stored, until the journal is rewritten).",
            data.journal.path,
            chained,
        )


def swap_data(alias: str, data: _Data | None) -> _Data | None:
    """Make ``data`` the alias's data (``None``: none yet) and return the data it replaces.

    For the testing support: a test gets data of its own for an alias, and the
    previous data is put back afterwards exactly as it was (its events kept, its
    journal open and untouched). Store instances already built keep their data.
    """
    with _data_lock:
        previous = _data.pop(alias, None)
        if data is not None:
            _data[alias] = data
    return previous


def forget(alias: str) -> None:
    """Drop an alias's data and close its journal (tests; a restart does the same)."""
    with _data_lock:
        data = _data.pop(alias, None)
    if data is not None and data.journal is not None:
        data.journal.close()


@dataclass
class _Source:
    """Candidates from one index: ``chunks`` are lists each in position order."""

    chunks: list[Sequence[RecordedEvent]]
    size: int
    covers: tuple[str, ...]
    metadata_key: str | None = None
    sorted_chunks: bool = True


class InMemoryEventStore(BaseEventStore):
    """Event store keeping events in process memory (the default backend).

    Options (``EVENTSTORES[alias]["OPTIONS"]``):
        MAX_EVENTS (int or None): refuse appends that would store more events.
        MAX_BYTES (int or None): refuse appends that would pass this approximate
            size in bytes (JSON text plus a fixed per-event overhead).
        MAX_EVENT_BYTES (int): largest data + metadata of one event, in bytes
            (default 1 MiB).
        JOURNAL (path or None): append-only journal reloaded at start-up, see
            :mod:`eventstore.backends.journal` for the durability policy.
        JOURNAL_FSYNC (bool): fsync each batch before acknowledging it (default True).

    Nothing is ever evicted: when a bound is reached, appends raise
    :class:`~eventstore.exceptions.EventStoreFull` and reads keep working.
    Positions are gapless (1..n); a refused append consumes none.
    """

    option_defaults = {
        **BaseEventStore.option_defaults,
        "MAX_EVENTS": None,
        "MAX_BYTES": None,
        "JOURNAL": None,
        "JOURNAL_FSYNC": True,
    }

    def __init__(self, alias: str = "default", options: Any = None, **kwargs: Any) -> None:
        super().__init__(alias, options, **kwargs)
        refuse_if_forked(alias)
        self._data = _data_for(alias, self.options["JOURNAL"], self.options["JOURNAL_FSYNC"])
        self.keys = self._data.key_store

    def validate_options(self, options: dict[str, Any]) -> dict[str, Any]:
        merged = super().validate_options(options)
        self.check_positive_option(merged, "MAX_EVENTS")
        self.check_positive_option(merged, "MAX_BYTES")
        journal = merged["JOURNAL"]
        if journal is not None and not isinstance(journal, (str, os.PathLike)):
            raise InvalidBackendError(
                f"EVENTSTORES[{self.alias!r}]: OPTIONS['JOURNAL'] must be a file path or None."
            )
        if not isinstance(merged["JOURNAL_FSYNC"], bool):
            raise InvalidBackendError(
                f"EVENTSTORES[{self.alias!r}]: OPTIONS['JOURNAL_FSYNC'] must be True or False."
            )
        return merged

    def check(self) -> list[Any]:
        """Warn (eventstore.W001) when this store runs outside development (``DEBUG = False``).

        Process memory is lost on restart (unless journaled), and each worker
        process of a multi-process server would keep its own, different history;
        :func:`eventstore.serving.claim_serving` makes a second one refuse to start.
        """
        from django.conf import settings
        from django.core import checks

        messages = []
        if not settings.DEBUG and self._data.journal is None:
            messages.append(
                checks.Warning(
                    f"EVENTSTORES[{self.alias!r}] keeps events in process memory without a "
                    "JOURNAL while DEBUG is False: events are lost on restart, and each "
                    "worker process of a server would keep its own, diverging history.",
                    hint=f"{ONE_PROCESS_HINT} Call eventstore.serving.claim_serving() in "
                    "wsgi.py/asgi.py so that a second process refuses to start; "
                    "OPTIONS['JOURNAL'] keeps the events across restarts.",
                    id="eventstore.W001",
                )
            )
        torn = self._data.journal.torn_tail if self._data.journal else None
        if torn is not None:
            messages.append(
                checks.Warning(
                    f"EVENTSTORES[{self.alias!r}]: the journal ended with a torn line of "
                    f"{torn.size} bytes (never acknowledged), moved to {torn.saved_to}.",
                    id="eventstore.W002",
                )
            )
        return messages

    # -- writing ---------------------------------------------------------------------------

    def _append(
        self,
        aggregate_id: str,
        aggregate_type: str,
        pending: list[PendingEvent],
        expected_version: ExpectedVersionArg,
    ) -> tuple[list[RecordedEvent], bool]:
        if len(pending) == 1:
            return self._append_one(aggregate_id, aggregate_type, pending[0], expected_version)
        data = self._data
        # Work that needs no lock is done before taking it: the shared strings and
        # the size, so the lock is held for the checks, the records and the indexes.
        event_types = [data.shared_type(event.event_type) for event in pending]
        metadata_texts = [data.shared_metadata(event.metadata_json) for event in pending]
        added_bytes = sum(
            len(event.data_json) + len(event.metadata_json) + RECORD_OVERHEAD_BYTES
            for event in pending
        )
        digests = [_digest(aggregate_id, aggregate_type, event) for event in pending]
        with _WriteLock(data.lock):
            stream = data.streams.get(aggregate_id)
            actual = len(stream) if stream else 0
            by_id = data.by_id
            first = by_id.get(pending[0].event_id.int)
            if first is not None:
                stored = data.streams[first.aggregate_id][
                    first.version - 1 : first.version - 1 + len(pending)
                ]
                return self.retried_batch(
                    first, stored, aggregate_id, pending, expected_version
                ), False
            for event in pending:
                if event.event_id.int in by_id:
                    raise DuplicateEventError(event.event_id)
            self.check_expected_version(aggregate_id, expected_version, actual)
            if stream:
                self.check_stream_type(stream[0].aggregate_type, aggregate_id, aggregate_type)
            self._check_bounds(len(pending), added_bytes)
            stamps = self.stream_timestamps(pending, stream[-1].timestamp if stream else None)
            position = len(data.events)
            # Equal strings already stored are reused, so each event does not keep
            # its own copy of its stream's id, type names or correlation id.
            if stream:
                aggregate_id, aggregate_type = stream[0].aggregate_id, stream[0].aggregate_type
            records = []
            chain_hash = data.head
            for offset, event in enumerate(pending):
                correlation = data.shared_correlation(event.correlation_id)
                causation = event.causation_id
                if causation is not None and causation == correlation:
                    causation = correlation
                chain_hash = next_hash(
                    chain_hash,
                    position + offset + 1,
                    actual + offset + 1,
                    stamps[offset],
                    digests[offset],
                )
                records.append(
                    make_record(
                        event.event_id,
                        aggregate_id,
                        aggregate_type,
                        event_types[offset],
                        actual + offset + 1,
                        position + offset + 1,
                        stamps[offset],
                        correlation,
                        causation,
                        event.schema_version,
                        event.data_json,
                        metadata_texts[offset],
                        chain_hash,
                        data.key_store,
                    )
                )
            if data.journal is not None:
                data.journal.write(records)
            data.head = chain_hash
            if stream is None:
                data.streams[aggregate_id] = records[:]
            else:
                stream.extend(records)
            index = data.index
            for record, event in zip(records, pending, strict=True):
                index(record, event.indexed_metadata)
            data.approx_bytes += added_bytes
        return records, True

    def _append_one(
        self,
        aggregate_id: str,
        aggregate_type: str,
        event: PendingEvent,
        expected_version: ExpectedVersionArg,
    ) -> tuple[list[RecordedEvent], bool]:
        """:meth:`_append` of a one-event batch (the usual append), the same steps in one place."""
        data = self._data
        event_type = data.type_names.get(event.event_type) or data.shared_type(event.event_type)
        metadata_json = data.shared_metadata(event.metadata_json)
        added_bytes = len(event.data_json) + len(metadata_json) + RECORD_OVERHEAD_BYTES
        event_id = event.event_id
        options = self.options
        bounded = options["MAX_EVENTS"] is not None or options["MAX_BYTES"] is not None
        digest = _digest(aggregate_id, aggregate_type, event)
        with _WriteLock(data.lock):
            stream = data.streams.get(aggregate_id)
            first = data.by_id.get(event_id.int)
            if first is not None:
                stored = data.streams[first.aggregate_id][first.version - 1 : first.version]
                return self.retried_batch(
                    first, stored, aggregate_id, [event], expected_version
                ), False
            actual = len(stream) if stream else 0
            if expected_version is not ANY and expected_version != actual:
                self.check_expected_version(aggregate_id, expected_version, actual)
            if stream and stream[0].aggregate_type != aggregate_type:
                self.check_stream_type(stream[0].aggregate_type, aggregate_id, aggregate_type)
            if bounded:
                self._check_bounds(1, added_bytes)
            stamp = event.timestamp
            previous = stream[-1].timestamp if stream else None
            if stamp is None or (previous is not None and stamp < previous):
                (stamp,) = self.stream_timestamps((event,), previous)
            correlation = event.correlation_id
            if correlation is not None:
                stored_correlation = data.by_correlation.get(correlation)
                if stored_correlation is not None:
                    correlation = data._first(stored_correlation).correlation_id
            causation = event.causation_id
            if causation is not None and causation == correlation:
                causation = correlation
            if stream:
                aggregate_id, aggregate_type = stream[0].aggregate_id, stream[0].aggregate_type
            position = len(data.events) + 1
            chain_hash = next_hash(data.head, position, actual + 1, stamp, digest)
            record = make_record(
                event_id,
                aggregate_id,
                aggregate_type,
                event_type,
                actual + 1,
                position,
                stamp,
                correlation,
                causation,
                event.schema_version,
                event.data_json,
                metadata_json,
                chain_hash,
                data.key_store,
            )
            records = [record]
            if data.journal is not None:
                data.journal.write(records)
            data.head = chain_hash
            if stream is None:
                data.streams[aggregate_id] = [record]
            else:
                stream.append(record)
            data.index(record, event.indexed_metadata)
            data.approx_bytes += added_bytes
        return records, True

    def _check_bounds(self, added_events: int, added_bytes: int) -> None:
        max_events = self.options["MAX_EVENTS"]
        if max_events is not None and len(self._data.events) + added_events > max_events:
            raise EventStoreFull(
                f"Event store {self.alias!r} is full: {len(self._data.events)} events stored, "
                f"MAX_EVENTS is {max_events}; {added_events} more refused."
            )
        max_bytes = self.options["MAX_BYTES"]
        if max_bytes is not None and self._data.approx_bytes + added_bytes > max_bytes:
            raise EventStoreFull(
                f"Event store {self.alias!r} is full: about {self._data.approx_bytes} bytes "
                f"stored, MAX_BYTES is {max_bytes}; {added_bytes} more bytes refused."
            )

    # -- reading ---------------------------------------------------------------------------

    def _read_aggregate(
        self, aggregate_id: str, from_version: int, to_version: int | None
    ) -> list[RecordedEvent]:
        with self._data.lock:
            stream = self._data.streams.get(aggregate_id)
            if not stream:
                return []
            return stream[from_version - 1 : to_version]

    def _read_all(self, after_position: int, limit: int | None) -> list[RecordedEvent]:
        start = after_position
        with self._data.lock:
            return self._data.events[start : None if limit is None else start + limit]

    def event_type_counts(self) -> dict[str, int]:
        with self._data.lock:
            return {name: len(index.records) for name, index in self._data.by_type.items()}

    def aggregate_version(self, aggregate_id: str) -> int:
        with self._data.lock:
            stream = self._data.streams.get(aggregate_id)
            return len(stream) if stream else 0

    def get_event(self, event_id: UUID | str) -> RecordedEvent | None:
        if not isinstance(event_id, UUID):
            try:
                event_id = UUID(str(event_id))
            except ValueError:
                return None
        with self._data.lock:
            return self._data.by_id.get(event_id.int)

    def last_position(self) -> int:
        with self._data.lock:
            return len(self._data.events)

    def chain_head(self) -> tuple[int, bytes]:
        with self._data.lock:
            return len(self._data.events), self._data.head

    def identity(self) -> str:
        """Random per process and per clear(); kept beside the journal when there is one."""
        return self._data.identity

    def stats(self) -> dict[str, Any]:
        """Return ``events``, ``aggregates``, ``approx_bytes``, ``max_events``, ``max_bytes``."""
        with self._data.lock:
            return {
                "backend": type(self).__name__,
                "alias": self.alias,
                "events": len(self._data.events),
                "aggregates": len(self._data.streams),
                "approx_bytes": self._data.approx_bytes,
                "max_events": self.options["MAX_EVENTS"],
                "max_bytes": self.options["MAX_BYTES"],
                "journal": str(self._data.journal.path) if self._data.journal else None,
                "journal_torn_tail": (
                    vars(self._data.journal.torn_tail)
                    if self._data.journal and self._data.journal.torn_tail
                    else None
                ),
            }

    def clear(self) -> None:
        """Delete every event, and empty the journal if there is one."""
        self._data.reset()

    def snapshot(self) -> Any:
        """Return the stored events as an opaque value for :meth:`restore` (tests)."""
        return self._data.snapshot()

    def restore(self, snapshot: Any) -> None:
        """Put the store back to ``snapshot``, in place (tests; refused with a journal)."""
        self._data.restore(snapshot)

    def _search(self, criteria: Criteria) -> list[RecordedEvent]:
        with self._data.lock:
            source = self._best_source(criteria)
            residual = _residual(criteria, source)
            results: list[RecordedEvent] = []
            if criteria.limit == 0:
                return results
            for record in self._iterate(source, criteria.after_position):
                if residual is None or residual.matches(record):
                    results.append(record)
                    if criteria.limit is not None and len(results) >= criteria.limit:
                        break
            return results

    def _count(self, criteria: Criteria) -> int:
        with self._data.lock:
            source = self._best_source(criteria)
            residual = _residual(criteria, source)
            if residual is None:
                return source.size
            return sum(1 for record in self._iterate(source, 0) if residual.matches(record))

    def _iterate(self, source: _Source, after_position: int) -> Iterator[RecordedEvent]:
        chunks = source.chunks
        if not source.sorted_chunks:
            chunks = [sorted(chunk, key=_position) for chunk in chunks]
        if after_position:
            chunks = [
                chunk[bisect_right(chunk, after_position, key=_position) :] for chunk in chunks
            ]
        if len(chunks) == 1:
            return iter(chunks[0])
        return heapq.merge(*chunks, key=_position)

    def _best_source(self, criteria: Criteria) -> _Source:
        """Return the index that yields the fewest candidates for ``criteria``."""
        data = self._data
        sources: list[_Source] = []

        def lists(index: dict[Any, Any], keys: Iterable[Any]) -> list[Any]:
            if isinstance(index, _SmallIndex):
                return [index.records(key) for key in keys if key in index]
            return [index[key] for key in keys if key in index]

        for name, index in (
            ("aggregate_ids", data.streams),
            ("correlation_ids", data.by_correlation),
            ("causation_ids", data.by_causation),
            ("aggregate_types", data.by_aggregate_type),
        ):
            keys = getattr(criteria, name)
            if keys is not None:
                chunks = lists(index, keys)
                sources.append(_Source(chunks, sum(map(len, chunks)), (name,)))
        for key, accepted in criteria.metadata:
            if key in data.by_metadata:
                chunks = lists(data.by_metadata[key], accepted)
                sources.append(_Source(chunks, sum(map(len, chunks)), (), metadata_key=key))
        if criteria.event_types is not None:
            indexes = lists(data.by_type, criteria.event_types)
            if criteria.timestamp is not None:
                # between() returns each range already in position order.
                chunks = [index.between(criteria.timestamp) for index in indexes]
                sources.append(_Source(chunks, sum(map(len, chunks)), ("event_types", "timestamp")))
            else:
                chunks = [index.records for index in indexes]
                sources.append(
                    _Source(
                        chunks,
                        sum(map(len, chunks)),
                        ("event_types",),
                        sorted_chunks=all(index.in_position_order for index in indexes),
                    )
                )
        if criteria.timestamp is not None:
            by_time = data.time_index()
            if isinstance(by_time, _TimeIndex):
                size = by_time.count_between(criteria.timestamp)
                if not sources or size < min(source.size for source in sources):
                    chunks = [by_time.between(criteria.timestamp)]
                    sources.append(_Source(chunks, size, ("timestamp",)))
            else:  # the events list, in time order
                start, stop = _time_span(by_time, criteria.timestamp)
                if not sources or stop - start < min(source.size for source in sources):
                    chunks = [_View(by_time, start, stop)]
                    sources.append(_Source(chunks, stop - start, ("timestamp",)))
        if criteria.position is not None:
            start, stop = _position_slice(criteria.position, len(data.events))
            sources.append(_Source([_View(data.events, start, stop)], stop - start, ("position",)))
        if not sources:
            sources.append(_Source([data.events], len(data.events), ()))
        return min(sources, key=attrgetter("size"))


def _position_slice(bounds: Range, total: int) -> tuple[int, int]:
    """Return the list slice holding the positions inside ``bounds`` (gapless 1..total)."""
    start, stop = 0, total
    if (lower := bounds.lower) is not None:
        start = lower[0] - 1 if lower[1] else lower[0]
    if (upper := bounds.upper) is not None:
        stop = upper[0] if upper[1] else upper[0] - 1
    start = min(max(start, 0), total)
    return start, max(start, min(stop, total))


_EMPTY = Criteria()


def _residual(criteria: Criteria, source: _Source) -> Criteria | None:
    """Return the criteria ``source`` does not answer by itself, or None if it answers all."""
    changes: dict[str, Any] = dict.fromkeys(source.covers)
    changes["after_position"] = 0
    changes["limit"] = None
    if source.metadata_key is not None:
        changes["metadata"] = tuple(
            item for item in criteria.metadata if item[0] != source.metadata_key
        )
    residual = criteria.replace(**changes)
    return None if residual == _EMPTY else residual
