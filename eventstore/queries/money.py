"""Money analytics: processed, refunded and net volume, refund and failure rates, per currency.

What a payments auditor asks, answered from the events whose classes declare
a money role (:class:`eventstore.money.MoneyRole`, the ``money`` class
keyword): the store knows no domain, the domain says which events take money
in (``processed``), give it back (``refunded``) or failed to take it
(``failed``), and which data fields hold amount, currency and reason.

Rules:

- Every figure is per currency; amounts of two currencies are never added.
  Amounts are ``Decimal`` throughout, read from the events' decimal strings.
- Volume is counted when its event was recorded: a refund counts in the
  bucket of the refund, not of the payment it refunds. Net = processed -
  refunded, so a bucket's net may be negative.
- Refund rate = refunded amount / processed amount (None when nothing was
  processed); failure rate = failed attempts / (failed attempts + processed
  payments) (None without attempts). Both are ratios (0.25 is 25 %), rounded
  half up to :data:`RATE_PLACES` decimal places.
- Buckets, time zone, daylight-saving and ISO 8601 week rules are those of
  :mod:`eventstore.queries.analytics` (the same :func:`~eventstore.queries.analytics.spans`),
  partial buckets marked; organizations come from the metadata's
  ``organization_id``, as for the other analytics and the API's scoping.
- One paged store search by the money event types and the time range; never a
  scan of the whole store. An event whose amount or currency cannot be read
  (not a decimal string, a float, a missing field) is left out and counted in
  ``skipped``, so a bad row never hides the rest.
"""

from __future__ import annotations

import dataclasses
import heapq
from bisect import bisect_right
from collections.abc import Collection, Iterator, Sequence
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo

from ..backends.base import BaseEventStore
from ..events import EventRegistry, registry
from ..exceptions import EventStoreError, InvalidQueryError
from ..money import MoneyRole, format_money, minor_units
from ..records import RecordedEvent
from .analytics import INTERVALS, UNKNOWN, Interval, RangeQuery, rfc3339, spans

__all__ = [
    "DEFAULT_TOP",
    "MAX_TOP",
    "RATE_PLACES",
    "TABLES",
    "CurrencyVolume",
    "FailureReason",
    "MoneyAnalytics",
    "MoneyBucket",
    "OrganizationVolume",
    "TopPayment",
    "money_analytics",
]

#: Largest payments listed per currency by default, and at most.
DEFAULT_TOP = 10
MAX_TOP = 100
#: Decimal places of the refund and failure rates (ratios: 4 places is 0.01 %).
RATE_PLACES = 4
_RATE = Decimal(1).scaleb(-RATE_PLACES)


@dataclasses.dataclass(frozen=True)
class MoneyBucket:
    """One interval of one currency: ``bucket`` label, its ``start`` (aware, in the zone).

    ``processed`` / ``refunded`` / ``net`` are Decimal amounts; ``payments``,
    ``refunds`` and ``failures`` count the events; ``partial`` as in
    :class:`~eventstore.queries.analytics.TrendBucket`.
    """

    bucket: str
    start: datetime
    partial: bool
    processed: Decimal
    refunded: Decimal
    net: Decimal
    payments: int
    refunds: int
    failures: int


@dataclasses.dataclass(frozen=True)
class FailureReason:
    """A failure reason (:data:`~eventstore.queries.analytics.UNKNOWN` when the event has
    none), how many failed attempts gave it, and their amount."""

    reason: str
    failures: int
    amount: Decimal


@dataclasses.dataclass(frozen=True)
class TopPayment:
    """A processed payment: its aggregate, event, time (aware, in the zone), organization,
    ``amount``, and ``refunded``: what refunds of that aggregate in the range gave back."""

    aggregate_id: str
    event_id: str
    timestamp: datetime
    organization_id: str
    amount: Decimal
    refunded: Decimal


@dataclasses.dataclass(frozen=True)
class OrganizationVolume:
    """One organization's figures in one currency (fields as in :class:`MoneyBucket`)."""

    organization_id: str
    processed: Decimal
    refunded: Decimal
    net: Decimal
    payments: int
    refunds: int
    failures: int


@dataclasses.dataclass(frozen=True)
class CurrencyVolume:
    """Everything about one currency over the range.

    Attributes:
        currency / minor_units: the ISO 4217 code and its decimal places (CLDR).
        processed / refunded / net / failed_amount: Decimal totals.
        payments / refunds / failures: event counts.
        refund_rate / failure_rate: Decimal ratios (module docstring), or None.
        buckets: every interval of the range, empty ones with zeros.
        failure_reasons: most failures first, ties by reason.
        top_payments: the largest processed payments, largest first, ties by
            time; at most the ``top`` asked for.
        by_organization: most processed first, ties by organization id.
    """

    currency: str
    minor_units: int
    processed: Decimal
    refunded: Decimal
    net: Decimal
    failed_amount: Decimal
    payments: int
    refunds: int
    failures: int
    refund_rate: Decimal | None
    failure_rate: Decimal | None
    buckets: tuple[MoneyBucket, ...]
    failure_reasons: tuple[FailureReason, ...]
    top_payments: tuple[TopPayment, ...]
    by_organization: tuple[OrganizationVolume, ...]

    def amount(self, value: Decimal) -> str:
        """Return ``value`` as an exact string in this currency's minor units."""
        return format_money(value, self.currency)


@dataclasses.dataclass(frozen=True)
class MoneyAnalytics:
    """The money figures of a range, one :class:`CurrencyVolume` per currency (sorted by code).

    Attributes:
        event_types: the event types read (those declaring a money role).
        interval / time_zone / start / end: as in :class:`~eventstore.queries.analytics.Trends`.
        skipped: events left out because their amount or currency was unreadable.
    """

    event_types: tuple[str, ...]
    interval: Interval
    time_zone: str
    start: datetime
    end: datetime
    currencies: tuple[CurrencyVolume, ...]
    skipped: int

    def as_dict(self) -> dict[str, Any]:
        """Return JSON-native values: amounts and rates as exact decimal strings, times ISO 8601."""
        return {
            "event_types": list(self.event_types),
            "interval": self.interval,
            "time_zone": self.time_zone,
            "start": rfc3339(self.start),
            "end": rfc3339(self.end),
            "skipped": self.skipped,
            "currencies": [_currency_dict(volume) for volume in self.currencies],
        }

    def table(self, name: str) -> tuple[tuple[str, ...], Iterator[tuple[Any, ...]]]:
        """Return the header and rows of the table ``name`` (one of :data:`TABLES`), every
        currency in one table with a ``currency`` column; amounts are exact strings.

        Raises:
            InvalidQueryError: for an unknown table name.
        """
        if name not in TABLES:
            raise InvalidQueryError(f"Unknown table {name!r}: use one of {', '.join(TABLES)}.")
        header, rows = _TABLES[name]
        return header, (row for volume in self.currencies for row in rows(volume))


def money_analytics(
    store: BaseEventStore,
    start: datetime,
    end: datetime,
    *,
    interval: Interval,
    tz: ZoneInfo | str,
    organization_ids: Collection[str] | None = None,
    top: int = DEFAULT_TOP,
    event_registry: EventRegistry = registry,
) -> MoneyAnalytics:
    """Compute the money figures of the events recorded from ``start`` to ``end`` inclusive.

    Args:
        store: the event store to read.
        start / end: timezone-aware bounds, both inclusive.
        interval: ``"hour"``, ``"day"``, ``"week"`` (ISO 8601) or ``"month"``.
        tz: the zone (or its IANA name) the buckets are local to.
        organization_ids: None for every organization; otherwise only events
            whose metadata ``organization_id`` is one of these (the API's
            scoping; an empty collection gives no currency at all).
        top: how many of the largest payments to list per currency, 1 to :data:`MAX_TOP`.
        event_registry: where the money roles are declared.

    Returns:
        :class:`MoneyAnalytics`; no currencies when the range has no money
        events, or when no registered event type declares a money role.

    Raises:
        InvalidQueryError: for naive bounds, ``start`` after ``end``, an unknown
            time zone or interval, a range needing more than
            :data:`~eventstore.queries.analytics.MAX_BUCKETS` buckets, or ``top``
            out of bounds.
    """
    if isinstance(top, bool) or not isinstance(top, int) or not 1 <= top <= MAX_TOP:
        raise InvalidQueryError(f"top must be an integer from 1 to {MAX_TOP}, got {top!r}.")
    if interval not in INTERVALS:
        raise InvalidQueryError(
            f"Unknown interval {interval!r}: use one of {', '.join(INTERVALS)}."
        )
    roles = event_registry.money_roles()
    # With no money type the range is still checked (a placeholder type is never read).
    query = RangeQuery.build(list(roles) or ["-"], start, end, tz, organization_ids)
    buckets = spans(interval, query.start, query.end, query.tz, now=store.now())
    tally = _Tally(buckets)
    skipped = 0
    if roles:
        for record in query.events(store):
            role = roles[record.event_type]
            money = _read(record, role, event_registry)
            if money is None:
                skipped += 1
            else:
                tally.add(record, role, *money)
    return MoneyAnalytics(
        event_types=query.event_types if roles else (),
        interval=interval,
        time_zone=query.time_zone,
        start=query.start.astimezone(query.tz),
        end=query.end.astimezone(query.tz),
        currencies=tuple(tally.currency(code, query.tz, top) for code in sorted(tally.by_currency)),
        skipped=skipped,
    )


# -- reading and adding up -------------------------------------------------------------------


def _read(
    record: RecordedEvent, role: MoneyRole, event_registry: EventRegistry
) -> tuple[Decimal, str, str | None] | None:
    """Return ``(amount, currency, reason)`` of ``record`` (upcast first), or None if unreadable."""
    try:
        data = event_registry.upcast(record.event_type, record.schema_version, record.data)
    except EventStoreError:
        return None
    raw, currency = data.get(role.amount), data.get(role.currency)
    if not isinstance(raw, str | int) or isinstance(raw, bool):
        return None  # floats included: a binary float cannot be an exact amount
    try:
        amount = Decimal(raw)
    except InvalidOperation:
        return None
    if not amount.is_finite() or not isinstance(currency, str) or not currency:
        return None
    reason = data.get(role.reason) if role.reason else None
    return amount, currency, None if reason is None else str(reason)


@dataclasses.dataclass
class _Figures:
    processed: Decimal = Decimal(0)
    refunded: Decimal = Decimal(0)
    payments: int = 0
    refunds: int = 0
    failures: int = 0

    def add(self, kind: str, amount: Decimal) -> None:
        if kind == "processed":
            self.processed += amount
            self.payments += 1
        elif kind == "refunded":
            self.refunded += amount
            self.refunds += 1
        else:
            self.failures += 1


@dataclasses.dataclass
class _Currency:
    buckets: list[_Figures]
    total: _Figures = dataclasses.field(default_factory=_Figures)
    failed_amount: Decimal = Decimal(0)
    reasons: dict[str, tuple[int, Decimal]] = dataclasses.field(default_factory=dict)
    organizations: dict[str, _Figures] = dataclasses.field(default_factory=dict)
    payments: list[tuple[Decimal, int, RecordedEvent, str]] = dataclasses.field(
        default_factory=list
    )
    refunded_by_aggregate: dict[str, Decimal] = dataclasses.field(default_factory=dict)


class _Tally:
    """The running sums of one query, per currency."""

    def __init__(self, buckets: Sequence[Any]) -> None:
        self.spans = tuple(buckets)
        self.starts = [span.start for span in buckets]
        self.by_currency: dict[str, _Currency] = {}

    def add(
        self, record: RecordedEvent, role: MoneyRole, amount: Decimal, code: str, reason: str | None
    ) -> None:
        entry = self.by_currency.get(code)
        if entry is None:
            entry = self.by_currency[code] = _Currency([_Figures() for _ in self.starts])
        # starts[0] <= start <= timestamp <= end < the start after the last bucket.
        entry.buckets[bisect_right(self.starts, record.timestamp) - 1].add(role.kind, amount)
        entry.total.add(role.kind, amount)
        organization = record.metadata.get("organization_id")
        organization = UNKNOWN if organization is None else str(organization)
        entry.organizations.setdefault(organization, _Figures()).add(role.kind, amount)
        if role.kind == "failed":
            entry.failed_amount += amount
            key = UNKNOWN if reason is None else reason
            count, total = entry.reasons.get(key, (0, Decimal(0)))
            entry.reasons[key] = (count + 1, total + amount)
        elif role.kind == "processed":
            entry.payments.append((amount, record.position, record, organization))
        else:
            refunded = entry.refunded_by_aggregate.get(record.aggregate_id, Decimal(0))
            entry.refunded_by_aggregate[record.aggregate_id] = refunded + amount

    def currency(self, code: str, tz: ZoneInfo, top: int) -> CurrencyVolume:
        entry = self.by_currency[code]
        total = entry.total
        attempts = total.payments + total.failures
        largest = heapq.nsmallest(top, entry.payments, key=lambda item: (-item[0], item[1]))
        return CurrencyVolume(
            currency=code,
            minor_units=minor_units(code),
            processed=total.processed,
            refunded=total.refunded,
            net=total.processed - total.refunded,
            failed_amount=entry.failed_amount,
            payments=total.payments,
            refunds=total.refunds,
            failures=total.failures,
            refund_rate=_ratio(total.refunded, total.processed),
            failure_rate=_ratio(Decimal(total.failures), Decimal(attempts)),
            buckets=tuple(
                MoneyBucket(
                    bucket=span.label,
                    start=span.start.astimezone(tz),
                    partial=span.partial,
                    processed=figures.processed,
                    refunded=figures.refunded,
                    net=figures.processed - figures.refunded,
                    payments=figures.payments,
                    refunds=figures.refunds,
                    failures=figures.failures,
                )
                for span, figures in zip(self.spans, entry.buckets, strict=True)
            ),
            failure_reasons=tuple(
                FailureReason(reason=reason, failures=count, amount=amount)
                for reason, (count, amount) in sorted(
                    entry.reasons.items(), key=lambda item: (-item[1][0], item[0])
                )
            ),
            top_payments=tuple(
                TopPayment(
                    aggregate_id=record.aggregate_id,
                    event_id=str(record.event_id),
                    timestamp=record.timestamp.astimezone(tz),
                    organization_id=organization,
                    amount=amount,
                    refunded=entry.refunded_by_aggregate.get(record.aggregate_id, Decimal(0)),
                )
                for amount, _position, record, organization in largest
            ),
            by_organization=tuple(
                OrganizationVolume(
                    organization_id=organization,
                    processed=figures.processed,
                    refunded=figures.refunded,
                    net=figures.processed - figures.refunded,
                    payments=figures.payments,
                    refunds=figures.refunds,
                    failures=figures.failures,
                )
                for organization, figures in sorted(
                    entry.organizations.items(), key=lambda item: (-item[1].processed, item[0])
                )
            ),
        )


def _ratio(part: Decimal, whole: Decimal) -> Decimal | None:
    if whole == 0:
        return None
    return (part / whole).quantize(_RATE, rounding=ROUND_HALF_UP)


# -- JSON and tables -------------------------------------------------------------------------


def _rate(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def _currency_dict(volume: CurrencyVolume) -> dict[str, Any]:
    amount = volume.amount
    return {
        "currency": volume.currency,
        "minor_units": volume.minor_units,
        "processed": amount(volume.processed),
        "refunded": amount(volume.refunded),
        "net": amount(volume.net),
        "failed_amount": amount(volume.failed_amount),
        "payments": volume.payments,
        "refunds": volume.refunds,
        "failures": volume.failures,
        "refund_rate": _rate(volume.refund_rate),
        "failure_rate": _rate(volume.failure_rate),
        "buckets": [
            {
                "bucket": b.bucket,
                "start": rfc3339(b.start),
                "partial": b.partial,
                "processed": amount(b.processed),
                "refunded": amount(b.refunded),
                "net": amount(b.net),
                "payments": b.payments,
                "refunds": b.refunds,
                "failures": b.failures,
            }
            for b in volume.buckets
        ],
        "failure_reasons": [
            {"reason": r.reason, "failures": r.failures, "amount": amount(r.amount)}
            for r in volume.failure_reasons
        ],
        "top_payments": [
            {
                "aggregate_id": p.aggregate_id,
                "event_id": p.event_id,
                "timestamp": rfc3339(p.timestamp),
                "organization_id": p.organization_id,
                "amount": amount(p.amount),
                "refunded": amount(p.refunded),
            }
            for p in volume.top_payments
        ],
        "by_organization": [
            {
                "organization_id": o.organization_id,
                "processed": amount(o.processed),
                "refunded": amount(o.refunded),
                "net": amount(o.net),
                "payments": o.payments,
                "refunds": o.refunds,
                "failures": o.failures,
            }
            for o in volume.by_organization
        ],
    }


def _summary_rows(v: CurrencyVolume) -> Iterator[tuple[Any, ...]]:
    yield (
        v.currency,
        Decimal(v.amount(v.processed)),
        Decimal(v.amount(v.refunded)),
        Decimal(v.amount(v.net)),
        Decimal(v.amount(v.failed_amount)),
        v.payments,
        v.refunds,
        v.failures,
        v.refund_rate,
        v.failure_rate,
    )


def _volume_rows(v: CurrencyVolume) -> Iterator[tuple[Any, ...]]:
    for b in v.buckets:
        yield (
            v.currency,
            b.bucket,
            b.start,
            b.partial,
            Decimal(v.amount(b.processed)),
            Decimal(v.amount(b.refunded)),
            Decimal(v.amount(b.net)),
            b.payments,
            b.refunds,
            b.failures,
        )


def _reason_rows(v: CurrencyVolume) -> Iterator[tuple[Any, ...]]:
    for r in v.failure_reasons:
        yield (v.currency, r.reason, r.failures, Decimal(v.amount(r.amount)))


def _top_rows(v: CurrencyVolume) -> Iterator[tuple[Any, ...]]:
    for p in v.top_payments:
        yield (
            v.currency,
            p.aggregate_id,
            p.event_id,
            p.timestamp,
            p.organization_id,
            Decimal(v.amount(p.amount)),
            Decimal(v.amount(p.refunded)),
        )


def _organization_rows(v: CurrencyVolume) -> Iterator[tuple[Any, ...]]:
    for o in v.by_organization:
        yield (
            v.currency,
            o.organization_id,
            Decimal(v.amount(o.processed)),
            Decimal(v.amount(o.refunded)),
            Decimal(v.amount(o.net)),
            o.payments,
            o.refunds,
            o.failures,
        )


_COUNTS = ("payments", "refunds", "failures")
_TABLES: dict[str, tuple[tuple[str, ...], Any]] = {
    "summary": (
        (
            "currency",
            "processed",
            "refunded",
            "net",
            "failed_amount",
            *_COUNTS,
            "refund_rate",
            "failure_rate",
        ),
        _summary_rows,
    ),
    "volume": (
        ("currency", "bucket", "start", "partial", "processed", "refunded", "net", *_COUNTS),
        _volume_rows,
    ),
    "failure-reasons": (("currency", "reason", "failures", "amount"), _reason_rows),
    "top-payments": (
        ("currency", "aggregate_id", "event_id", "timestamp", "organization_id", "amount")
        + ("refunded",),
        _top_rows,
    ),
    "organizations": (
        ("currency", "organization_id", "processed", "refunded", "net", *_COUNTS),
        _organization_rows,
    ),
}
#: The tables :meth:`MoneyAnalytics.table` gives (and the CSV downloads offer).
TABLES: tuple[str, ...] = tuple(_TABLES)
