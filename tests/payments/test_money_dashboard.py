"""The money section of the analytics dashboard and its CSV downloads (test client).

Figures: the history tabulated in tests/payments/test_money_analytics.py.
"""

from __future__ import annotations

import csv
import io
from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission

from payments.commands import CommandContext, FailPayment, PaymentCommandHandler

from .money_history import record_history, utc

pytestmark = pytest.mark.django_db

ANALYTICS = "/admin/eventstore/audittrail/analytics/"
RANGE = {"from": "2024-10-26", "to": "2024-10-30", "tz": "Europe/Paris"}


@pytest.fixture
def history(event_store, event_clock):
    record_history(event_clock)
    return event_store


@pytest.fixture
def auditor(client, django_user_model):
    user = django_user_model.objects.create_user("auditor", password="pw", is_staff=True)
    user.user_permissions.add(Permission.objects.get(codename="view_audit_trail"))
    client.force_login(user)
    return client


def download(client, table, **params):
    response = client.get(ANALYTICS, {**RANGE, **params, "download": table})
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response.streaming
    text = b"".join(response.streaming_content).decode("utf-8")
    return response, list(csv.reader(io.StringIO(text)))


def test_the_dashboard_shows_the_money_per_currency(auditor, history):
    response = auditor.get(ANALYTICS, {**RANGE, "interval": "week"})
    assert response.status_code == 200
    currencies = {c["code"]: c for c in response.context["money"]["currencies"]}
    assert list(currencies) == ["EUR", "JPY"]
    eur = currencies["EUR"]
    assert (eur["processed"], eur["refunded"], eur["net"]) == ("370.50", "30.00", "340.50")
    assert (eur["refund_rate"], eur["failure_rate"]) == ("8.10 %", "40.00 %")
    assert eur["chart"].rows == (("2024-W43", Decimal("120.00")), ("2024-W44", Decimal("250.50")))
    assert eur["chart"].partial == (True, True)
    assert currencies["JPY"]["net"] == "0"
    page = response.content.decode()
    assert 'id="money-summary"' in page and 'id="chart-money-EUR"' in page
    assert "2024-W44: 250.50 (partial)" in page
    assert response.context["money_api_url"] == (
        "/api/analytics/money/?from=2024-10-26&to=2024-10-30&tz=Europe%2FParis&interval=week"
    )


def test_the_summary_as_csv(auditor, history):
    response, rows = download(auditor, "summary", interval="week")
    assert response["Content-Disposition"] == (
        'attachment; filename="money-summary-2024-10-26-2024-10-30.csv"'
    )
    assert rows == [
        [
            "currency",
            "processed",
            "refunded",
            "net",
            "failed_amount",
            "payments",
            "refunds",
            "failures",
            "refund_rate",
            "failure_rate",
        ],
        ["EUR", "370.50", "30.00", "340.50", "30.00", "3", "1", "2", "0.0810", "0.4000"],
        ["JPY", "5000", "5000", "0", "999", "1", "1", "1", "1.0000", "0.5000"],
    ]


def test_the_volume_as_csv_has_iso_times_and_exact_amounts(auditor, history):
    _, rows = download(auditor, "volume", interval="day")
    assert rows[0] == [
        "currency",
        "bucket",
        "start",
        "partial",
        "processed",
        "refunded",
        "net",
        "payments",
        "refunds",
        "failures",
    ]
    assert rows[1:4] == [
        ["EUR", "2024-10-26", "2024-10-26T00:00:00+02:00", "false", "100.00", "0.00", "100.00"]
        + ["1", "0", "0"],
        ["EUR", "2024-10-27", "2024-10-27T00:00:00+02:00", "false", "20.00", "30.00", "-10.00"]
        + ["1", "1", "1"],
        ["EUR", "2024-10-28", "2024-10-28T00:00:00+01:00", "false", "250.50", "0.00", "250.50"]
        + ["1", "0", "1"],
    ]
    assert len(rows) == 1 + 2 * 5  # header, five days for each of EUR and JPY


def test_top_payments_and_organizations_as_csv(auditor, history):
    _, top = download(auditor, "top-payments", interval="week")
    assert top[0] == [
        "currency",
        "aggregate_id",
        "event_id",
        "timestamp",
        "organization_id",
        "amount",
        "refunded",
    ]
    assert [(row[1], row[3], row[5], row[6]) for row in top[1:]] == [
        ("p-4", "2024-10-28T00:00:00+01:00", "250.50", "0.00"),
        ("p-1", "2024-10-26T23:30:00+02:00", "100.00", "30.00"),
        ("p-3", "2024-10-27T02:35:00+01:00", "20.00", "0.00"),
        ("p-2", "2024-10-27T02:30:00+02:00", "5000", "5000"),
    ]
    _, organizations = download(auditor, "organizations", interval="week")
    assert organizations[1:] == [
        ["EUR", "globex", "250.50", "0.00", "250.50", "1", "0", "0"],
        ["EUR", "acme", "120.00", "30.00", "90.00", "2", "1", "2"],
        ["JPY", "globex", "5000", "5000", "0", "1", "1", "1"],
    ]


def test_a_reason_that_looks_like_a_formula_is_neutralised(auditor, history, event_clock):
    event_clock.set(utc(2024, 10, 29, 12))
    reason = '=HYPERLINK("http://evil.example","card")'
    PaymentCommandHandler().fail(
        FailPayment("p-9", "1.00", "EUR", "acme", reason), CommandContext(user_id="1")
    )
    _, rows = download(auditor, "failure-reasons", interval="week")
    assert rows[0] == ["currency", "reason", "failures", "amount"]
    assert ["EUR", "'" + reason, "1", "1.00"] in rows
    assert ["EUR", "card_declined", "2", "30.00"] in rows


def test_an_unknown_table_is_a_400(auditor, history):
    response = auditor.get(ANALYTICS, {**RANGE, "download": "passwords"})
    assert response.status_code == 400
    assert "download: choose one of summary, volume" in response.content.decode()
