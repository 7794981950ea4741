"""Statistics and trends (eventstore.queries.analytics).

Expected values are worked out by hand in the comments, from the calendar and
the time-zone rules, never copied from the code's output.

Europe/Paris in 2024: CET (+01:00) until 2024-03-31T01:00Z, when the clock
jumps from 02:00 to 03:00 CEST (+02:00); CEST until 2024-10-27T01:00Z, when the
clock goes back from 03:00 to 02:00 CET, so 02:00-03:00 happens twice.
"""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from eventstore.exceptions import InvalidQueryError
from eventstore.queries import analytics
from eventstore.queries.analytics import MAX_BUCKETS, statistics, trends
from eventstore.records import NewEvent
from eventstore.testing.contract import ContractCounted, ContractHappened

PARIS = ZoneInfo("Europe/Paris")
KOLKATA = ZoneInfo("Asia/Kolkata")
UTC_ZONE = ZoneInfo("UTC")
# Importing the contract registers its test event types.
HAPPENED = ContractHappened.event_type  # "contract.Happened"
COUNTED = ContractCounted.event_type  # "contract.Counted"

_ids = itertools.count(1)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def add(store: Any, when: datetime, event_type: str = HAPPENED, **metadata: Any) -> None:
    data = {"note": "x"} if event_type == HAPPENED else {"count": 1}
    event = NewEvent(event_type, data, timestamp=when, metadata=metadata)
    store.append(f"thing-{next(_ids)}", "Thing", [event], 0)


def labels(result: analytics.Trends) -> list[str]:
    return [bucket["bucket"] for bucket in result.buckets]


def counts(result: analytics.Trends) -> list[int]:
    return [bucket["count"] for bucket in result.buckets]


def instants(result: analytics.Trends) -> list[datetime]:
    # Bucket starts are in the trend's zone; Python compares and subtracts two
    # datetimes of one zone by wall clock, and a repeated-hour datetime never
    # equals one of another zone (PEP 495), so compare instants in UTC.
    return [bucket["start"].astimezone(UTC) for bucket in result.buckets]


# Local day 2024-10-27 in Paris: 00:00+02:00 = 2024-10-26T22:00Z up to
# 00:00+01:00 on the 28th = 2024-10-27T23:00Z, 25 hours.
FALL_DAY_START = utc(2024, 10, 26, 22)
FALL_DAY_END = utc(2024, 10, 27, 23) - timedelta(microseconds=1)


# -- hour trends -----------------------------------------------------------------------------


def test_fall_back_day_has_25_hour_buckets_and_two_distinct_2_oclock_hours(event_store):
    add(event_store, utc(2024, 10, 27, 0, 30))  # 02:30+02:00 (CEST, first pass)
    add(event_store, utc(2024, 10, 27, 1, 30))  # 02:30+01:00 (CET, second pass)
    add(event_store, utc(2024, 10, 27, 1, 45))  # 02:45+01:00
    result = trends(event_store, HAPPENED, FALL_DAY_START, FALL_DAY_END, interval="hour", tz=PARIS)
    assert len(result.buckets) == 25
    # 00:00, 01:00, 02:00 at +02:00, then 02:00 to 23:00 at +01:00 (22 hours).
    expected = ["2024-10-27T00:00+02:00", "2024-10-27T01:00+02:00", "2024-10-27T02:00+02:00"]
    expected += [f"2024-10-27T{hour:02d}:00+01:00" for hour in range(2, 24)]
    assert labels(result) == expected
    assert counts(result)[2:4] == [1, 2]
    assert result.total == 3
    # The two 02:00 buckets are one hour apart: 00:00Z and 01:00Z.
    assert instants(result)[2:4] == [utc(2024, 10, 27, 0), utc(2024, 10, 27, 1)]
    assert result.buckets[3]["start"].fold == 1  # the second 02:00
    assert result.buckets[3]["start"].tzinfo is PARIS
    assert result.as_dict()["buckets"][3] == {
        "bucket": "2024-10-27T02:00+01:00",
        "start": "2024-10-27T02:00:00+01:00",
        "count": 2,
        "partial": False,
    }


def test_an_hour_entered_by_a_clock_change_starts_at_the_change(event_store):
    # America/St_Johns until 2011 set clocks back at 00:01: on 2010-11-07 at
    # 00:01-02:30 (02:31Z) the clock went back to 23:01-03:30 on the 6th. So
    # 02:30Z-02:31Z is the hour 00:00 of the 7th (one minute), then a second
    # 23:00 hour starts at 02:31Z, shown 23:01; 00:00-03:30 is 03:30Z.
    add(event_store, utc(2010, 11, 7, 2, 30, 30))  # 00:00:30-02:30
    add(event_store, utc(2010, 11, 7, 2, 45))  # 23:15-03:30 on the 6th
    result = trends(
        event_store,
        HAPPENED,
        utc(2010, 11, 7, 1),  # 22:30-02:30: in the hour 22:00 that began at 00:30Z
        utc(2010, 11, 7, 3, 59),
        interval="hour",
        tz=ZoneInfo("America/St_Johns"),
    )
    assert labels(result) == [
        "2010-11-06T22:00-02:30",
        "2010-11-06T23:00-02:30",
        "2010-11-07T00:00-02:30",
        "2010-11-06T23:01-03:30",
        "2010-11-07T00:00-03:30",
    ]
    assert instants(result)[2:4] == [utc(2010, 11, 7, 2, 30), utc(2010, 11, 7, 2, 31)]
    assert counts(result) == [0, 0, 1, 1, 0]


def test_spring_forward_day_has_23_hour_buckets(event_store):
    # Local day 2024-03-31: 00:00+01:00 = 2024-03-30T23:00Z to 00:00+02:00 on
    # April 1st = 2024-03-31T22:00Z, 23 hours; 02:00-03:00 never happens.
    add(event_store, utc(2024, 3, 31, 0, 59))  # 01:59+01:00
    add(event_store, utc(2024, 3, 31, 1, 0))  # 03:00+02:00
    result = trends(
        event_store,
        HAPPENED,
        utc(2024, 3, 30, 23),
        utc(2024, 3, 31, 22) - timedelta(microseconds=1),
        interval="hour",
        tz=PARIS,
    )
    assert len(result.buckets) == 23
    assert labels(result)[:3] == [
        "2024-03-31T00:00+01:00",
        "2024-03-31T01:00+01:00",
        "2024-03-31T03:00+02:00",
    ]
    assert labels(result)[-1] == "2024-03-31T23:00+02:00"
    assert counts(result)[:3] == [0, 1, 1]


def test_kolkata_hours_start_at_half_past_the_utc_hour(event_store):
    # Asia/Kolkata is +05:30. 00:00Z is 05:30 local, in the local hour
    # 05:00-06:00 that starts at 2023-12-31T23:30Z; 02:00Z (the end) is 07:30
    # local, in the hour starting 01:30Z. So three buckets, at 23:30Z, 00:30Z, 01:30Z.
    add(event_store, utc(2024, 1, 1, 0, 29))  # 05:59 local
    add(event_store, utc(2024, 1, 1, 0, 30))  # 06:00 local
    result = trends(
        event_store, HAPPENED, utc(2024, 1, 1), utc(2024, 1, 1, 2), interval="hour", tz=KOLKATA
    )
    assert labels(result) == [
        "2024-01-01T05:00+05:30",
        "2024-01-01T06:00+05:30",
        "2024-01-01T07:00+05:30",
    ]
    assert instants(result) == [
        utc(2023, 12, 31, 23, 30),
        utc(2024, 1, 1, 0, 30),
        utc(2024, 1, 1, 1, 30),
    ]
    assert counts(result) == [1, 1, 0]


def test_a_leap_year_has_8784_local_hours_in_paris(event_store):
    # 366 days x 24 hours; the hour lost in March comes back in October.
    # 2024 in Paris: 2024-01-01T00:00+01:00 = 2023-12-31T23:00Z to
    # 2025-01-01T00:00+01:00 = 2024-12-31T23:00Z.
    result = trends(
        event_store,
        HAPPENED,
        utc(2023, 12, 31, 23),
        utc(2024, 12, 31, 23) - timedelta(microseconds=1),
        interval="hour",
        tz=PARIS,
    )
    assert len(result.buckets) == 8784
    starts = instants(result)
    assert all(
        later - earlier == timedelta(hours=1) for earlier, later in itertools.pairwise(starts)
    )


# -- day, week and month trends --------------------------------------------------------------


def test_day_trend_includes_empty_days(event_store):
    # 28, 29, 30, 31 December and 1 to 5 January: 9 days.
    add(event_store, utc(2024, 12, 31, 23, 30))
    add(event_store, utc(2025, 1, 2, 8))
    result = trends(
        event_store, HAPPENED, utc(2024, 12, 28), utc(2025, 1, 5), interval="day", tz=UTC_ZONE
    )
    assert labels(result) == [
        "2024-12-28",
        "2024-12-29",
        "2024-12-30",
        "2024-12-31",
        "2025-01-01",
        "2025-01-02",
        "2025-01-03",
        "2025-01-04",
        "2025-01-05",
    ]
    assert counts(result) == [0, 0, 0, 1, 0, 1, 0, 0, 0]


def test_days_are_local_to_the_time_zone(event_store):
    # 2024-12-31T23:30Z is 2025-01-01T00:30+01:00 in Paris: New Year's Day there.
    add(event_store, utc(2024, 12, 31, 23, 30))
    result = trends(
        event_store, HAPPENED, utc(2024, 12, 30, 12), utc(2025, 1, 1, 12), interval="day", tz=PARIS
    )
    assert labels(result) == ["2024-12-30", "2024-12-31", "2025-01-01"]
    assert counts(result) == [0, 0, 1]
    assert result.buckets[2]["start"] == datetime(2025, 1, 1, tzinfo=PARIS)


def test_the_fall_back_day_lasts_25_hours(event_store):
    result = trends(
        event_store,
        HAPPENED,
        utc(2024, 10, 27, 12),
        utc(2024, 10, 28, 12),
        interval="day",
        tz=PARIS,
    )
    first, second = instants(result)
    assert (first, second) == (utc(2024, 10, 26, 22), utc(2024, 10, 27, 23))
    assert second - first == timedelta(hours=25)


def test_a_day_whose_midnight_is_skipped_starts_when_the_clock_jumps(event_store):
    # America/Santiago, 2024-09-07 at 24:00 (-04:00) = 2024-09-08T04:00Z, the
    # clock jumps to 01:00 (-03:00): the 8th starts at 04:00Z, shown as 01:00.
    santiago = ZoneInfo("America/Santiago")
    add(event_store, utc(2024, 9, 8, 3, 59, 59))  # 23:59:59-04:00 on the 7th
    add(event_store, utc(2024, 9, 8, 4))  # 01:00-03:00 on the 8th
    result = trends(
        event_store, HAPPENED, utc(2024, 9, 7, 12), utc(2024, 9, 8, 12), interval="day", tz=santiago
    )
    assert labels(result) == ["2024-09-07", "2024-09-08"]
    assert instants(result) == [utc(2024, 9, 7, 4), utc(2024, 9, 8, 4)]
    assert result.buckets[1]["start"].hour == 1
    assert counts(result) == [1, 1]


def test_a_skipped_calendar_day_has_no_bucket(event_store):
    # Pacific/Apia went from -10:00 to +14:00 at the end of 2011-12-29: the 29th
    # starts at 2011-12-29T10:00Z, the 31st at 2011-12-30T10:00Z; the 30th never was.
    result = trends(
        event_store,
        HAPPENED,
        utc(2011, 12, 29, 12),
        utc(2011, 12, 30, 22),
        interval="day",
        tz=ZoneInfo("Pacific/Apia"),
    )
    assert labels(result) == ["2011-12-29", "2011-12-31"]
    assert instants(result) == [utc(2011, 12, 29, 10), utc(2011, 12, 30, 10)]


def test_week_trend_uses_iso_8601_weeks_across_new_year(event_store):
    # Monday 2024-12-23 starts 2024-W52; Monday 2024-12-30 starts 2025-W01 (its
    # Thursday, 2025-01-02, is in 2025); Monday 2025-01-06 starts 2025-W02.
    add(event_store, utc(2024, 12, 29, 22, 59))  # Sunday 23:59+01:00: W52
    add(event_store, utc(2024, 12, 29, 23))  # Monday 00:00+01:00: W01
    add(event_store, utc(2025, 1, 2, 12))  # W01
    result = trends(
        event_store, HAPPENED, utc(2024, 12, 25), utc(2025, 1, 8), interval="week", tz=PARIS
    )
    assert labels(result) == ["2024-W52", "2025-W01", "2025-W02"]
    assert result.buckets[1]["start"] == datetime(2024, 12, 30, tzinfo=PARIS)
    assert result.buckets[1]["start"] == utc(2024, 12, 29, 23)
    assert counts(result) == [1, 2, 0]


def test_month_trend_keeps_an_empty_february(event_store):
    add(event_store, utc(2024, 1, 10, 12))
    add(event_store, utc(2024, 1, 31, 22, 59))  # 23:59+01:00 on 31 January
    add(event_store, utc(2024, 3, 31, 21, 59, 59))  # 23:59:59+02:00 on 31 March (the end)
    add(event_store, utc(2024, 3, 31, 22))  # 00:00+02:00 on 1 April: after the end
    result = trends(
        event_store,
        HAPPENED,
        datetime(2024, 1, 1, tzinfo=PARIS),
        datetime(2024, 3, 31, 23, 59, 59, tzinfo=PARIS),
        interval="month",
        tz=PARIS,
    )
    assert labels(result) == ["2024-01", "2024-02", "2024-03"]
    assert counts(result) == [2, 0, 1]
    assert result.total == 3
    assert result.buckets[2]["start"] == utc(2024, 2, 29, 23)  # 1 March 00:00+01:00


def test_trend_counts_several_types_and_scopes_organizations(event_store):
    add(event_store, utc(2024, 5, 1, 10), organization_id="acme")
    add(event_store, utc(2024, 5, 1, 11), COUNTED, organization_id="acme")
    add(event_store, utc(2024, 5, 1, 12), organization_id="globex")
    start, end = utc(2024, 5, 1), utc(2024, 5, 1, 23)
    both = trends(event_store, [HAPPENED, COUNTED], start, end, interval="day", tz=UTC_ZONE)
    assert counts(both) == [3]
    acme = trends(
        event_store, HAPPENED, start, end, interval="day", tz=UTC_ZONE, organization_ids={"acme"}
    )
    assert counts(acme) == [1]
    nobody = trends(
        event_store, HAPPENED, start, end, interval="day", tz=UTC_ZONE, organization_ids=set()
    )
    assert labels(nobody) == ["2024-05-01"]
    assert counts(nobody) == [0]


# -- statistics ------------------------------------------------------------------------------


def _statistics_events(store: Any) -> None:
    add(store, utc(2024, 10, 27, 0, 30), organization_id="acme", user_id="7")  # 02:30+02:00
    add(store, utc(2024, 10, 27, 1, 30), organization_id="acme", user_id="8")  # 02:30+01:00
    add(store, utc(2024, 10, 27, 1, 45), organization_id="globex")  # 02:45+01:00
    add(store, utc(2024, 10, 27, 10))  # 11:00+01:00, no metadata
    add(store, utc(2024, 10, 27, 10), COUNTED, organization_id="acme", user_id="7")
    add(store, utc(2024, 10, 28, 12), organization_id="acme")  # the next day: outside


def test_statistics_by_hour_day_organization_and_user(event_store):
    _statistics_events(event_store)
    result = statistics(event_store, HAPPENED, FALL_DAY_START, FALL_DAY_END, tz=PARIS)
    assert result.total == 4
    # Every hour of the 25-hour day, empty ones with 0, in the trend's order:
    # 00:00, 01:00, 02:00 at +02:00, then 02:00 to 23:00 at +01:00.
    expected = ["2024-10-27T00:00+02:00", "2024-10-27T01:00+02:00", "2024-10-27T02:00+02:00"]
    expected += [f"2024-10-27T{hour:02d}:00+01:00" for hour in range(2, 24)]
    assert list(result.by_hour) == expected
    assert [(hour, n) for hour, n in result.by_hour.items() if n] == [
        ("2024-10-27T02:00+02:00", 1),
        ("2024-10-27T02:00+01:00", 2),
        ("2024-10-27T11:00+01:00", 1),
    ]
    assert result.by_day == {"2024-10-27": 4}
    # Largest count first, ties by key.
    assert list(result.by_organization.items()) == [("acme", 2), ("globex", 1), ("unknown", 1)]
    assert list(result.by_user.items()) == [("unknown", 2), ("7", 1), ("8", 1)]
    assert result.time_zone == "Europe/Paris"
    assert result.start == datetime(2024, 10, 27, tzinfo=PARIS)
    assert result.as_dict()["start"] == "2024-10-27T00:00:00+02:00"


def test_statistics_of_several_types(event_store):
    _statistics_events(event_store)
    result = statistics(event_store, [HAPPENED, COUNTED], FALL_DAY_START, FALL_DAY_END, tz=PARIS)
    assert result.total == 5
    assert result.by_hour["2024-10-27T11:00+01:00"] == 2
    assert result.by_user["7"] == 2


def test_statistics_scoped_to_organizations(event_store):
    _statistics_events(event_store)
    acme = statistics(
        event_store, HAPPENED, FALL_DAY_START, FALL_DAY_END, tz=PARIS, organization_ids=["acme"]
    )
    assert (acme.total, acme.by_organization) == (2, {"acme": 2})
    two = statistics(
        event_store,
        HAPPENED,
        FALL_DAY_START,
        FALL_DAY_END,
        tz=PARIS,
        organization_ids={"acme", "globex"},
    )
    assert two.total == 3
    none = statistics(
        event_store, HAPPENED, FALL_DAY_START, FALL_DAY_END, tz=PARIS, organization_ids=[]
    )
    assert (none.total, none.by_organization) == (0, {})
    assert len(none.by_hour) == 25 and set(none.by_hour.values()) == {0}


def test_both_ends_are_inclusive(event_store):
    start, end = utc(2024, 5, 1), utc(2024, 5, 1, 12)
    tick = timedelta(microseconds=1)
    for when in (start - tick, start, end, end + tick):
        add(event_store, when)
    assert statistics(event_store, HAPPENED, start, end, tz=UTC_ZONE).total == 2
    assert trends(event_store, HAPPENED, start, end, interval="hour", tz=UTC_ZONE).total == 2
    single = statistics(event_store, HAPPENED, start, start, tz=UTC_ZONE)
    assert single.total == 1


def test_an_empty_range_gives_zeros(event_store):
    # 2024-01-01T00:00Z is 01:00+01:00 on the 1st; 2024-01-02T00:00Z is 01:00 on the 2nd:
    # local hours 01:00 on the 1st to 01:00 on the 2nd (25 buckets), days the 1st and 2nd.
    result = statistics(event_store, HAPPENED, utc(2024, 1, 1), utc(2024, 1, 2), tz=PARIS)
    assert (result.total, result.by_user, result.by_organization) == (0, {}, {})
    assert result.by_day == {"2024-01-01": 0, "2024-01-02": 0}
    assert len(result.by_hour) == 25 and set(result.by_hour.values()) == {0}
    assert next(iter(result.by_hour)) == "2024-01-01T01:00+01:00"


# -- cost ------------------------------------------------------------------------------------


def test_events_are_read_by_type_and_range_in_pages(event_store, monkeypatch):
    for minute in range(5):
        add(event_store, utc(2024, 5, 1, 10, minute))
    add(event_store, utc(2024, 5, 1, 10, 1), COUNTED)
    monkeypatch.setattr(analytics, "PAGE_SIZE", 2)
    calls: list[dict[str, Any]] = []
    search = event_store.search

    def spy(**criteria: Any) -> Any:
        calls.append(criteria)
        return search(**criteria)

    monkeypatch.setattr(event_store, "search", spy)
    result = statistics(event_store, HAPPENED, utc(2024, 5, 1), utc(2024, 5, 2), tz=UTC_ZONE)
    assert result.total == 5
    # 5 events in pages of 2: 2 + 2 + 1, so three queries, each by type and range.
    assert [call["after_position"] for call in calls] == [0, 2, 4]
    assert all(call["event_type"] == [HAPPENED] for call in calls)
    assert all(call["timestamp__gte"] == utc(2024, 5, 1) for call in calls)
    assert all(call["limit"] == 2 for call in calls)


# -- refused queries -------------------------------------------------------------------------


def test_naive_datetimes_are_refused(event_store):
    naive = utc(2024, 1, 1).replace(tzinfo=None)
    with pytest.raises(InvalidQueryError, match="naive"):
        statistics(event_store, HAPPENED, naive, utc(2024, 1, 2), tz=PARIS)
    with pytest.raises(InvalidQueryError, match="naive"):
        trends(event_store, HAPPENED, utc(2023, 1, 1), naive, interval="day", tz=PARIS)


def test_start_after_end_is_refused(event_store):
    with pytest.raises(InvalidQueryError, match="after"):
        statistics(event_store, HAPPENED, utc(2024, 1, 2), utc(2024, 1, 1), tz=PARIS)


@pytest.mark.parametrize("interval", ["fortnight", "Day", "", None])
def test_unknown_intervals_are_refused(event_store, interval):
    with pytest.raises(InvalidQueryError, match="interval"):
        trends(event_store, HAPPENED, utc(2024, 1, 1), utc(2024, 1, 2), interval=interval, tz=PARIS)


def test_bad_time_zones_event_types_and_organizations_are_refused(event_store):
    start, end = utc(2024, 1, 1), utc(2024, 1, 2)
    with pytest.raises(InvalidQueryError, match="time zone"):
        statistics(event_store, HAPPENED, start, end, tz="Mars/Olympus_Mons")
    with pytest.raises(InvalidQueryError, match="event_type"):
        statistics(event_store, [], start, end, tz=PARIS)
    with pytest.raises(InvalidQueryError, match="organization_ids"):
        statistics(event_store, HAPPENED, start, end, tz=PARIS, organization_ids="acme")


def test_a_time_zone_may_be_given_by_name(event_store):
    result = statistics(event_store, HAPPENED, utc(2024, 1, 1), utc(2024, 1, 2), tz="Asia/Kolkata")
    assert result.time_zone == "Asia/Kolkata"


def test_more_than_max_buckets_is_refused(event_store):
    # In UTC, start + 9,999 hours lies in the 10,000th hour bucket; one hour
    # more needs 10,001 buckets.
    start = utc(2024, 1, 1)
    fits = trends(
        event_store, HAPPENED, start, start + timedelta(hours=9999), interval="hour", tz=UTC_ZONE
    )
    assert len(fits.buckets) == MAX_BUCKETS == 10_000
    with pytest.raises(InvalidQueryError, match="10000"):
        trends(
            event_store,
            HAPPENED,
            start,
            start + timedelta(hours=10_000),
            interval="hour",
            tz=UTC_ZONE,
        )


# -- partial buckets -------------------------------------------------------------------------


def test_buckets_reaching_outside_the_range_are_partial(event_store):
    # 2024-01-10 to 2024-03-05 UTC: January starts before the range and March
    # ends after it; February is whole.
    start, end = utc(2024, 1, 10), utc(2024, 3, 5, 12)
    result = trends(event_store, HAPPENED, start, end, interval="month", tz=UTC_ZONE)
    assert [(b["bucket"], b["partial"]) for b in result.buckets] == [
        ("2024-01", True),
        ("2024-02", False),
        ("2024-03", True),
    ]


def test_whole_days_of_the_fall_back_day_are_not_partial(event_store):
    # The 25 hours of 2024-10-27 in Paris, to its last microsecond: every hour is whole,
    # the last one (23:00+01:00) ending at 2024-10-27T23:00Z, one microsecond after the end.
    hours = trends(event_store, HAPPENED, FALL_DAY_START, FALL_DAY_END, interval="hour", tz=PARIS)
    assert [b["partial"] for b in hours.buckets] == [False] * 25
    day = trends(event_store, HAPPENED, FALL_DAY_START, FALL_DAY_END, interval="day", tz=PARIS)
    assert [b["partial"] for b in day.buckets] == [False]
    # Ending at 10:30 local time, the 10:00 hour is partial, and so is the day.
    half = utc(2024, 10, 27, 9, 30)  # 10:30+01:00
    hours = trends(event_store, HAPPENED, FALL_DAY_START, half, interval="hour", tz=PARIS)
    assert hours.buckets[-1]["bucket"] == "2024-10-27T10:00+01:00"
    assert [b["partial"] for b in hours.buckets] == [False] * 11 + [True]
    assert analytics.spans("day", FALL_DAY_START, half, PARIS)[0].partial


def test_a_bucket_not_over_yet_is_partial(event_store, event_clock):
    # The store clock says 2024-05-15 12:00 UTC: May is not over, even for a range
    # that covers the whole month; April is.
    event_clock.set(utc(2024, 5, 15, 12))
    start, end = utc(2024, 4, 1), utc(2024, 5, 31, 23, 59, 59)
    result = trends(event_store, HAPPENED, start, end, interval="month", tz=UTC_ZONE)
    assert [(b["bucket"], b["partial"]) for b in result.buckets] == [
        ("2024-04", False),
        ("2024-05", True),
    ]


def test_spans_give_each_buckets_end(event_store):
    # Sunday 2024-10-27 in Paris lasts 25 hours: from 26T22:00Z to 27T23:00Z.
    (sunday,) = analytics.spans("day", FALL_DAY_START, FALL_DAY_END, PARIS)
    assert (sunday.start, sunday.end) == (utc(2024, 10, 26, 22), utc(2024, 10, 27, 23))
    hours = analytics.spans("hour", FALL_DAY_START, FALL_DAY_END, PARIS)
    assert all(a.end == b.start for a, b in zip(hours, hours[1:], strict=False))
    assert hours[-1].end == utc(2024, 10, 27, 23)


def test_statistics_past_max_buckets_hours_list_only_the_hours_with_events(event_store):
    # In UTC, start + 9,999 hours is the 10,000th hour: every hour is listed. One
    # hour more and only the two hours holding events are (as trends refuse it).
    start = utc(2024, 1, 1)
    add(event_store, utc(2024, 1, 1, 5, 30))
    add(event_store, start + timedelta(hours=10_000, minutes=10))
    fits = statistics(event_store, HAPPENED, start, start + timedelta(hours=9999), tz=UTC_ZONE)
    assert (len(fits.by_hour), fits.filled, fits.total) == (MAX_BUCKETS, True, 1)
    longer = statistics(
        event_store, HAPPENED, start, start + timedelta(hours=10_000, minutes=30), tz=UTC_ZONE
    )
    # 10,000 hours are 416 days and 16 hours; 2024 has 366 days, so 2024-01-01 plus
    # 416 days is 2025-01-01 plus 50 days, 2025-02-20: the second event is at 16:10Z.
    assert longer.filled is False and longer.as_dict()["filled"] is False
    assert longer.by_hour == {"2024-01-01T05:00+00:00": 1, "2025-02-20T16:00+00:00": 1}
    assert longer.by_day == {"2024-01-01": 1, "2025-02-20": 1}
