"""Event analytics: statistics and trends of one or more event types over a time range.

The source document's operations, "statistics by hour, day, organization and
user" and "trends by hour, day, week and month", computed with one paged store
query by event type and time range (never a scan of the whole store) and with
calendar rules that hold in every time zone:

- Buckets are local to an IANA time zone (:class:`zoneinfo.ZoneInfo`). A day,
  week or month starts at the first instant whose local date belongs to it
  (local midnight, or the end of a daylight-saving gap that swallowed
  midnight), so a day lasts 23, 24 or 25 hours.
- An hour bucket starts where the local clock shows a whole hour. Hour
  buckets are distinct instants: in a fall-back night the repeated hour gives
  two buckets, told apart by their UTC offset ("2024-10-27T02:00+02:00" then
  "2024-10-27T02:00+01:00"); a spring-forward night has one hour fewer. In
  zones with a half-hour offset (Asia/Kolkata, +05:30) local hours start at
  half past the UTC hour.
- Weeks follow ISO 8601: they start on Monday at 00:00 local time, and week 1
  of a year is the week holding its first Thursday, so the week starting
  Monday 2024-12-30 is "2025-W01".

Time ranges are inclusive at both ends and take timezone-aware datetimes only.
"""

from __future__ import annotations

import dataclasses
import math
from bisect import bisect_right
from collections.abc import Callable, Collection, Iterator, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any, Literal, TypedDict, get_args
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ..backends.base import BaseEventStore
from ..criteria import ensure_aware
from ..exceptions import InvalidQueryError
from ..records import RecordedEvent

__all__ = [
    "Interval",
    "MAX_BUCKETS",
    "PAGE_SIZE",
    "Statistics",
    "TooManyBuckets",
    "TrendBucket",
    "Trends",
    "UNKNOWN",
    "rfc3339",
    "statistics",
    "trends",
]

Interval = Literal["hour", "day", "week", "month"]
INTERVALS: tuple[str, ...] = get_args(Interval)

#: Most buckets one trend may have; a longer range raises :class:`InvalidQueryError`.
MAX_BUCKETS = 10_000
#: Events read per store query while paging through a range.
PAGE_SIZE = 10_000
#: The supported range (UTC): bucket starts and ends stay within years 1 to 9999.
EARLIEST = datetime(1, 1, 3, tzinfo=UTC)
LATEST = datetime(9999, 11, 29, tzinfo=UTC)
#: Key counting events whose metadata has no ``organization_id`` / ``user_id``.
UNKNOWN = "unknown"

_HOUR = timedelta(hours=1)
_TICK = timedelta(microseconds=1)


def rfc3339(moment: datetime) -> str:
    """Return aware ``moment`` in ISO 8601 as RFC 3339 allows: an offset of whole minutes.

    A zone's local mean time before it adopted a standard offset can be off UTC by
    seconds (Europe/London -00:01:15 until 1847); such an instant is given in UTC
    (``+00:00``), the same instant, since RFC 3339 offsets have no seconds.
    """
    offset = moment.utcoffset()
    if offset is not None and offset % timedelta(minutes=1):
        moment = moment.astimezone(UTC)
    return moment.isoformat()


class TrendBucket(TypedDict):
    """One bucket of a trend.

    Keys:
        bucket: the label: ``"2024-10-27T02:00+02:00"`` (hour, with its UTC
            offset), ``"2024-10-27"`` (day), ``"2025-W01"`` (ISO week),
            ``"2024-10"`` (month).
        start: the instant the bucket starts, aware, in the trend's time zone
            (``fold=1`` for the second of a repeated hour); the bucket ends
            where the next one starts. Python compares and subtracts two
            datetimes of one zone by wall clock, and never finds a repeated-hour
            datetime equal to one of another zone (PEP 495): convert with
            ``.astimezone(UTC)`` before comparing or subtracting.
        count: events of the range inside the bucket (0 for an empty bucket).
    """

    bucket: str
    start: datetime
    count: int


@dataclasses.dataclass(frozen=True)
class Statistics:
    """Counts of the events of ``event_types`` recorded from ``start`` to ``end`` inclusive.

    Attributes:
        event_types: the event types counted.
        time_zone: IANA name of the zone ``by_hour`` and ``by_day`` are computed in.
        start / end: the range, aware, in that zone; both ends inclusive.
        total: number of events in the range.
        by_hour: local hour label (``"2024-10-27T02:00+01:00"``) to count, only
            hours holding events, in chronological order.
        by_day: local date (``"2024-10-27"``) to count, only days holding
            events, in chronological order.
        by_organization / by_user: metadata ``organization_id`` / ``user_id``
            (as a string; :data:`UNKNOWN` when absent) to count, largest count
            first, ties by key.
    """

    event_types: tuple[str, ...]
    time_zone: str
    start: datetime
    end: datetime
    total: int
    by_hour: dict[str, int]
    by_day: dict[str, int]
    by_organization: dict[str, int]
    by_user: dict[str, int]

    def as_dict(self) -> dict[str, Any]:
        """Return the statistics as JSON-native values (times as ISO 8601 strings)."""
        return {
            "event_types": list(self.event_types),
            "time_zone": self.time_zone,
            "start": rfc3339(self.start),
            "end": rfc3339(self.end),
            "total": self.total,
            "by_hour": dict(self.by_hour),
            "by_day": dict(self.by_day),
            "by_organization": dict(self.by_organization),
            "by_user": dict(self.by_user),
        }


@dataclasses.dataclass(frozen=True)
class Trends:
    """Event counts per ``interval`` bucket, from the bucket of ``start`` to that of ``end``.

    Attributes:
        event_types: the event types counted.
        interval: ``"hour"``, ``"day"``, ``"week"`` or ``"month"``.
        time_zone: IANA name of the zone the buckets are local to.
        start / end: the range, aware, in that zone; both ends inclusive. The
            first and last buckets may reach outside it; only events inside it count.
        total: number of events in the range (the sum of the counts).
        buckets: every bucket in chronological order, empty ones included (count 0);
            at most :data:`MAX_BUCKETS`.
    """

    event_types: tuple[str, ...]
    interval: Interval
    time_zone: str
    start: datetime
    end: datetime
    total: int
    buckets: tuple[TrendBucket, ...]

    def as_dict(self) -> dict[str, Any]:
        """Return the trend as JSON-native values (times as ISO 8601 strings)."""
        return {
            "event_types": list(self.event_types),
            "interval": self.interval,
            "time_zone": self.time_zone,
            "start": rfc3339(self.start),
            "end": rfc3339(self.end),
            "total": self.total,
            "buckets": [
                {"bucket": b["bucket"], "start": rfc3339(b["start"]), "count": b["count"]}
                for b in self.buckets
            ],
        }


def statistics(
    store: BaseEventStore,
    event_type: str | Sequence[str],
    start: datetime,
    end: datetime,
    *,
    tz: ZoneInfo | str,
    organization_ids: Collection[str] | None = None,
) -> Statistics:
    """Count the events of ``event_type`` recorded from ``start`` to ``end``, both inclusive.

    Args:
        store: the event store to read.
        event_type: one registered event type name, or a list of them.
        start / end: timezone-aware bounds of the range, both inclusive.
        tz: the zone (or its IANA name) local hours and days are computed in.
        organization_ids: None counts every organization; otherwise only events
            whose metadata ``organization_id`` is one of these (an empty
            collection counts nothing).

    Returns:
        :class:`Statistics` (total, by hour, day, organization and user). An
        empty range gives a total of 0 and empty mappings.

    Raises:
        InvalidQueryError: for a naive ``start``/``end``, ``start`` after ``end``,
            an unknown time zone, an empty or non-string event type, or
            ``organization_ids`` given as a single string.
    """
    query = _Query.build(event_type, start, end, tz, organization_ids)
    zone = query.tz
    total = 0
    hours: dict[datetime, int] = {}
    days: dict[date, int] = {}
    organizations: dict[str, int] = {}
    users: dict[str, int] = {}
    # The hour bucket depends only on the local hour and offset an instant shows.
    floors: dict[tuple[datetime, timedelta | None], datetime] = {}
    for record in query.events(store):
        total += 1
        local = record.timestamp.astimezone(zone)
        shown = (local.replace(minute=0, second=0, microsecond=0, tzinfo=None), local.utcoffset())
        hour = floors.get(shown)
        if hour is None:
            hour = floors[shown] = _hour_floor(record.timestamp, zone)
        hours[hour] = hours.get(hour, 0) + 1
        days[local.date()] = days.get(local.date(), 0) + 1
        metadata = record.metadata  # decoded once: a fresh dict per access
        organization = _key(metadata.get("organization_id"))
        organizations[organization] = organizations.get(organization, 0) + 1
        user = _key(metadata.get("user_id"))
        users[user] = users.get(user, 0) + 1
    return Statistics(
        event_types=query.event_types,
        time_zone=query.time_zone,
        start=query.start.astimezone(zone),
        end=query.end.astimezone(zone),
        total=total,
        by_hour={_hour_label(hour, zone): hours[hour] for hour in sorted(hours)},
        by_day={day.isoformat(): days[day] for day in sorted(days)},
        by_organization=_by_count(organizations),
        by_user=_by_count(users),
    )


def trends(
    store: BaseEventStore,
    event_type: str | Sequence[str],
    start: datetime,
    end: datetime,
    *,
    interval: Interval,
    tz: ZoneInfo | str,
    organization_ids: Collection[str] | None = None,
) -> Trends:
    """Count the events of ``event_type`` per ``interval`` bucket from ``start`` to ``end``.

    Every bucket from the one holding ``start`` to the one holding ``end`` is
    returned, empty ones with a count of 0; only events recorded from ``start``
    to ``end`` (both inclusive) are counted. See the module docstring for the
    bucket rules (local time of ``tz``, daylight-saving changes, ISO 8601 weeks).

    Args:
        store: the event store to read.
        event_type: one registered event type name, or a list of them.
        start / end: timezone-aware bounds of the range, both inclusive.
        interval: ``"hour"``, ``"day"``, ``"week"`` (ISO 8601, from Monday) or ``"month"``.
        tz: the zone (or its IANA name) the buckets are local to.
        organization_ids: None counts every organization; otherwise only events
            whose metadata ``organization_id`` is one of these (an empty
            collection counts nothing, but the buckets are still returned).

    Returns:
        :class:`Trends`, whose ``buckets`` are ``{"bucket": label, "start":
        aware datetime in tz, "count": int}`` in chronological order.

    Raises:
        InvalidQueryError: for an unknown ``interval``, a range needing more than
            :data:`MAX_BUCKETS` buckets, and everything :func:`statistics` refuses.
    """
    if interval not in INTERVALS:
        raise InvalidQueryError(
            f"Unknown interval {interval!r}: use one of {', '.join(INTERVALS)}."
        )
    query = _Query.build(event_type, start, end, tz, organization_ids)
    starts, labels = _buckets(interval, query.start, query.end, query.tz)
    counts = [0] * len(starts)
    total = 0
    for record in query.events(store):
        # starts[0] <= start <= timestamp <= end < the start after the last bucket.
        counts[bisect_right(starts, record.timestamp) - 1] += 1
        total += 1
    return Trends(
        event_types=query.event_types,
        interval=interval,
        time_zone=query.time_zone,
        start=query.start.astimezone(query.tz),
        end=query.end.astimezone(query.tz),
        total=total,
        buckets=tuple(
            TrendBucket(bucket=label, start=instant.astimezone(query.tz), count=count)
            for instant, label, count in zip(starts, labels, counts, strict=True)
        ),
    )


# -- the query shared by both services -------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class _Query:
    """Validated arguments: event types, the range in UTC, the zone and the organizations."""

    event_types: tuple[str, ...]
    start: datetime
    end: datetime
    tz: ZoneInfo
    time_zone: str
    organization_ids: tuple[str, ...] | None

    @classmethod
    def build(
        cls,
        event_type: str | Sequence[str],
        start: datetime,
        end: datetime,
        tz: ZoneInfo | str,
        organization_ids: Collection[str] | None,
    ) -> _Query:
        start_utc = ensure_aware(start, "start")
        end_utc = ensure_aware(end, "end")
        if start_utc > end_utc:
            raise InvalidQueryError(
                f"start ({start.isoformat()}) must not be after end ({end.isoformat()})."
            )
        if start_utc < EARLIEST or end_utc > LATEST:
            # Buckets reach a day before and a month after the range, in any zone.
            raise InvalidQueryError(
                f"Analytics cover {EARLIEST:%Y-%m-%d} to {LATEST:%Y-%m-%d} (UTC); "
                "choose a range inside it."
            )
        zone = _zone(tz)
        return cls(
            event_types=_event_types(event_type),
            start=start_utc,
            end=end_utc,
            tz=zone,
            time_zone=zone.key or str(zone),
            organization_ids=_organization_ids(organization_ids),
        )

    def events(self, store: BaseEventStore) -> Iterator[RecordedEvent]:
        """Yield the matching events in position order, one page of :data:`PAGE_SIZE` at a time."""
        if self.organization_ids == ():
            return
        organizations = None if self.organization_ids is None else list(self.organization_ids)
        after = 0
        while True:
            page = store.search(
                event_type=list(self.event_types),
                timestamp__gte=self.start,
                timestamp__lte=self.end,
                organization_id=organizations,  # None: no criterion
                after_position=after,
                limit=PAGE_SIZE,
            )
            yield from page
            if len(page) < PAGE_SIZE:
                return
            after = page[-1].position


def _zone(tz: ZoneInfo | str) -> ZoneInfo:
    if isinstance(tz, ZoneInfo):
        return tz
    if isinstance(tz, str):
        try:
            return ZoneInfo(tz)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise InvalidQueryError(f"Unknown time zone {tz!r}.") from exc
    raise InvalidQueryError(f"tz must be a zoneinfo.ZoneInfo or an IANA name, got {tz!r}.")


def _event_types(event_type: str | Sequence[str]) -> tuple[str, ...]:
    names = [event_type] if isinstance(event_type, str) else list(event_type)
    if not names or not all(isinstance(name, str) and name for name in names):
        raise InvalidQueryError(
            f"event_type must be a non-empty string or list of them, got {event_type!r}."
        )
    return tuple(dict.fromkeys(names))


def _organization_ids(organization_ids: Collection[str] | None) -> tuple[str, ...] | None:
    if organization_ids is None:
        return None
    if isinstance(organization_ids, str):
        raise InvalidQueryError(
            "organization_ids must be a collection of ids, not one string: "
            f"write [{organization_ids!r}]."
        )
    return tuple(dict.fromkeys(organization_ids))


def _key(value: Any) -> str:
    return UNKNOWN if value is None else str(value)


def _by_count(counts: dict[str, int]) -> dict[str, int]:
    return dict(sorted(counts.items(), key=lambda item: (-item[1], item[0])))


# -- buckets ---------------------------------------------------------------------------------


def _hour_starts(wall: datetime, tz: ZoneInfo) -> set[datetime]:
    """Return the instants (UTC) at which the local hour ``wall`` (``HH:00`` in ``tz``) starts.

    Two for an hour the clock goes through twice (fall back), one otherwise; an
    hour skipped in part or in whole (spring forward) starts when the clock jumps.
    """
    return {_resolve(wall.replace(fold=0), tz), _resolve(wall.replace(fold=1), tz)}


def _resolve(wall: datetime, tz: ZoneInfo) -> datetime:
    """Return the instant (UTC) the clock of ``tz`` shows ``wall`` (a skipped time: the gap's end).

    ``wall.fold`` chooses the pass of a repeated time (0: the first).
    """
    instant = wall.astimezone(UTC)
    if instant.astimezone(tz).replace(tzinfo=None) == wall.replace(tzinfo=None):
        return instant
    return _first_instant_at(wall, tz)


def _hour_floor(instant: datetime, tz: ZoneInfo) -> datetime:
    """Return the start (UTC) of the local hour bucket holding ``instant``.

    The latest start of the local hour ``instant`` shows that is not after it
    (in a repeated hour, the start of the pass ``instant`` belongs to), or the
    clock change that put the clock into this hour, when it came from another
    hour (Newfoundland set 00:01 back to 23:01 until 2011).
    """
    wall = _wall_hour(instant, tz)
    begun = [start for start in _hour_starts(wall, tz) if start <= instant]
    if not begun:  # no such zone is known; fall back on the clock's minutes
        return instant - (instant.astimezone(tz).replace(tzinfo=None) - wall.replace(tzinfo=None))
    start = max(begun)
    if _offset(start, tz) != _offset(instant, tz):
        change = _offset_change(start, instant, tz)
        if _wall_hour(change - _TICK, tz) != wall:
            return change
    return start


def _wall_hour(instant: datetime, tz: ZoneInfo) -> datetime:
    """Return the local hour ``instant`` shows in ``tz``, as ``HH:00`` with ``tzinfo=tz``."""
    return instant.astimezone(tz).replace(minute=0, second=0, microsecond=0, fold=0)


def _offset(instant: datetime, tz: ZoneInfo) -> timedelta | None:
    return instant.astimezone(tz).utcoffset()


def _offset_change(before: datetime, after: datetime, tz: ZoneInfo) -> datetime:
    """Return the instant (UTC) the offset of ``tz`` changed between ``before`` and ``after``.

    Bisection over whole seconds (tz database changes happen on whole seconds);
    assumes one change in between.
    """
    target = _offset(after, tz)
    low, high = math.floor(before.timestamp()), math.ceil(after.timestamp())
    while high - low > 1:
        middle = (low + high) // 2
        if _offset(datetime.fromtimestamp(middle, UTC), tz) == target:
            high = middle
        else:
            low = middle
    return datetime.fromtimestamp(high, UTC)


def _hour_label(instant: datetime, tz: ZoneInfo) -> str:
    return instant.astimezone(tz).isoformat(timespec="minutes")


def _first_instant_at(wall: datetime, tz: ZoneInfo) -> datetime:
    """Return the first instant (UTC) at which the local clock of ``tz`` reaches ``wall``.

    ``wall`` carries ``tzinfo=tz``. A repeated wall time (fall back) gives its
    first occurrence; a skipped one (spring forward) gives the end of the gap,
    found by bisection over whole seconds (offsets are whole seconds).
    """
    first = wall.replace(fold=0).astimezone(UTC)
    second = wall.replace(fold=1).astimezone(UTC)
    if first <= second:
        return first
    # In a gap, fold=1 reads the wall time with the later offset: an instant
    # before the change, whose clock shows less than ``wall``; fold=0 an instant
    # after it, whose clock shows more.
    target = wall.replace(tzinfo=None)
    low, high = int(second.timestamp()), int(first.timestamp())
    while high - low > 1:
        middle = (low + high) // 2
        if datetime.fromtimestamp(middle, tz).replace(tzinfo=None) >= target:
            high = middle
        else:
            low = middle
    return datetime.fromtimestamp(high, UTC)


def _buckets(
    interval: Interval, start: datetime, end: datetime, tz: ZoneInfo
) -> tuple[list[datetime], list[str]]:
    """Return the bucket starts (UTC, increasing) and labels covering ``start``..``end``.

    Raises:
        TooManyBuckets: (an InvalidQueryError) if more than :data:`MAX_BUCKETS` buckets
            would be needed.
    """
    if interval == "hour":
        # The starts of every local hour whose wall clock lies within 3 hours of
        # the range's (clocks move by at most 2 hours at once), in both passes of
        # a repeated hour, from the bucket holding ``start`` to ``end``; then,
        # where the offset changes between two of them, the bucket there.
        first = _hour_floor(start, tz)
        wall = _wall_hour(first, tz) - 3 * _HOUR  # wall-clock arithmetic: the zone is kept
        last_wall = end.astimezone(tz).replace(tzinfo=None) + 3 * _HOUR
        found = {first}
        while wall.replace(tzinfo=None) <= last_wall:
            found.update(instant for instant in _hour_starts(wall, tz) if first < instant <= end)
            if len(found) > MAX_BUCKETS:
                raise _too_many(interval)
            wall += _HOUR
        probes = sorted(found)
        for here, following in zip(probes, [*probes[1:], end + _TICK], strict=True):
            last = following - _TICK
            if _offset(here, tz) != _offset(last, tz):
                found.add(_hour_floor(last, tz))
        if len(found) > MAX_BUCKETS:
            raise _too_many(interval)
        hours = sorted(found)
        return hours, [_hour_label(instant, tz) for instant in hours]

    starts: list[datetime] = []
    labels: list[str] = []
    unit_of, step, label_of = _CALENDAR_UNITS[interval]
    wall = unit_of(start.astimezone(tz).date(), tz)
    instant = _first_instant_at(wall, tz)
    while instant > start:  # defensive: a clock set back across a unit boundary
        wall = step(wall, -1)
        instant = _first_instant_at(wall, tz)
    while instant <= end:
        if starts and instant == starts[-1]:
            # A calendar unit with no instant (a day skipped by a date-line
            # change): the next unit starts at the same instant and replaces it.
            labels[-1] = label_of(wall)
        elif len(starts) == MAX_BUCKETS:
            raise _too_many(interval)
        else:
            starts.append(instant)
            labels.append(label_of(wall))
        wall = step(wall, 1)
        instant = _first_instant_at(wall, tz)
    return starts, labels


class TooManyBuckets(InvalidQueryError):
    """A trend's range and interval need more than :data:`MAX_BUCKETS` buckets."""


def _too_many(interval: str) -> TooManyBuckets:
    return TooManyBuckets(
        f"This range needs more than {MAX_BUCKETS} {interval} buckets (the limit, "
        f"MAX_BUCKETS = {MAX_BUCKETS}): use a shorter range or a longer interval."
    )


def _day_of(day: date, tz: ZoneInfo) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=tz)


def _week_of(day: date, tz: ZoneInfo) -> datetime:
    return _day_of(day - timedelta(days=day.weekday()), tz)  # ISO 8601: Monday first


def _month_of(day: date, tz: ZoneInfo) -> datetime:
    return datetime(day.year, day.month, 1, tzinfo=tz)


def _add_days(days: int) -> Callable[[datetime, int], datetime]:
    def step(wall: datetime, sign: int) -> datetime:
        day = wall.date() + timedelta(days=sign * days)
        return datetime(day.year, day.month, day.day, tzinfo=wall.tzinfo)

    return step


def _add_month(wall: datetime, sign: int) -> datetime:
    index = wall.year * 12 + wall.month - 1 + sign
    return datetime(index // 12, index % 12 + 1, 1, tzinfo=wall.tzinfo)


def _week_label(wall: datetime) -> str:
    iso = wall.date().isocalendar()
    return f"{iso.year:04d}-W{iso.week:02d}"


_CALENDAR_UNITS: dict[
    str,
    tuple[
        Callable[[date, ZoneInfo], datetime],
        Callable[[datetime, int], datetime],
        Callable[[datetime], str],
    ],
] = {
    "day": (_day_of, _add_days(1), lambda wall: wall.date().isoformat()),
    "week": (_week_of, _add_days(7), _week_label),
    "month": (_month_of, _add_month, lambda wall: f"{wall.year:04d}-{wall.month:02d}"),
}
