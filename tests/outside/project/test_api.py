"""The event API as JSON, with only the app's documented settings."""

import pytest
from django.utils import timezone
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from eventstore import eventstores
from eventstore.exceptions import InvalidQueryError


def client_for(user):
    client = APIClient()
    token, _ = Token.objects.get_or_create(user=user)
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client


@pytest.fixture
def api(admin_user):
    return client_for(admin_user)


def test_anonymous_requests_get_401_with_a_challenge(orders):
    response = APIClient().get("/api/events/")
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"
    assert response.json()["code"] == "not_authenticated"


def test_events_list_and_detail(api, orders):
    response = api.get("/api/events/?aggregate_id=order-1")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert [e["event_type"] for e in body["results"]] == ["OrderPlaced", "OrderShipped"]
    assert body["results"][0]["data"] == {"total": "42.50", "currency": "EUR"}
    event_id = body["results"][1]["event_id"]
    detail = api.get(f"/api/events/{event_id}/").json()
    assert detail["data"] == {"carrier": "DHL"}
    assert api.get("/api/events/no-such-id/").json() == {
        "detail": "Unknown event id.",
        "code": "not_found",
    }


def test_timelines_replays_counts_and_analytics(api, orders):
    timeline = api.get("/api/correlations/checkout-1/timeline/").json()
    assert [(e["event_type"], e["depth"]) for e in timeline["events"]] == [
        ("OrderPlaced", 0),
        ("OrderShipped", 1),
    ]
    assert api.get("/api/replay/by-correlation/checkout-2/").status_code == 200
    by_type = api.get("/api/replay/by-type/?event_type=OrderShipped").json()
    assert [e["aggregate_id"] for e in by_type["results"]] == ["order-1", "order-2"]
    counts = api.get("/api/counts/").json()
    assert counts["total"] == 4
    assert counts["by_event_type"] == {"OrderPlaced": 2, "OrderShipped": 2}
    today = timezone.localdate().isoformat()  # in TIME_ZONE, as the API's date-only bounds
    statistics = api.get(
        f"/api/analytics/statistics/?event_type=OrderPlaced&from={today}&to={today}"
    )
    assert statistics.json()["total"] == 2
    assert statistics.json()["by_organization"] == {"acme": 1, "globex": 1}
    trends = api.get(
        f"/api/analytics/trends/?event_type=OrderShipped&from={today}&to={today}&interval=day"
    ).json()
    assert trends["time_zone"] == "Europe/Paris"
    assert [bucket["count"] for bucket in trends["buckets"]] == [2]


def test_an_unknown_parameter_is_a_400(api, orders):
    response = api.get("/api/events/?organisation_id=acme")
    assert response.status_code == 400
    assert "organisation_id" in response.json()


def test_users_see_their_organizations_events_only(member, orders):
    body = client_for(member).get("/api/events/").json()
    assert {e["metadata"]["organization_id"] for e in body["results"]} == {"acme"}
    assert client_for(member).get("/api/correlations/checkout-2/timeline/").status_code == 404


def test_store_errors_are_4xx_without_an_exception_handler_setting(api, orders, monkeypatch):
    def refuse(*args, **kwargs):
        raise InvalidQueryError("refused")

    monkeypatch.setattr(eventstores["default"], "search", refuse)
    response = api.get("/api/correlations/checkout-1/timeline/")
    assert response.status_code == 400
    assert response.json() == {"detail": "refused", "code": "invalid"}
