"""The staff pages an auditor uses, in Chromium: counts, money columns, CSV download, layout, 403.

The history is small and written by hand (see ``ledger``), so every number is
checked against a count worked out by hand, and the CSV download against the
API's JSON for the same filter.
"""

from __future__ import annotations

import csv
import io
import json

import pytest
from django.contrib.auth.models import Permission

from payments.commands import (
    CommandContext,
    FailPayment,
    PaymentCommandHandler,
    ProcessPayment,
    RefundPayment,
)
from payments.demo import seed_demo

from .conftest import PASSWORD, log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

INDEX = "/admin/eventstore/audittrail/"


@pytest.fixture
def ledger(event_store):
    """Positions 1-5 (hand-counted: acme has 1, 2, 3; globex 4, 5; EUR in 1, 3, 4).

    1 PaymentProcessed pay-eur 5.00 EUR acme · 2 PaymentProcessed pay-jpy 500 JPY acme ·
    3 PaymentRefunded pay-eur 2.50 EUR acme · 4 PaymentFailed pay-bad 7.10 EUR globex
    "=1+2" · 5 PaymentProcessed payment-000000000124 5.000 KWD globex.
    """
    handler = PaymentCommandHandler()
    alice = CommandContext(user_id="1", username="alice", correlation_id="checkout-1")
    carol = CommandContext(user_id="2", username="carol", correlation_id="checkout-2")
    handler.process(ProcessPayment("pay-eur", "5.00", "EUR", "acme"), alice)
    handler.process(ProcessPayment("pay-jpy", "500", "JPY", "acme"), alice)
    handler.refund(RefundPayment("pay-eur", "2.5"), alice)
    handler.fail(FailPayment("pay-bad", "7.10", "EUR", "globex", "=1+2"), carol)
    handler.process(ProcessPayment("payment-000000000124", "5", "KWD", "globex"), carol)
    return event_store


def _positions(page):
    rows = page.locator("#result_list tbody tr.audit-event")
    return [int(value) for value in rows.evaluate_all("rows => rows.map(r => r.dataset.position)")]


def test_counts_under_a_filter(page, screenshot, auditor, ledger):
    log_in(page, auditor.username, INDEX)
    assert page.locator("#result-count").inner_text() == "5 events in 4 aggregates"
    page.fill("#filter-organization_id", "acme")
    page.click("#audit-filter-form input[type=submit]")
    assert page.locator("#result-count").inner_text().startswith("3 results for these filters")
    assert _positions(page) == [3, 2, 1]
    page.fill("#searchbar", "eur")
    page.press("#searchbar", "Enter")
    # acme and "eur" in the data: positions 1 and 3.
    assert page.locator("#result-count").inner_text().startswith("2 results for these filters")
    assert _positions(page) == [3, 1]
    amounts = page.locator("#result_list td.field-amount").all_inner_texts()
    assert amounts == ["2.50", "5.00"]
    screenshot("counts-filtered")


def test_the_date_filters_are_date_pickers(page, auditor, ledger):
    log_in(page, auditor.username, INDEX)
    assert page.locator("#filter-from").get_attribute("type") == "date"
    page.fill("#filter-from", "2000-01-01")
    page.fill("#filter-to", "2000-01-02")
    page.click("#audit-filter-form input[type=submit]")
    assert "from=2000-01-01&to=2000-01-02" in page.url
    assert page.locator("#result-count").inner_text().startswith("0 results")


def test_a_csv_download_has_the_apis_rows(page, auditor, ledger):
    log_in(page, auditor.username, INDEX)
    page.goto(f"{INDEX}?event_type=PaymentFailed&event_type=PaymentProcessed")
    with page.expect_download() as info:
        page.click("#export-link")
    download = info.value
    assert download.suggested_filename.startswith("events-")
    with open(download.path(), encoding="utf-8", newline="") as file:
        rows = list(csv.DictReader(file))
    api = page.request.get(
        "/api/events/?event_type=PaymentFailed&event_type=PaymentProcessed", headers={}
    ).json()["results"]
    # Processed 1, 2, 5 and failed 4, oldest first.
    assert [row["position"] for row in rows] == ["1", "2", "4", "5"]
    assert [int(row["position"]) for row in rows] == [event["position"] for event in api]
    for row, event in zip(rows, api, strict=True):
        assert row["event_id"] == event["event_id"]
        assert row["timestamp"] == event["timestamp"]
        assert json.loads(row["data"]) == event["data"]
    assert [row["amount"] for row in rows] == ["5.00", "500", "7.10", "5.000"]
    assert [row["data.reason"] for row in rows] == ["", "", "'=1+2", ""]
    api_csv = page.request.get(
        "/api/events/?event_type=PaymentFailed&event_type=PaymentProcessed&format=csv"
    )
    assert list(csv.DictReader(io.StringIO(api_csv.text(), newline=""))) == rows


@pytest.mark.parametrize("width", [1280, 1400])
def test_no_horizontal_overflow_with_the_nav_sidebar_open(
    page, screenshot, auditor, event_store, width
):
    seed_demo(payments=120, days=20, seed=7)
    PaymentCommandHandler().process(
        ProcessPayment("payment-000000000124", "12345678.90", "EUR", "acme"),
        CommandContext(user_id="1", username="alice", correlation_id="checkout-browser"),
    )
    page.set_viewport_size({"width": width, "height": 1000})
    log_in(page, auditor.username, INDEX)
    assert page.locator("#nav-sidebar").is_visible()
    layout = page.evaluate(
        """() => {
        const table = document.querySelector('#result_list');
        const filter = document.querySelector('#changelist-filter').getBoundingClientRect();
        const right = Math.max(...[...table.querySelectorAll('th, td')].map(
            cell => cell.getBoundingClientRect().right));
        const broken = [...document.querySelectorAll('#result_list .audit-id')].filter(
            id => id.getClientRects().length > 1).map(id => id.textContent);
        return {
            page: document.documentElement.scrollWidth, viewport: window.innerWidth,
            right, filterLeft: filter.left, broken,
            results: document.querySelector('#changelist .results').scrollWidth
                - document.querySelector('#changelist .results').clientWidth,
        };
    }"""
    )
    screenshot(f"event-browser-{width}")
    assert layout["page"] <= layout["viewport"], layout
    assert layout["right"] <= layout["filterLeft"], layout  # no column under the filter panel
    assert layout["results"] <= 0, layout  # nothing hidden in a scrolled box either
    assert layout["broken"] == [], layout  # no id broken over two lines


def test_the_403_page_says_which_permission_and_leads_back(
    page, screenshot, django_user_model, ledger
):
    django_user_model.objects.create_user("staff", password=PASSWORD, is_staff=True)
    log_in(page, "staff", INDEX)
    assert page.locator("#site-name").is_visible()  # the admin's header
    text = page.locator("#permission-needed").inner_text()
    assert "eventstore.view_audit_trail" in text and "Can view the audit trail" in text
    screenshot("forbidden")
    page.click("#back-to-admin")
    assert page.url.endswith("/admin/")


def test_a_member_of_staff_given_the_permission_gets_in(page, django_user_model, ledger):
    user = django_user_model.objects.create_user("later", password=PASSWORD, is_staff=True)
    user.user_permissions.add(Permission.objects.get(codename="view_audit_trail"))
    log_in(page, "later", INDEX)
    assert page.locator("#result-count").inner_text() == "5 events in 4 aggregates"
