"""The money section of the analytics dashboard, in Chromium: its numbers against the API's,
and a CSV download's rows against the API's.

Figures worked out by hand: the history tabulated in tests/payments/test_money_analytics.py.
"""

from __future__ import annotations

import csv
import io

import pytest

from payments.demo import seed_demo
from tests.payments.money_history import record_history

from .conftest import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ANALYTICS = "/admin/eventstore/audittrail/analytics/"
RANGE = "from=2024-10-26&to=2024-10-30&tz=Europe/Paris"


@pytest.fixture
def history(event_store, event_clock):
    record_history(event_clock)
    return event_store


def summary_rows(page):
    rows = page.locator("#money-summary tbody tr")
    found = {}
    for index in range(rows.count()):
        row = rows.nth(index)
        cells = row.locator("td")
        found[row.get_attribute("data-currency")] = {
            cells.nth(i).get_attribute("data-field"): (
                cells.nth(i).get_attribute("data-ratio")
                if cells.nth(i).get_attribute("data-ratio") is not None
                else cells.nth(i).inner_text()
            )
            for i in range(cells.count())
        }
    return found


def test_the_money_dashboard_shows_the_apis_numbers(page, screenshot, auditor, history):
    log_in(page, auditor.username, ANALYTICS)
    page.goto(f"{ANALYTICS}?{RANGE}&interval=week")
    shown = summary_rows(page)
    api = page.request.get(f"/api/analytics/money/?{RANGE}&interval=week").json()
    fields = ["processed", "refunded", "net", "payments", "refunds", "failures", "failed_amount"]
    expected = {
        volume["currency"]: {
            **{field: str(volume[field]) for field in fields},
            "refund_rate": volume["refund_rate"],
            "failure_rate": volume["failure_rate"],
        }
        for volume in api["currencies"]
    }
    assert shown == expected
    # ... and the API's are the ones worked out by hand.
    assert (shown["EUR"]["processed"], shown["EUR"]["net"]) == ("370.50", "340.50")
    assert shown["JPY"]["refunded"] == "5000"
    summary = page.locator("#money-summary tbody tr[data-currency=EUR]").inner_text()
    assert "8.10 %" in summary and "40.00 %" in summary
    # One chart per currency, one hatched (partial) bar per ISO week.
    bars = page.locator("#chart-money-EUR svg rect.bar")
    assert bars.locator("title").all_text_contents() == [
        "2024-W43: 120.00 (partial)",
        "2024-W44: 250.50 (partial)",
    ]
    assert page.locator("#chart-money-EUR svg rect.partial").count() == 2
    organizations = page.locator("#money-organizations tbody tr[data-currency=EUR]")
    assert [row.get_attribute("data-organization") for row in organizations.all()] == [
        "globex",
        "acme",
    ]
    page.locator("#money").scroll_into_view_if_needed()
    screenshot("analytics-money")


def test_a_csv_download_has_the_apis_rows(page, auditor, history):
    log_in(page, auditor.username, ANALYTICS)
    page.goto(f"{ANALYTICS}?{RANGE}&interval=day")
    page.click("#money-volume-details summary")
    with page.expect_download() as info:
        page.click("#money-csv-volume")
    download = info.value
    assert download.suggested_filename == "money-volume-2024-10-26-2024-10-30.csv"
    rows = list(csv.DictReader(io.StringIO(open(download.path(), encoding="utf-8").read())))
    api = page.request.get(f"/api/analytics/money/?{RANGE}&interval=day").json()
    expected = [
        {
            "currency": volume["currency"],
            "bucket": bucket["bucket"],
            "start": bucket["start"],
            "partial": "true" if bucket["partial"] else "false",
            **{key: str(bucket[key]) for key in ("processed", "refunded", "net")},
            **{key: str(bucket[key]) for key in ("payments", "refunds", "failures")},
        }
        for volume in api["currencies"]
        for bucket in volume["buckets"]
    ]
    assert rows == expected
    assert rows[1] == {  # EUR, Sunday the 27th: by hand
        "currency": "EUR",
        "bucket": "2024-10-27",
        "start": "2024-10-27T00:00:00+02:00",
        "partial": "false",
        "processed": "20.00",
        "refunded": "30.00",
        "net": "-10.00",
        "payments": "1",
        "refunds": "1",
        "failures": "1",
    }


def test_the_demo_shows_money_in_several_currencies(page, screenshot, auditor, event_store):
    seed_demo(payments=160, days=40, seed=11)
    log_in(page, auditor.username, ANALYTICS)
    currencies = page.locator("#money-summary tbody tr").evaluate_all(
        "rows => rows.map(r => r.dataset.currency)"
    )
    assert len(currencies) >= 3
    assert page.locator("#money-failure-reasons tbody tr").count() > 0
    refunded = page.locator("#money-summary td[data-field=refunds]").all_inner_texts()
    assert sum(int(value) for value in refunded) > 0
    # The sixth stat card does not wrap alone: all six share the first row.
    tops = page.locator("#analytics-summary li").evaluate_all(
        "items => items.map(i => Math.round(i.getBoundingClientRect().top))"
    )
    assert len(tops) == 6 and len(set(tops)) == 1
    screenshot("analytics-demo")
    # At 1280 px with the navigation sidebar open, no money table sticks out of the page.
    page.set_viewport_size({"width": 1280, "height": 1000})
    sticking_out = page.evaluate(
        """() => {
            const right = document.querySelector('#content-main').getBoundingClientRect().right;
            return [...document.querySelectorAll('#money table, .audit-summary li')]
                .filter(e => e.getBoundingClientRect().right > right + 1)
                .map(e => e.id || e.tagName);
        }"""
    )
    assert sticking_out == []
    assert page.evaluate("document.documentElement.scrollWidth") <= 1280
    screenshot("analytics-demo-1280")
