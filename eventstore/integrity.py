"""The hash chain over the whole store, and its streaming verifier.

Every stored event carries ``chain_hash``, a SHA-256 (FIPS 180-4) link to the
event before it in *global position order*: one chain over the whole store,
not one per stream, so a removed last event of a stream, a whole removed
stream or two swapped events break it too (positions are gapless and commit
ordered already). The construction, the same on every backend (SQL included):

``body_digest`` = SHA-256 of the UTF-8 bytes of::

    json.dumps([str(event_id), aggregate_id, aggregate_type, event_type,
                schema_version, correlation_id, causation_id],
               ensure_ascii=False, separators=(",", ":"))
    + "\\n" + metadata_json + "\\n" + data_json

(the stored canonical texts); it needs nothing a lock decides, so backends
compute it before taking their write lock. Then, under the lock::

    chain_hash(n) = SHA-256(chain_hash(n - 1) || position (8 bytes, big-endian)
                            || version (8 bytes, big-endian)
                            || timestamp_micros (8 bytes, big-endian, signed)
                            || body_digest)

with ``timestamp_micros`` the whole microseconds since 1970-01-01T00:00:00Z
and ``chain_hash(0)`` 32 zero bytes (:data:`ZERO_HASH`). The store keeps the
last hash as its *chain head* (:meth:`BaseEventStore.chain_head`), so events
cut off the end are noticed too.

:func:`verify_store` walks a store page by page (constant memory) and raises
:class:`ChainError` naming the first bad position and what is wrong.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING
from uuid import UUID

from .exceptions import EventStoreError
from .records import RecordedEvent

if TYPE_CHECKING:
    from .backends.base import BaseEventStore

__all__ = [
    "ZERO_HASH",
    "ChainError",
    "Verified",
    "body_digest",
    "chain",
    "link",
    "link_tail",
    "next_hash",
    "record_digest",
    "record_hash",
    "timestamp_micros",
    "verify_records",
    "verify_store",
]

#: ``chain_hash(0)``: the hash "before" position 1.
ZERO_HASH = bytes(32)
#: Events read per page by :func:`verify_store`.
PAGE = 2_000

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)
_sha256 = hashlib.sha256
#: json's encoder of one string with ensure_ascii=False (quotes included; C when available).
_quote = json.encoder.encode_basestring


def timestamp_micros(timestamp: datetime) -> int:
    """Return whole microseconds since 1970-01-01T00:00:00Z of an aware datetime (exact)."""
    return (timestamp - _EPOCH) // _MICROSECOND


def body_digest(
    event_id: UUID,
    aggregate_id: str,
    aggregate_type: str,
    event_type: str,
    schema_version: int,
    correlation_id: str | None,
    causation_id: str | None,
    metadata_json: str,
    data_json: str,
) -> bytes:
    """Return the 32-byte SHA-256 of an event's body (see the module docstring)."""
    # What json.dumps([...], ensure_ascii=False, separators=(",", ":")) writes, built from
    # its own string encoder (C): about half the time of the list's encoding.
    quote = _quote
    head = (
        f'["{event_id}",{quote(aggregate_id)},{quote(aggregate_type)},{quote(event_type)},'
        f"{int(schema_version)},"
        f"{'null' if correlation_id is None else quote(correlation_id)},"
        f"{'null' if causation_id is None else quote(causation_id)}]"
    )
    return _sha256(f"{head}\n{metadata_json}\n{data_json}".encode()).digest()


def record_digest(record: RecordedEvent) -> bytes:
    """Return :func:`body_digest` of a recorded event."""
    return body_digest(
        record.event_id,
        record.aggregate_id,
        record.aggregate_type,
        record.event_type,
        record.schema_version,
        record.correlation_id,
        record.causation_id,
        record.metadata_json,
        record.data_json,
    )


def link_tail(version: int, timestamp: datetime, digest: bytes) -> bytes:
    """Return the 56 bytes after the position in a link: version, timestamp, body digest.

    What the PostgreSQL append passes as one ``bytea`` parameter per row.

    Raises:
        OverflowError: a version or timestamp outside 8 bytes (never for a valid event).
    """
    return (
        version.to_bytes(8, "big")
        + timestamp_micros(timestamp).to_bytes(8, "big", signed=True)
        + digest
    )


def link(previous: bytes, position: int, tail: bytes) -> bytes:
    """Return ``SHA-256(previous || position (8 bytes, big-endian) || tail)``: one chain link."""
    return _sha256(previous + position.to_bytes(8, "big") + tail).digest()


def next_hash(
    previous: bytes, position: int, version: int, timestamp: datetime, digest: bytes
) -> bytes:
    """Return the chain hash of an event given its body digest: :func:`link` of its tail, inline.

    What the memory backend computes under its write lock (one call per event).
    """
    return _sha256(
        previous
        + position.to_bytes(8, "big")
        + version.to_bytes(8, "big")
        + ((timestamp - _EPOCH) // _MICROSECOND).to_bytes(8, "big", signed=True)
        + digest
    ).digest()


def record_hash(previous: bytes, record: RecordedEvent) -> bytes:
    """Return the chain hash ``record`` has when it follows an event hashed ``previous``."""
    return link(
        previous,
        record.position,
        link_tail(record.version, record.timestamp, record_digest(record)),
    )


def chain(previous: bytes, records: Iterable[RecordedEvent]) -> Iterator[RecordedEvent]:
    """Yield ``records`` with their ``chain_hash`` computed, the first one following ``previous``.

    For records that come without hashes (a journal or export written before
    the chain existed, an import into another store).
    """
    for record in records:
        previous = record_hash(previous, record)
        yield dataclasses.replace(record, chain_hash=previous)


class ChainError(EventStoreError):
    """Verification found a problem: ``position`` is the first bad position, ``kind`` says what.

    Kinds: ``"gap"`` (position missing), ``"order"`` (position out of order),
    ``"hash"`` (the event does not match its stored hash), ``"head"`` (the last
    event's hash is not the store's chain head: events cut off the end, or the
    head changed), ``"index"`` (a backend's indexed copy disagrees with the
    event), ``"unreadable"`` (the stored event cannot be read, or its fields
    cannot be hashed: a malformed column), ``"signature"`` and ``"format"``
    (export files).
    """

    def __init__(self, position: int, kind: str, message: str) -> None:
        super().__init__(message)
        self.position = position
        self.kind = kind


@dataclasses.dataclass(frozen=True)
class Verified:
    """What a verification covered: ``events`` checked, ``first``..``last`` positions, ``head``.

    ``first`` and ``last`` are 0 when nothing was checked; ``head`` is the
    hash of the last checked event (the previous hash when none was).
    """

    events: int
    first: int
    last: int
    head: bytes

    def summary(self) -> str:
        """One line for people: ``Verified 1,234 events, positions 1-1234, head <64 hex>: …``.

        The head is printed whole (all 32 bytes, 64 hex digits): it is what an
        auditor anchors, so it is never shortened.
        """
        span = f"positions {self.first}-{self.last}" if self.events else "no events"
        return (
            f"Verified {self.events:,} events, {span}, head {self.head.hex()}: the chain is intact."
        )


def verify_records(
    records: Iterable[RecordedEvent],
    previous: bytes = ZERO_HASH,
    first_position: int = 1,
    *,
    on_event: Callable[[RecordedEvent], None] | None = None,
) -> Verified:
    """Check that ``records`` are positions ``first_position``, +1, ... each linked to the last.

    Args:
        records: in the order stored (an iterable: read once, in constant memory).
        previous: the hash trusted before ``first_position`` (``ZERO_HASH`` at 1).
        on_event: called with each record once checked (progress bars, extra checks).

    Each event is linked from its predecessor's *stored* hash, so an edit is
    reported at the edited event only.

    Raises:
        ChainError: the first problem: a missing position (``"gap"``), one out of
            order (``"order"``), an event whose stored hash is not the one
            computed (``"hash"``, with both), or one whose fields cannot be
            hashed (``"unreadable"``: a stored column of the wrong type).
    """
    expected = first_position
    count = 0
    for record in records:
        try:
            computed = record_hash(previous, record)
            misplaced = record.position != expected
            ahead = misplaced and record.position > expected
        except Exception as exc:  # a malformed stored field: any error its type gives
            raise ChainError(
                expected,
                "unreadable",
                f"Position {expected} cannot be checked: {type(exc).__name__}: {exc}",
            ) from exc
        if misplaced:
            if ahead:
                raise ChainError(
                    expected,
                    "gap",
                    f"Position {expected} is missing: the next stored event is at "
                    f"position {record.position}.",
                )
            raise ChainError(
                expected,
                "order",
                f"Position {record.position} is out of order: expected position {expected}.",
            )
        if computed != record.chain_hash:
            stored = record.chain_hash.hex() or "(none)"
            raise ChainError(
                expected,
                "hash",
                f"The event at position {expected} ({record.event_id}) does not match its "
                f"stored hash: stored {stored}, computed {computed.hex()}. Its content, "
                "version, timestamp or position was changed, or its predecessor's hash was.",
            )
        previous = record.chain_hash
        if on_event is not None:
            on_event(record)
        count += 1
        expected += 1
    return Verified(count, first_position if count else 0, expected - 1 if count else 0, previous)


def _read_page(store: BaseEventStore, position: int, limit: int) -> list[RecordedEvent]:
    """Return up to ``limit`` stored events after ``position``, read for verification.

    A page that cannot be read (a stored column the backend cannot decode) is
    read again event by event, so the error names the first event that cannot:
    the events before it come back as a shorter page, checked as usual, and
    the next call fails at once on that event.

    Raises:
        ChainError: kind ``"unreadable"`` at ``position + 1``, the first event
            after the ones already read that cannot be read.
    """
    try:
        return store.read_all(after_position=position, limit=limit)
    except Exception as page_error:
        page: list[RecordedEvent] = []
        for _ in range(limit):
            try:
                one = store.read_all(after_position=position, limit=1)
            except Exception as exc:
                if page:
                    return page  # checked first; the next call names the unreadable one
                raise ChainError(
                    position + 1,
                    "unreadable",
                    f"Position {position + 1} cannot be read: {type(exc).__name__}: {exc}",
                ) from exc
            if not one:
                break
            page.extend(one)
            position = one[0].position
        if page:
            return page
        raise ChainError(
            position + 1,
            "unreadable",
            f"Position {position + 1} cannot be read: {type(page_error).__name__}: {page_error}",
        ) from page_error


def verify_store(
    store: BaseEventStore,
    from_position: int = 1,
    *,
    on_page: Callable[[int], object] | None = None,
) -> Verified:
    """Verify the chain of ``store`` from ``from_position`` to its head, page by page.

    ``from_position`` > 1 trusts the stored hash of ``from_position - 1``.
    After each page the backend's own checks run (:meth:`BaseEventStore.check_stored_page`:
    the database backend compares its indexed columns with each event); at the
    end, the last event's hash must be the store's chain head
    (:meth:`BaseEventStore.chain_head`).

    Args:
        on_page: called with the number of events of each page checked.

    Raises:
        ChainError: the first problem found (see :func:`verify_records`), or
            ``"head"`` when the chain head does not follow the last event.
        InvalidQueryError: ``from_position`` is not an int ≥ 1.
    """
    if isinstance(from_position, bool) or not isinstance(from_position, int) or from_position < 1:
        from .exceptions import InvalidQueryError

        raise InvalidQueryError(f"from_position must be a whole number ≥ 1, got {from_position!r}.")
    previous = ZERO_HASH
    if from_position > 1:
        before = _read_page(store, from_position - 2, 1)
        if not before or before[0].position != from_position - 1:
            raise ChainError(
                from_position - 1,
                "gap",
                f"Position {from_position - 1} (the trusted start) is not stored.",
            )
        previous = before[0].chain_hash
    verified = Verified(0, 0, 0, previous)
    position = from_position - 1
    while page := _read_page(store, position, PAGE):
        # The chain and the backend's own checks both run on the page; the problem
        # at the lower position is the one reported (the first, in position order).
        chain_error: ChainError | None = None
        try:
            result = verify_records(page, verified.head, position + 1)
        except ChainError as exc:
            chain_error = exc
            checked = [
                record
                for record in page
                if isinstance(record.position, int) and record.position < exc.position
            ]
        else:
            checked = page
        try:
            if checked:
                store.check_stored_page(checked)
        except ChainError as exc:
            if chain_error is None or exc.position < chain_error.position:
                raise
        except Exception as exc:
            if chain_error is None:
                raise ChainError(
                    page[0].position,
                    "unreadable",
                    f"Positions {page[0].position}-{page[-1].position} cannot be checked: "
                    f"{type(exc).__name__}: {exc}",
                ) from exc
        if chain_error is not None:
            raise chain_error
        verified = Verified(
            verified.events + result.events,
            verified.first or result.first,
            result.last,
            result.head,
        )
        position = result.last
        if on_page is not None:
            on_page(result.events)
    head_position, head = store.chain_head()
    if head_position != position or head != verified.head:
        raise ChainError(
            position + 1,
            "head",
            f"Events after position {position} are missing or the head was changed: the "
            f"store's chain head is position {head_position}, hash {head.hex()}; the last "
            f"stored event gives position {position}, hash {verified.head.hex()}.",
        )
    return verified
