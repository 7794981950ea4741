"""GET /api/analytics/money/: the money analytics as a member (scoped) and as staff.

Figures: the history tabulated in tests/payments/test_money_analytics.py.
"""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from payments.models import Organization

from .money_history import record_history

pytestmark = pytest.mark.django_db

URL = "/api/analytics/money/"
RANGE = "from=2024-10-26&to=2024-10-30&tz=Europe/Paris"


@pytest.fixture
def history(event_store, event_clock):
    record_history(event_clock)
    return event_store


def client_for(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.fixture
def member(django_user_model, history):
    """alice, a member of acme only."""
    user = django_user_model.objects.create_user("alice")
    Organization.objects.create(slug="acme", name="Acme").members.add(user)
    Organization.objects.create(slug="globex", name="Globex")
    return client_for(user)


def currencies(response):
    assert response.status_code == 200, response.json()
    return {volume["currency"]: volume for volume in response.json()["currencies"]}


def test_staff_see_every_currency_and_organization(admin_user, history):
    body = currencies(client_for(admin_user).get(f"{URL}?{RANGE}&interval=week"))
    assert sorted(body) == ["EUR", "JPY"]
    eur, jpy = body["EUR"], body["JPY"]
    assert (eur["processed"], eur["refunded"], eur["net"], eur["failed_amount"]) == (
        "370.50",
        "30.00",
        "340.50",
        "30.00",
    )
    assert (eur["refund_rate"], eur["failure_rate"]) == ("0.0810", "0.4000")
    assert [(b["bucket"], b["partial"], b["net"]) for b in eur["buckets"]] == [
        ("2024-W43", True, "90.00"),
        ("2024-W44", True, "250.50"),
    ]
    assert [(o["organization_id"], o["processed"]) for o in eur["by_organization"]] == [
        ("globex", "250.50"),
        ("acme", "120.00"),
    ]
    assert (jpy["processed"], jpy["refunded"], jpy["net"], jpy["refund_rate"]) == (
        "5000",
        "5000",
        "0",
        "1.0000",
    )
    assert jpy["failure_reasons"] == [
        {"reason": "insufficient_funds", "failures": 1, "amount": "999"}
    ]


def test_a_member_sees_their_organizations_money_only(member):
    body = currencies(member.get(f"{URL}?{RANGE}&interval=week"))
    assert list(body) == ["EUR"]  # the JPY payment and failure were globex's
    eur = body["EUR"]
    assert (eur["processed"], eur["refunded"], eur["net"], eur["failures"]) == (
        "120.00",
        "30.00",
        "90.00",
        2,
    )
    assert [p["aggregate_id"] for p in eur["top_payments"]] == ["p-1", "p-3"]  # p-4 is globex's
    assert [o["organization_id"] for o in eur["by_organization"]] == ["acme"]


def test_a_user_of_no_organization_sees_nothing(django_user_model, history):
    nobody = client_for(django_user_model.objects.create_user("nobody"))
    assert currencies(nobody.get(f"{URL}?{RANGE}")) == {}


def test_defaults_day_interval_and_top(admin_user, history):
    response = client_for(admin_user).get(f"{URL}?{RANGE}&top=1")
    body = response.json()
    assert body["interval"] == "day"
    eur = currencies(response)["EUR"]
    assert [b["bucket"] for b in eur["buckets"]] == [f"2024-10-{day}" for day in range(26, 31)]
    assert [b["net"] for b in eur["buckets"]] == ["100.00", "-10.00", "250.50", "0.00", "0.00"]
    assert [p["aggregate_id"] for p in eur["top_payments"]] == ["p-4"]


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("from=2024-10-26", "to"),
        (f"{RANGE}&top=0", "top"),
        (f"{RANGE}&top=101", "top"),
        (f"{RANGE}&top=many", "top"),
        (f"{RANGE}&interval=fortnight", "interval"),
        ("from=2024-10-26&to=2024-10-30&tz=Mars/Olympus", "tz"),
        (f"{RANGE}&currency=EUR", "currency"),
    ],
)
def test_bad_parameters_are_a_400_naming_them(admin_user, history, query, field):
    response = client_for(admin_user).get(f"{URL}?{query}")
    assert response.status_code == 400
    assert field in str(response.json())


def test_rules_across_parameters_are_a_422(admin_user, history):
    client = client_for(admin_user)
    reversed_range = client.get(f"{URL}?from=2024-10-30&to=2024-10-26")
    assert reversed_range.status_code == 422 and "to" in reversed_range.json()
    # 20 years by hour: more than MAX_BUCKETS (10,000) buckets.
    too_many = client.get(f"{URL}?from=2004-01-01&to=2024-01-01&interval=hour")
    assert too_many.status_code == 422 and "10000" in str(too_many.json())


def test_anonymous_users_are_refused(history):
    assert APIClient().get(f"{URL}?{RANGE}").status_code in (401, 403)


def test_the_schema_documents_the_parameters_and_their_bounds(admin_user):
    schema = client_for(admin_user).get("/api/schema/?format=json").json()
    operation = schema["paths"]["/api/analytics/money/"]["get"]
    parameters = {p["name"]: p for p in operation["parameters"]}
    assert {"from", "to", "tz", "interval", "top"} <= set(parameters)
    assert parameters["from"]["required"] and parameters["to"]["required"]
    assert parameters["top"]["schema"]["minimum"] == 1
    assert parameters["top"]["schema"]["maximum"] == 100
    assert sorted(parameters["interval"]["schema"]["enum"]) == ["day", "hour", "month", "week"]
    assert "200" in operation["responses"] and "400" in operation["responses"]
