"""The audit-trail pages as a person sees them, in Chromium, on seeded demo data.

Each test logs in through the admin's login form as staff holding the
audit-trail permission, and saves a screenshot of every page it checks.
"""

from __future__ import annotations

import re
from datetime import datetime, time, timedelta

import pytest
from django.utils import timezone

from eventstore.queries import analytics
from payments.commands import CommandContext, PaymentCommandHandler, ProcessPayment, RefundPayment
from payments.demo import seed_demo

from .conftest import PASSWORD, log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

INDEX = "/admin/eventstore/audittrail/"
ANALYTICS = f"{INDEX}analytics/"
DEMO_DAYS = 20


@pytest.fixture
def demo(event_store):
    """About 200 demo events over the last 20 days, and one checkout with a refund."""
    seed_demo(payments=120, days=DEMO_DAYS, seed=7)
    handler = PaymentCommandHandler()
    context = CommandContext(user_id="1", username="alice", correlation_id="checkout-browser")
    handler.process(ProcessPayment("pay-browser", "80.00", "EUR", "acme"), context)
    handler.refund(RefundPayment("pay-browser", "20.00"), context)
    handler.process(ProcessPayment("pay-browser-2", "15.00", "EUR", "acme"), context)
    return event_store


def _positions(page):
    rows = page.locator("#result_list tbody tr.audit-event")
    return [int(value) for value in rows.evaluate_all("rows => rows.map(r => r.dataset.position)")]


def test_event_browser_newest_first_with_a_filter_and_pages(page, screenshot, auditor, demo):
    log_in(page, auditor.username, INDEX)
    assert page.locator("h1").inner_text() == "Audit trail: events"
    last = demo.last_position()
    first_page = _positions(page)
    assert first_page == list(range(last, last - 50, -1))  # the newest 50, newest first
    assert page.locator("#changelist-filter").is_visible()  # the admin's filter sidebar
    screenshot("event-browser")

    page.click("#pagination a.audit-older")
    assert _positions(page) == list(range(last - 50, last - 100, -1))
    screenshot("event-browser-page-2")
    page.click("#pagination a.audit-newer")
    assert _positions(page) == first_page

    page.click("#changelist-filter >> text=PaymentRefunded")
    refunds = demo.count(event_type="PaymentRefunded")
    assert page.locator("#result-count").inner_text().startswith(f"{refunds} result")
    types = page.locator("#result_list .field-event-type").all_inner_texts()
    assert set(types) == {"PaymentRefunded"}
    assert _positions(page) == sorted(_positions(page), reverse=True)
    assert page.locator("#changelist-filter li.selected").first.inner_text() == "PaymentRefunded"
    screenshot("event-browser-filtered")

    page.fill("#searchbar", "declined")
    page.press("#searchbar", "Enter")
    matches = demo.count(event_type="PaymentRefunded", text="declined")
    assert page.locator("#result_list tbody tr.audit-event").count() == matches
    assert "Search: declined" in page.locator("#active-filters").inner_text()


def test_invalid_filters_show_an_error(page, screenshot, auditor, demo):
    log_in(page, auditor.username, INDEX)
    # The form's date pickers only give dates; a bad bound arrives from a link or by hand.
    page.goto(f"{INDEX}?from=last+tuesday")
    assert "Enter an ISO 8601 date" in page.locator("#page-errors").inner_text()
    assert page.locator("#filter-from").input_value() == "last tuesday"  # kept, to correct
    assert page.locator("#result_list tbody tr.audit-event").count() == 0
    screenshot("event-browser-invalid-filter")


def test_follow_a_correlation_link_to_its_timeline(page, screenshot, auditor, demo):
    log_in(page, auditor.username, INDEX)
    row = page.locator("#result_list tbody tr", has_text="pay-browser-2")
    row.locator("a.correlation-link").click()
    assert page.locator("h1").inner_text() == "Correlation checkout-browser"
    assert "3 events across 2 aggregates" in page.locator("#correlation-summary").inner_text()
    rows = page.locator("#timeline tbody tr")
    assert rows.evaluate_all("rows => rows.map(row => row.dataset.depth)") == ["0", "1", "0"]
    assert page.locator("#timeline tbody tr").nth(1).inner_text().count("└─") == 1
    tree = page.locator("#causation-tree")
    assert tree.locator(":scope > li").count() == 2  # two roots: one payment has a child
    assert "PaymentRefunded" in tree.locator(":scope > li ul").inner_text()
    assert page.locator("#api-link").get_attribute("href") == (
        "/api/correlations/checkout-browser/timeline/"
    )
    screenshot("correlation-timeline")


def test_event_detail_and_payment_timeline(page, screenshot, auditor, demo):
    refund = demo.search(aggregate_id="pay-browser", event_type="PaymentRefunded")[0]
    log_in(page, auditor.username, f"{INDEX}?aggregate_id=pay-browser")
    assert _positions(page) == [refund.position, refund.position - 1]
    page.click(f"#result_list a[href$='/event/{refund.event_id}/']")
    assert "PaymentRefunded" in page.locator("h2").first.inner_text()
    assert '"amount": "20.00"' in page.locator("#event-data").inner_text()
    assert '"username": "alice"' in page.locator("#event-metadata").inner_text()
    assert page.locator("#cause-link").inner_text().startswith("Causing event: PaymentProcessed")
    screenshot("event-detail")

    page.click("#aggregate-timeline-link")
    assert page.locator("h1").inner_text() == "Timeline of pay-browser"
    assert "partially_refunded" in page.locator("#state-at-version").inner_text()
    rows = page.locator("#timeline tbody tr")
    assert rows.count() == 2
    assert "refunded_amount: 0.00 → 20.00" in rows.nth(1).inner_text()
    local = timezone.localtime(refund.timestamp).strftime("%Y-%m-%d %H:%M:%S")
    assert local in rows.nth(1).inner_text()
    page.click("#versions >> text=1")
    state = page.locator("#state-at-version").inner_text()
    assert "State at version 1" in state and "processed" in state
    assert page.locator("#replay-api-link").get_attribute("href") == (
        "/api/payments/pay-browser/replay/?version=1"
    )
    screenshot("payment-timeline")


def test_analytics_dashboard_and_interval_switch(page, screenshot, auditor, demo):
    log_in(page, auditor.username, ANALYTICS)
    zone = timezone.get_current_timezone()
    today = timezone.localdate()
    start = datetime.combine(today - timedelta(days=29), time.min, tzinfo=zone)
    end = datetime.combine(today, time.max, tzinfo=zone)
    types = ["PaymentFailed", "PaymentProcessed", "PaymentRefunded"]
    expected = analytics.statistics(demo, types, start, end, tz=zone)
    assert expected.total == demo.last_position()  # the demo lies inside the default range
    assert page.locator("#total-events").inner_text() == str(expected.total)
    assert page.locator("#chart-trend svg rect.bar").count() == 30  # one bar per day
    assert page.locator("#chart-by-organization svg rect.bar").count() == len(
        expected.by_organization
    )
    page.click("#chart-trend summary")
    table = page.locator("#chart-trend table tbody tr")
    assert table.count() == 30
    shown = sum(int(row) for row in table.locator("td").all_inner_texts())
    assert shown == expected.total
    screenshot("analytics-by-day")

    page.click("#interval-links >> text=week")
    weeks = analytics.trends(demo, types, start, end, interval="week", tz=zone)
    assert page.locator("#interval-links strong").inner_text() == "week"
    bars = page.locator("#chart-trend svg rect.bar")
    assert bars.count() == len(weeks.buckets)
    titles = bars.locator("title").all_text_contents()
    assert titles == [f"{bucket['bucket']}: {bucket['count']}" for bucket in weeks.buckets]
    assert all(re.fullmatch(r"\d{4}-W\d{2}: \d+", title) for title in titles)
    assert page.locator("#api-link").get_attribute("href").endswith("&interval=week")
    screenshot("analytics-by-week")


def test_permission_gate_in_the_browser(page, screenshot, django_user_model, demo):
    page.goto(INDEX)
    assert page.url.endswith(f"/admin/login/?next={INDEX}")
    django_user_model.objects.create_user("staff", password=PASSWORD, is_staff=True)
    log_in(page, "staff", INDEX)
    assert page.title().startswith("Permission needed")  # the admin's 403 page
    assert "eventstore.view_audit_trail" in page.locator("#permission-needed").inner_text()
    screenshot("audit-trail-forbidden")
