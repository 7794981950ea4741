"""Money analytics of payments (eventstore.queries.money, from payments' declared money roles).

The history below was written down with its expected figures before the code
was run. Europe/Paris, 2024: CEST (+02:00) until 2024-10-27T01:00Z, when 03:00
goes back to 02:00 CET (+01:00); Sunday 2024-10-27 (25 hours, 26T22:00Z to
27T23:00Z) closes ISO week 2024-W43 and Monday 2024-10-28 opens 2024-W44.

==  ===========  ==========================  =============================================
#   UTC          Paris                       event
==  ===========  ==========================  =============================================
1   10-26 21:30  Sat 26 23:30+02:00  W43     p-1 processed 100.00 EUR (acme)
2   10-27 00:30  Sun 27 02:30+02:00  W43     p-2 processed 5000 JPY (globex)
3   10-27 01:30  Sun 27 02:30+01:00  W43     p-3 failed 20.00 EUR card_declined (acme)
4   10-27 01:35  Sun 27 02:35+01:00  W43     p-3 processed 20.00 EUR (acme)
5   10-27 22:59  Sun 27 23:59+01:00  W43     p-1 refunded 30.00 EUR
6   10-27 23:00  Mon 28 00:00+01:00  W44     p-4 processed 250.50 EUR (globex)
7   10-28 08:00  Mon 28 09:00+01:00  W44     p-5 failed 999 JPY insufficient_funds (globex)
8   10-28 09:00  Mon 28 10:00+01:00  W44     p-6 failed 10.00 EUR card_declined (acme)
9   10-29 10:00  Tue 29 11:00+01:00  W44     p-2 refunded 5000 JPY
10  10-31 12:00  Thu 31 (outside)            p-7 processed 1.00 EUR (acme)
==  ===========  ==========================  =============================================

Range: 2024-10-26 to 2024-10-30 (whole days in Paris). Expected, EUR:
processed 100.00 + 20.00 + 250.50 = 370.50 (3 payments), refunded 30.00 (1),
net 340.50, 2 failures of 30.00 (both card_declined); refund rate 30 / 370.50
= 0.08097… → 0.0810; failure rate 2 / (3 + 2) = 0.4000. W43 (partial: it
starts on the 21st): processed 120.00, refunded 30.00, net 90.00; W44
(partial: it ends on 3 November): processed 250.50, net 250.50. Days: the 26th
100.00; the 27th 20.00 in, 30.00 back, net -10.00; the 28th 250.50; the 29th
and 30th nothing. JPY: processed 5000, refunded 5000, net 0, 1 failure of 999;
refund rate 1.0000, failure rate 1 / 2 = 0.5000; W43 +5000, W44 -5000.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from eventstore.events import registry
from eventstore.exceptions import InvalidQueryError
from eventstore.queries.money import money_analytics

from .money_history import END, PARIS, START, record_history

pytestmark = pytest.mark.django_db


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


@pytest.fixture
def history(event_store, event_clock):
    record_history(event_clock)
    return event_store


def by_code(result):
    return {volume.currency: volume for volume in result.currencies}


def test_totals_and_rates_per_currency(history):
    result = money_analytics(history, START, END, interval="week", tz=PARIS)
    eur, jpy = by_code(result)["EUR"], by_code(result)["JPY"]
    assert [volume.currency for volume in result.currencies] == ["EUR", "JPY"]
    assert (eur.processed, eur.refunded, eur.net) == (
        Decimal("370.50"),
        Decimal("30.00"),
        Decimal("340.50"),
    )
    assert (eur.payments, eur.refunds, eur.failures, eur.failed_amount) == (
        3,
        1,
        2,
        Decimal("30.00"),
    )
    assert (eur.refund_rate, eur.failure_rate) == (Decimal("0.0810"), Decimal("0.4000"))
    assert (jpy.processed, jpy.refunded, jpy.net, jpy.failures) == (
        Decimal(5000),
        Decimal(5000),
        Decimal(0),
        1,
    )
    assert (jpy.refund_rate, jpy.failure_rate) == (Decimal("1.0000"), Decimal("0.5000"))
    assert (eur.minor_units, jpy.minor_units) == (2, 0)
    assert result.skipped == 0
    # Every type declaring money is read (other domains' too, when registered).
    assert set(result.event_types) == set(registry.money_roles())
    assert {"PaymentProcessed", "PaymentRefunded", "PaymentFailed"} <= set(result.event_types)


def test_iso_weeks_across_the_dst_change_are_marked_partial(history):
    result = money_analytics(history, START, END, interval="week", tz=PARIS)
    eur, jpy = by_code(result)["EUR"], by_code(result)["JPY"]
    assert [(b.bucket, b.partial) for b in eur.buckets] == [
        ("2024-W43", True),  # Monday the 21st to Sunday the 27th: the range starts on the 26th
        ("2024-W44", True),  # Monday the 28th to Sunday 3 November: it ends on the 30th
    ]
    assert [(b.processed, b.refunded, b.net, b.failures) for b in eur.buckets] == [
        (Decimal("120.00"), Decimal("30.00"), Decimal("90.00"), 1),
        (Decimal("250.50"), Decimal(0), Decimal("250.50"), 1),
    ]
    assert [b.net for b in jpy.buckets] == [Decimal(5000), Decimal(-5000)]
    # W44 starts at Monday 00:00 CET, 2024-10-27T23:00Z: event 6 is its first second.
    assert eur.buckets[1].start.astimezone(UTC) == utc(2024, 10, 27, 23)


def test_days_keep_empty_days_and_put_the_25_hour_day_together(history):
    result = money_analytics(history, START, END, interval="day", tz=PARIS)
    eur = by_code(result)["EUR"]
    assert [b.bucket for b in eur.buckets] == [f"2024-10-{day}" for day in range(26, 31)]
    assert [b.partial for b in eur.buckets] == [False] * 5
    assert [(b.processed, b.refunded, b.net) for b in eur.buckets] == [
        (Decimal("100.00"), Decimal(0), Decimal("100.00")),
        (Decimal("20.00"), Decimal("30.00"), Decimal("-10.00")),
        (Decimal("250.50"), Decimal(0), Decimal("250.50")),
        (Decimal(0), Decimal(0), Decimal(0)),
        (Decimal(0), Decimal(0), Decimal(0)),
    ]
    # Both 02:30 events (CEST, then CET) are on the 27th.
    assert [b.failures for b in eur.buckets] == [0, 1, 1, 0, 0]


def test_the_repeated_hour_gives_two_buckets(history):
    day_start = datetime(2024, 10, 27, tzinfo=PARIS)
    day_end = datetime(2024, 10, 27, 23, 59, 59, tzinfo=PARIS)
    result = money_analytics(history, day_start, day_end, interval="hour", tz=PARIS)
    eur, jpy = by_code(result)["EUR"], by_code(result)["JPY"]
    assert len(eur.buckets) == 25
    hours = {b.bucket: b for b in jpy.buckets}
    assert hours["2024-10-27T02:00+02:00"].processed == Decimal(5000)  # event 2
    eur_hours = {b.bucket: b for b in eur.buckets}
    second = eur_hours["2024-10-27T02:00+01:00"]  # events 3 and 4
    assert (second.processed, second.payments, second.failures) == (Decimal("20.00"), 1, 1)
    assert eur_hours["2024-10-27T02:00+02:00"].payments == 0
    assert eur_hours["2024-10-27T23:00+01:00"].refunded == Decimal("30.00")  # event 5


def test_failure_reasons_top_payments_and_organizations(history):
    result = money_analytics(history, START, END, interval="week", tz=PARIS, top=2)
    eur, jpy = by_code(result)["EUR"], by_code(result)["JPY"]
    assert [(r.reason, r.failures, r.amount) for r in eur.failure_reasons] == [
        ("card_declined", 2, Decimal("30.00"))
    ]
    assert [(r.reason, r.failures) for r in jpy.failure_reasons] == [("insufficient_funds", 1)]
    assert [
        (p.aggregate_id, p.amount, p.refunded, p.organization_id) for p in eur.top_payments
    ] == [
        ("p-4", Decimal("250.50"), Decimal(0), "globex"),
        ("p-1", Decimal("100.00"), Decimal("30.00"), "acme"),
    ]
    assert eur.top_payments[1].timestamp.isoformat() == "2024-10-26T23:30:00+02:00"
    assert [
        (o.organization_id, o.processed, o.refunded, o.net, o.payments, o.refunds, o.failures)
        for o in eur.by_organization
    ] == [
        ("globex", Decimal("250.50"), Decimal(0), Decimal("250.50"), 1, 0, 0),
        ("acme", Decimal("120.00"), Decimal("30.00"), Decimal("90.00"), 2, 1, 2),
    ]


def test_scoped_to_an_organization(history):
    result = money_analytics(
        history, START, END, interval="week", tz=PARIS, organization_ids=["acme"]
    )
    assert [volume.currency for volume in result.currencies] == ["EUR"]  # globex had the JPY
    (eur,) = result.currencies
    assert (eur.processed, eur.refunded, eur.failures) == (Decimal("120.00"), Decimal("30.00"), 2)
    assert (
        money_analytics(
            history, START, END, interval="week", tz=PARIS, organization_ids=[]
        ).currencies
        == ()
    )


def test_as_dict_gives_exact_strings_in_minor_units(history):
    body = money_analytics(history, START, END, interval="week", tz=PARIS).as_dict()
    eur, jpy = body["currencies"]
    assert (eur["processed"], eur["refunded"], eur["net"]) == ("370.50", "30.00", "340.50")
    assert (eur["refund_rate"], eur["failure_rate"]) == ("0.0810", "0.4000")
    assert eur["buckets"][1]["refunded"] == "0.00"
    assert [b["net"] for b in jpy["buckets"]] == ["5000", "-5000"]
    assert body["start"] == "2024-10-26T00:00:00+02:00"


def test_reads_by_type_and_range_only(history, monkeypatch):
    calls = []
    search = history.search

    def spy(**criteria):
        calls.append(criteria)
        return search(**criteria)

    monkeypatch.setattr(history, "search", spy)
    money_analytics(history, START, END, interval="day", tz=PARIS)
    assert len(calls) == 1
    assert set(calls[0]["event_type"]) == set(registry.money_roles())
    assert calls[0]["timestamp__gte"] == START and calls[0]["timestamp__lte"] == END


def test_bad_arguments_are_refused(history):
    with pytest.raises(InvalidQueryError, match="top"):
        money_analytics(history, START, END, interval="day", tz=PARIS, top=0)
    with pytest.raises(InvalidQueryError, match="interval"):
        money_analytics(history, START, END, interval="fortnight", tz=PARIS)  # type: ignore[arg-type]
    with pytest.raises(InvalidQueryError, match="naive"):
        money_analytics(history, START.replace(tzinfo=None), END, interval="day", tz=PARIS)
