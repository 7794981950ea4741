"""The store contract every backend obeys, and the logic shared by all backends.

A backend implements a few primitives (``_append``, ``_read_aggregate``,
``_read_all``, ``_search``, ``_count``, ``aggregate_version``, ``stats`` and
``clear``); validation, convenience reads and publishing on the event bus are
written once here.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from ..bus import publish
from ..criteria import Criteria, ensure_aware
from ..events import DomainEvent, EventRegistry, registry
from ..exceptions import (
    ConcurrencyError,
    DuplicateEventError,
    InvalidBackendError,
    InvalidEventError,
    InvalidQueryError,
)
from ..mapping import DEFAULT_MAX_EVENT_BYTES, MAX_ID_LENGTH, PendingEvent, check_id, prepare
from ..privacy import erasure as _erasure  # noqa: F401  (registers DataSubjectErased)
from ..privacy.cipher import blind_token
from ..privacy.declarations import user_subject
from ..privacy.keys import KeyStore
from ..records import ANY, STREAM_EXISTS, ExpectedVersion, NewEvent, RecordedEvent

__all__ = ["BaseEventStore", "ExpectedVersionArg"]

ExpectedVersionArg = int | ExpectedVersion


class BaseEventStore:
    """Base class of event store backends.

    Args:
        alias: the ``EVENTSTORES`` key this store was configured under.
        options: the entry's ``OPTIONS`` dict (keys in upper case).
        clock: a callable returning the current time as an aware datetime;
            defaults to the system clock in UTC. Tests may replace
            :attr:`clock` at any time.
        event_registry: where event types are looked up; the default registry.

    Raises:
        InvalidBackendError: if an option is unknown or has a bad value.
    """

    #: Options this backend accepts, with their defaults.
    option_defaults: Mapping[str, Any] = {"MAX_EVENT_BYTES": DEFAULT_MAX_EVENT_BYTES}

    def __init__(
        self,
        alias: str = "default",
        options: Mapping[str, Any] | None = None,
        *,
        clock: Callable[[], datetime] | None = None,
        event_registry: EventRegistry | None = None,
    ) -> None:
        self.alias = alias
        self.options = self.validate_options(dict(options or {}))
        self.clock: Callable[[], datetime] = clock or _utc_now
        self.registry = event_registry or registry
        #: Where this store's data subjects' keys live (set by the backend); None
        #: stores personal values in plain (see :mod:`eventstore.privacy`).
        self.keys: KeyStore | None = None

    # -- configuration -----------------------------------------------------------------

    def validate_options(self, options: dict[str, Any]) -> dict[str, Any]:
        """Return ``options`` completed with defaults.

        Checks the options every backend has (``MAX_EVENT_BYTES``) and that no
        unknown option is given; a backend checks its own in an override.

        Raises:
            InvalidBackendError: naming the alias and the unknown option or bad value.
        """
        unknown = sorted(set(options) - set(self.option_defaults))
        if unknown:
            raise InvalidBackendError(
                f"EVENTSTORES[{self.alias!r}]: unknown option(s) {', '.join(unknown)} for "
                f"{type(self).__name__}; known: {', '.join(sorted(self.option_defaults))}."
            )
        merged = {**self.option_defaults, **options}
        self.check_positive_option(merged, "MAX_EVENT_BYTES")
        return merged

    def check_positive_option(self, options: Mapping[str, Any], name: str) -> None:
        """Raise :class:`InvalidBackendError` unless ``options[name]`` is None or an int ≥ 1."""
        value = options.get(name)
        if value is not None and (
            isinstance(value, bool) or not isinstance(value, int) or value < 1
        ):
            raise InvalidBackendError(
                f"EVENTSTORES[{self.alias!r}]: OPTIONS[{name!r}] must be a positive "
                f"integer or None, got {value!r}."
            )

    def check(self) -> list[Any]:
        """Return Django system-check messages about this store's configuration."""
        return []

    # -- writing ---------------------------------------------------------------------------

    def append(
        self,
        aggregate_id: str,
        aggregate_type: str,
        events: Sequence[DomainEvent | NewEvent],
        expected_version: ExpectedVersionArg,
        *,
        metadata: Mapping[str, Any] | None = None,
        correlation_id: str | None = None,
        causation_id: str | None = None,
    ) -> list[RecordedEvent]:
        """Append a batch of events to one aggregate's stream, all or nothing.

        Args:
            aggregate_id: the stream's id, 1 to 255 characters.
            aggregate_type: the stream's kind (``"Payment"``); a stream keeps one type.
            events: :class:`DomainEvent` instances or :class:`NewEvent` records.
            expected_version: the stream's version the writer last saw: an int
                (``0``/:data:`NO_STREAM`: the stream must not exist), :data:`ANY`
                (no check) or :data:`STREAM_EXISTS` (at least one event).
            metadata: merged under each event's own metadata (its keys win).
            correlation_id / causation_id: used for events that set none.

        Returns:
            The recorded events, in version order, with versions and positions.

        Idempotent retries: when the batch's first event id is already stored, the
        call is a retry if the same ids are stored, in order, as consecutive
        events of this aggregate starting right after ``expected_version`` (any
        place for :data:`ANY`); the original records are returned, nothing is
        stored and nothing is published again. Any other reuse of a stored id,
        or an id repeated inside the batch, raises :class:`DuplicateEventError`.

        Raises:
            ConcurrencyError: the stream's version is not ``expected_version``
                (behind or ahead), naming the aggregate, expected and actual version.
            DuplicateEventError: see above.
            InvalidEventError: an event fails validation (unregistered type, payload
                not JSON-serializable, naive timestamp, larger than
                ``MAX_EVENT_BYTES``); nothing is stored.
            EventStoreFull: the store's bound would be passed; nothing is stored.
        """
        if not (
            type(aggregate_id) is str
            and 0 < len(aggregate_id) <= MAX_ID_LENGTH
            and aggregate_id.isascii()
            and "\x00" not in aggregate_id
        ):
            check_id("aggregate_id", aggregate_id, required=True)
        if not (
            type(aggregate_type) is str
            and 0 < len(aggregate_type) <= MAX_ID_LENGTH
            and aggregate_type.isascii()
            and "\x00" not in aggregate_type
        ):
            check_id("aggregate_type", aggregate_type, required=True)
        if type(expected_version) is not int or expected_version < 0:
            expected_version = _check_expected_version(expected_version)
        if type(events) is not list and (
            not isinstance(events, Sequence) or isinstance(events, (str, bytes))
        ):
            raise InvalidEventError("events must be a list of events.")
        if not events:
            raise InvalidEventError("An append needs at least one event.")
        batch_metadata = metadata or {}
        registry = self.registry
        max_event_bytes = self.options["MAX_EVENT_BYTES"]
        keys = self.keys
        if len(events) == 1:
            pending = [
                prepare(
                    events[0],
                    0,
                    batch_metadata,
                    correlation_id,
                    causation_id,
                    registry,
                    max_event_bytes,
                    keys,
                )
            ]
        else:
            pending = [
                prepare(
                    event,
                    index,
                    batch_metadata,
                    correlation_id,
                    causation_id,
                    registry,
                    max_event_bytes,
                    keys,
                )
                for index, event in enumerate(events)
            ]
        if len(pending) > 1:
            ids = [event.event_id for event in pending]
            if len(set(ids)) != len(ids):
                duplicate = next(event_id for event_id in ids if ids.count(event_id) > 1)
                raise DuplicateEventError(
                    duplicate, f"Event id {duplicate} appears twice in the batch."
                )
        records, stored = self._append(aggregate_id, aggregate_type, pending, expected_version)
        if stored:
            self.publish(records)
        return records

    def publish(self, records: Sequence[RecordedEvent]) -> None:
        """Send the event bus signal for a durable batch (backends may defer it to commit)."""
        publish(self, records)

    def atomic(self) -> contextlib.AbstractContextManager[Any]:
        """Return a context in which this store's writes commit together (database: a
        transaction); a no-op context for a backend without transactions."""
        return contextlib.nullcontext()

    def now(self) -> datetime:
        """Return the store clock's current time in UTC.

        Raises:
            InvalidEventError: if the clock returned a naive datetime.
        """
        value = self.clock()
        if not isinstance(value, datetime) or value.utcoffset() is None:
            raise InvalidEventError(f"The store clock returned a naive or bad time: {value!r}.")
        return value.astimezone(UTC)

    # -- shared decisions, called by backends while they hold their write lock -------------

    @staticmethod
    def check_expected_version(
        aggregate_id: str, expected_version: ExpectedVersionArg, actual: int
    ) -> None:
        """Raise :class:`ConcurrencyError` unless ``actual`` satisfies ``expected_version``."""
        if expected_version is STREAM_EXISTS:
            if actual == 0:
                raise ConcurrencyError(aggregate_id, STREAM_EXISTS, actual)
        elif expected_version is not ANY and expected_version != actual:
            raise ConcurrencyError(aggregate_id, expected_version, actual)

    @staticmethod
    def check_stream_type(stored_type: str | None, aggregate_id: str, aggregate_type: str) -> None:
        """Refuse to add events of another aggregate type to an existing stream."""
        if stored_type is not None and stored_type != aggregate_type:
            raise InvalidEventError(
                f"Aggregate {aggregate_id!r} is a {stored_type}, not a {aggregate_type}."
            )

    def stream_timestamps(
        self, pending: Sequence[PendingEvent], previous: datetime | None
    ) -> list[datetime]:
        """Return the timestamps of a batch appended after an event stamped ``previous``.

        A stream's timestamps never decrease (so "the state at an instant" is
        always a prefix of its versions): an event without a timestamp is
        stamped with the store clock, or with its predecessor's timestamp if
        the clock reads earlier (a clock stepped back by NTP or a VM move); an
        event given a timestamp (an import) must not be earlier than its
        predecessor's. ``previous`` is None for a new stream. The clock is read
        at most once per batch.

        Raises:
            InvalidEventError: an event's own timestamp is before its predecessor's.
        """
        now = None
        stamps = []
        for index, event in enumerate(pending):
            stamp = event.timestamp
            if stamp is None:
                if now is None:
                    now = self.now()
                stamp = now if previous is None or now >= previous else previous
            elif previous is not None and stamp < previous:
                raise InvalidEventError(
                    f"events[{index}].timestamp {stamp.isoformat()} is before the stream's "
                    f"previous event ({previous.isoformat()}): a stream's times never decrease."
                )
            stamps.append(stamp)
            previous = stamp
        return stamps

    @staticmethod
    def retried_batch(
        first: RecordedEvent,
        stored: Sequence[RecordedEvent],
        aggregate_id: str,
        pending: Sequence[PendingEvent],
        expected_version: ExpectedVersionArg,
    ) -> list[RecordedEvent]:
        """Return ``stored`` if ``pending`` is a retry of that stored batch, else raise.

        Args:
            first: the stored event whose id is the batch's first event id.
            stored: the stored events of ``first``'s stream from ``first`` on, at
                most ``len(pending)`` of them.

        Raises:
            DuplicateEventError: the ids are stored, but not as this batch (see
                :meth:`append`).
        """
        is_retry = (
            first.aggregate_id == aggregate_id
            and (
                expected_version is ANY
                or expected_version is STREAM_EXISTS
                or expected_version == first.version - 1
            )
            and len(stored) == len(pending)
            and all(
                record.event_id == event.event_id and record.event_type == event.event_type
                for record, event in zip(stored, pending, strict=True)
            )
        )
        if not is_retry:
            raise DuplicateEventError(
                first.event_id,
                f"Event id {first.event_id} is already stored (aggregate "
                f"{first.aggregate_id!r}, version {first.version}) and this append is not "
                "a retry of that batch.",
            )
        return list(stored)

    def _append(
        self,
        aggregate_id: str,
        aggregate_type: str,
        pending: list[PendingEvent],
        expected_version: ExpectedVersionArg,
    ) -> tuple[list[RecordedEvent], bool]:
        """Store a validated batch atomically.

        Returns:
            ``(records, stored)``: ``stored`` is False for an idempotent retry.
        """
        raise NotImplementedError("subclasses of BaseEventStore must provide _append()")

    # -- reading primitives ----------------------------------------------------------------

    def read_aggregate(
        self, aggregate_id: str, from_version: int = 1, to_version: int | None = None
    ) -> list[RecordedEvent]:
        """Return one aggregate's events with ``from_version <= version <= to_version``.

        Both bounds are inclusive; ``to_version=None`` reads to the end. An unknown
        aggregate, or ``to_version`` below ``from_version``, gives an empty list.

        Raises:
            InvalidQueryError: ``from_version`` is not an int ≥ 1, or ``to_version``
                is neither None nor an int ≥ 0 (versions start at 1).
        """
        if type(from_version) is not int or from_version < 1:
            _check_bound("from_version", from_version, 1)
        if to_version is not None and (type(to_version) is not int or to_version < 0):
            _check_bound("to_version", to_version, 0)
        return self._read_aggregate(aggregate_id, from_version, to_version)

    def read_all(self, after_position: int = 0, limit: int | None = None) -> list[RecordedEvent]:
        """Return events with ``position > after_position`` (exclusive), at most ``limit``.

        In position order; an empty list when there are no more. Page through the
        whole store by passing the last position returned as ``after_position``.

        Raises:
            InvalidQueryError: ``after_position`` is not an int ≥ 0, or ``limit`` is
                neither None nor an int ≥ 0.
        """
        if type(after_position) is not int or after_position < 0:
            _check_bound("after_position", after_position, 0)
        if limit is not None and (type(limit) is not int or limit < 0):
            _check_bound("limit", limit, 0)
        return self._read_all(after_position, limit)

    def _read_aggregate(
        self, aggregate_id: str, from_version: int, to_version: int | None
    ) -> list[RecordedEvent]:
        """Primitive of :meth:`read_aggregate`, given checked bounds."""
        raise NotImplementedError("subclasses of BaseEventStore must provide _read_aggregate()")

    def _read_all(self, after_position: int, limit: int | None) -> list[RecordedEvent]:
        """Primitive of :meth:`read_all`, given checked bounds."""
        raise NotImplementedError("subclasses of BaseEventStore must provide _read_all()")

    def aggregate_version(self, aggregate_id: str) -> int:
        """Return the aggregate's current version (its last event's), 0 if it has none."""
        raise NotImplementedError("subclasses of BaseEventStore must provide aggregate_version()")

    def _search(self, criteria: Criteria) -> list[RecordedEvent]:
        raise NotImplementedError("subclasses of BaseEventStore must provide _search()")

    def _count(self, criteria: Criteria) -> int:
        raise NotImplementedError("subclasses of BaseEventStore must provide _count()")

    def event_type_counts(self) -> dict[str, int]:
        """Return how many events are stored under each event type name (as stored)."""
        raise NotImplementedError("subclasses of BaseEventStore must provide event_type_counts()")

    def stats(self) -> dict[str, Any]:
        """Return figures about the store: ``events``, ``aggregates`` and backend extras."""
        raise NotImplementedError("subclasses of BaseEventStore must provide stats()")

    def clear(self) -> None:
        """Delete every event (for tests and demos)."""
        raise NotImplementedError("subclasses of BaseEventStore must provide clear()")

    # -- queries built on the primitives ---------------------------------------------------

    def search(self, criteria: Criteria | None = None, /, **kwargs: Any) -> list[RecordedEvent]:
        """Return the events matching every criterion, in position order.

        Give a :class:`~eventstore.criteria.Criteria` or its keyword arguments (see
        :meth:`Criteria.build`). Time bounds are inclusive for ``__gte``/``__lte``
        and take aware datetimes only. ``after_position`` and ``limit`` page.
        ``user_id`` finds a sealed user id through its blind index token while
        the subject's key exists (nothing once erased); other personal values,
        in metadata or in free text, are never found (see :mod:`eventstore.privacy`).

        Raises:
            InvalidQueryError: for an unknown criterion or a bad value.
        """
        return self._search(self._with_subjects(self._with_aliases(_criteria(criteria, kwargs))))

    def count(self, criteria: Criteria | None = None, /, **kwargs: Any) -> int:
        """Return how many events match (same criteria as :meth:`search`, paging ignored)."""
        criteria = _criteria(criteria, kwargs).replace(after_position=0, limit=None)
        return self._count(self._with_subjects(self._with_aliases(criteria)))

    def _with_aliases(self, criteria: Criteria) -> Criteria:
        """Return ``criteria`` whose event types also name their types' aliases (former names)."""
        if not criteria.event_types:
            return criteria
        names = {
            alias for name in criteria.event_types for alias in self.registry.stored_names(name)
        }
        if len(names) == len(criteria.event_types):
            return criteria
        return criteria.replace(event_types=frozenset(names))

    def _with_subjects(self, criteria: Criteria) -> Criteria:
        """Return ``criteria`` whose ``user_id`` values also name their blind index tokens.

        A sealed ``user_id`` is indexed by its token (see
        :mod:`eventstore.privacy.sealing`), computed here, the one place shared
        by every backend, from the key of subject ``user:<value>``; a subject
        without a key (erased, or never seen) has no token, so only events
        storing that id in plain (appended without a key store) still match.
        """
        keys = self.keys
        if keys is None or not criteria.metadata:
            return criteria
        changed = False
        metadata = []
        for name, accepted in criteria.metadata:
            if name == "user_id":
                tokens = set()
                for value in accepted:
                    subject = user_subject(value)
                    key = keys.find(subject) if subject is not None else None
                    if key is not None:
                        tokens.add(blind_token(key, value))
                if tokens:
                    accepted = accepted | tokens
                    changed = True
            metadata.append((name, accepted))
        return criteria.replace(metadata=tuple(metadata)) if changed else criteria

    def erase_subject(self, subject: str, *, erased_by: str) -> Any:
        """Erase a data subject's personal data from this store (crypto-shredding).

        Destroys the subject's key(s), so every personal value sealed with them
        reads as :data:`~eventstore.privacy.ERASED` from now on (in this process
        at once; in others within ``EVENTSTORE_KEY_CACHE_SECONDS``), and appends a
        ``DataSubjectErased`` event recording who erased whom and when (see
        :func:`eventstore.privacy.erasure.erase_subject`).

        Args:
            subject: ``<kind>:<id>`` (``"user:42"``).
            erased_by: who asked (a username, ``"command-line"``), kept in the event.

        Returns:
            An :class:`~eventstore.privacy.erasure.Erasure`.

        Raises:
            InvalidSubjectError: ``subject`` is not ``<kind>:<id>``.
            UnknownSubjectError: the store holds no key of the subject and never erased it.
        """
        from ..privacy.erasure import erase_subject

        return erase_subject(self, subject, erased_by=erased_by)

    def read_by_type(
        self,
        event_type: str | Iterable[str],
        start: datetime | None = None,
        end: datetime | None = None,
        *,
        after_position: int = 0,
        limit: int | None = None,
    ) -> list[RecordedEvent]:
        """Return events of the given type(s) recorded between ``start`` and ``end``.

        Both ends are inclusive and must be timezone-aware; None leaves that end open.

        Raises:
            InvalidQueryError: for a naive datetime or ``start`` after ``end``.
        """
        if start is not None and end is not None:
            if ensure_aware(start, "start") > ensure_aware(end, "end"):
                raise InvalidQueryError("start must not be after end.")
        return self.search(
            event_type=event_type,
            timestamp__gte=start,
            timestamp__lte=end,
            after_position=after_position,
            limit=limit,
        )

    def read_by_correlation(self, correlation_id: str) -> list[RecordedEvent]:
        """Return every event sharing ``correlation_id``, in position order."""
        return self.search(correlation_id=correlation_id)

    def read_by_causation(self, causation_id: str) -> list[RecordedEvent]:
        """Return every event directly caused by ``causation_id``, in position order."""
        return self.search(causation_id=causation_id)

    def get_event(self, event_id: uuid.UUID | str) -> RecordedEvent | None:
        """Return the event with ``event_id``, or None if there is none (or the id is malformed)."""
        raise NotImplementedError("subclasses of BaseEventStore must provide get_event()")

    def last_position(self) -> int:
        """Return the position of the newest event, 0 for an empty store."""
        raise NotImplementedError("subclasses of BaseEventStore must provide last_position()")

    def chain_head(self) -> tuple[int, bytes]:
        """Return the store's chain head: ``(last position, its chain hash)``.

        Kept by the store beside the events (memory: with the events; database:
        the position counter row) and moved by every append, so that
        :func:`eventstore.integrity.verify_store` notices events cut off the end
        (the last stored event's hash must be the head). ``(0, 32 zero bytes)``
        for an empty store.
        """
        raise NotImplementedError("subclasses of BaseEventStore must provide chain_head()")

    def check_stored_page(self, records: Sequence[RecordedEvent]) -> None:
        """Check what the backend keeps beside a page of verified events (a verify hook).

        Called by :func:`eventstore.integrity.verify_store` after each page whose
        chain verified. The default checks nothing; the database backend compares
        its indexed copies (``organization_id``, ``user_id``, ``search_text``
        columns) with each event.

        Raises:
            ChainError: kind ``"index"``, at the first position that disagrees.
        """

    def identity(self) -> str:
        """Return the identity of the history this store holds (see :mod:`eventstore.identity`).

        Two stores with the same identity hold the same history (one a prefix of the
        other); ``clear()`` and a new process-memory store give a new identity.
        """
        raise NotImplementedError("subclasses of BaseEventStore must provide identity()")


def _utc_now() -> datetime:
    """The default clock: the current time, aware, in UTC."""
    return datetime.now(UTC)


def _criteria(criteria: Criteria | None, kwargs: Mapping[str, Any]) -> Criteria:
    if criteria is not None:
        if kwargs:
            raise InvalidQueryError("Give either a Criteria or keyword criteria, not both.")
        return criteria
    return Criteria.build(**kwargs)


def _check_bound(name: str, value: Any, minimum: int) -> None:
    """Raise :class:`InvalidQueryError` unless ``value`` is an int (not a bool) ≥ ``minimum``."""
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise InvalidQueryError(f"{name} must be a whole number ≥ {minimum}, got {value!r}.")


def _check_expected_version(value: Any) -> ExpectedVersionArg:
    if value is ANY or value is STREAM_EXISTS:
        return value
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise InvalidEventError(
            f"expected_version must be an int ≥ 0, ANY or STREAM_EXISTS, got {value!r}."
        )
    return value
