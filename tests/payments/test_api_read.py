"""Read endpoints: the payments list (read model), replay at a time, replay by type and
correlation, counts; each scoped to the user's organizations."""

import io
from datetime import UTC, datetime, timedelta

import pytest
from django.core.management import call_command
from rest_framework.test import APIClient

from payments.commands import (
    CommandContext,
    FailPayment,
    PaymentCommandHandler,
    ProcessPayment,
    RefundPayment,
)
from payments.models import Organization, PaymentSummary

pytestmark = pytest.mark.django_db

T0 = datetime(2024, 5, 1, 9, 0, tzinfo=UTC)


@pytest.fixture
def history(event_store, event_clock):
    """acme: p-1 EUR 100 (refunded 30 on day 1), p-2 JPY 5000, p-3 failed; globex: g-1 USD 20."""
    handler = PaymentCommandHandler()
    event_clock.set(T0)
    context = CommandContext(user_id="1", username="alice", correlation_id="corr-1")
    handler.process(ProcessPayment("p-1", "100.00", "EUR", "acme"), context)
    event_clock.set(T0 + timedelta(days=1))
    handler.refund(RefundPayment("p-1", "30.00", refund_id="r-1"), context)
    event_clock.set(T0 + timedelta(days=2))
    handler.process(ProcessPayment("p-2", "5000", "JPY", "acme"), CommandContext(user_id="1"))
    handler.fail(FailPayment("p-3", "9.99", "EUR", "acme", "card_declined"), CommandContext())
    handler.process(ProcessPayment("g-1", "20.00", "USD", "globex"), CommandContext(user_id="2"))
    return event_store


@pytest.fixture
def api(django_user_model, history):
    user = django_user_model.objects.create_user("alice")
    Organization.objects.create(slug="acme", name="Acme").members.add(user)
    Organization.objects.create(slug="globex", name="Globex")
    client = APIClient()
    client.force_authenticate(user)
    return client


def ids(response):
    assert response.status_code == 200, response.json()
    return [row["payment_id"] for row in response.json()["results"]]


def test_the_list_comes_from_the_read_model_newest_first_and_scoped(api):
    assert PaymentSummary.objects.count() == 4
    response = api.get("/api/payments/")
    assert ids(response) == ["p-3", "p-2", "p-1"]
    first = response.json()["results"][2]
    assert (first["amount"], first["refunded_amount"], first["status"]) == (
        "100.00",
        "30.00",
        "partially_refunded",
    )
    assert response.json()["results"][1]["amount"] == "5000"


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("status=failed", ["p-3"]),
        ("currency=eur", ["p-3", "p-1"]),
        ("organization_id=globex", []),
        ("processed_from=2024-05-03", ["p-2"]),
        ("processed_to=2024-05-01", ["p-1"]),
        ("amount_min=100&amount_max=5000", ["p-2", "p-1"]),
        ("amount_max=9.99", ["p-3"]),
    ],
)
def test_list_filters(api, query, expected):
    assert ids(api.get(f"/api/payments/?{query}")) == expected


def test_list_filter_errors_are_400(api):
    for query in ("status=lost", "processed_from=soon", "amount_min=abc"):
        assert api.get(f"/api/payments/?{query}").status_code == 400, query


def test_rebuild_reports_the_position_reached(api, history):
    PaymentSummary.objects.all().delete()
    out, err = io.StringIO(), io.StringIO()
    call_command("rebuild_projections", stdout=out, stderr=err)
    assert "caught up at position 5" in out.getvalue()
    assert "5/5" in err.getvalue()  # the progress bar
    assert PaymentSummary.objects.get(payment_id="p-1").refunded_amount == 30


def test_replay_at_a_time(api):
    before_refund = api.get("/api/payments/p-1/replay/?at=2024-05-01T12:00:00Z").json()
    assert (before_refund["version"], before_refund["refunded_amount"]) == (1, "0.00")
    at_refund = api.get("/api/payments/p-1/replay/?at=2024-05-02T09:00:00%2B00:00").json()
    assert at_refund["refunded_amount"] == "30.00"  # inclusive
    whole_day = api.get("/api/payments/p-1/replay/?at=2024-05-01").json()
    assert whole_day["version"] == 1
    too_early = api.get("/api/payments/p-1/replay/?at=2024-04-30T00:00:00Z")
    assert too_early.status_code == 404
    assert too_early.json()["detail"].startswith(
        "Payment 'p-1' did not exist yet then (its first event is at 2024-05-01T"
    )
    assert api.get("/api/payments/p-1/replay/?at=noon").status_code == 400
    # Each is optional in the schema; exactly one of them is a rule across them (422).
    assert api.get("/api/payments/p-1/replay/").status_code == 422
    both = api.get("/api/payments/p-1/replay/?at=2024-05-01&version=1")
    assert both.status_code == 422
    assert both.json() == {"version": ["Give either version or at."]}
    assert api.get("/api/payments/g-1/replay/?at=2024-05-09").status_code == 404


def test_replay_by_type(api):
    response = api.get(
        "/api/replay/by-type/?event_type=PaymentProcessed&from=2024-05-01&to=2024-05-03"
    )
    assert [e["aggregate_id"] for e in response.json()["results"]] == ["p-1", "p-2"]
    assert api.get("/api/replay/by-type/").status_code == 400
    assert api.get("/api/replay/by-type/?event_type=Nope").status_code == 400


def test_replay_by_correlation(api):
    response = api.get("/api/replay/by-correlation/corr-1/")
    assert [e["event_type"] for e in response.json()["events"]] == [
        "PaymentProcessed",
        "PaymentRefunded",
    ]
    assert api.get("/api/replay/by-correlation/nope/").status_code == 404


def test_counts_are_scoped(api):
    assert api.get("/api/counts/").json() == {
        "total": 4,
        "by_event_type": {"PaymentFailed": 1, "PaymentProcessed": 2, "PaymentRefunded": 1},
    }
    assert api.get("/api/counts/?aggregate_id=p-1").json() == {"aggregate_id": "p-1", "count": 2}
    assert api.get("/api/counts/?aggregate_id=g-1").json()["count"] == 0


def test_no_endpoint_shows_another_organizations_data(api, history):
    """alice (acme) asks every read endpoint about globex's payment g-1 and its events."""
    g1 = history.read_aggregate("g-1")[0]
    not_found = [
        "/api/payments/g-1/",
        "/api/payments/g-1/history/",
        "/api/payments/g-1/replay/?version=1",
        "/api/payments/g-1/replay/?at=2030-01-01",
        f"/api/events/{g1.event_id}/",
        f"/api/correlations/{g1.correlation_id}/timeline/",
        f"/api/replay/by-correlation/{g1.correlation_id}/",
    ]
    for url in not_found:
        assert api.get(url).status_code == 404, url
    empty_lists = [
        "/api/events/?aggregate_id=g-1",
        "/api/events/?organization_id=globex",
        f"/api/events/?correlation_id={g1.correlation_id}",
        "/api/replay/by-type/?event_type=PaymentProcessed",
    ]
    for url in empty_lists:
        assert "g-1" not in [e["aggregate_id"] for e in api.get(url).json()["results"]], url
    assert "g-1" not in ids(api.get("/api/payments/?organization_id=globex"))
    assert api.get("/api/counts/?aggregate_id=g-1").json()["count"] == 0
    stats = api.get(
        "/api/analytics/statistics/?event_type=PaymentProcessed&from=2024-01-01&to=2030-01-01"
    ).json()
    assert "globex" not in stats["by_organization"]
    assert api.post("/api/payments/g-1/refunds/", {"amount": "1"}, format="json").status_code == 404
