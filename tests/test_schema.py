"""The published OpenAPI schema lists every endpoint and parameter; docs need no CDN."""

import pytest
from rest_framework.test import APIClient

from eventstore.queries.filters import EventFilterSet
from payments.api.filters import PaymentSummaryFilterSet

pytestmark = pytest.mark.django_db


@pytest.fixture
def schema(admin_user):
    client = APIClient()
    client.force_authenticate(admin_user)
    response = client.get("/api/schema/?format=json")
    assert response.status_code == 200
    return response.json()


def parameter_names(schema, path, method="get"):
    return {p["name"] for p in schema["paths"][path][method].get("parameters", [])}


def test_every_endpoint_is_published(schema):
    assert set(schema["paths"]) >= {
        "/api/payments/",
        "/api/payments/{payment_id}/",
        "/api/payments/{payment_id}/history/",
        "/api/payments/{payment_id}/replay/",
        "/api/payments/{payment_id}/refunds/",
        "/api/payments/{payment_id}/failed-attempts/",
        "/api/events/",
        "/api/correlations/{correlation_id}/timeline/",
        "/api/replay/by-type/",
        "/api/replay/by-correlation/{correlation_id}/",
        "/api/counts/",
        "/api/analytics/statistics/",
        "/api/analytics/trends/",
        "/api/auth/token/",
    }


def test_every_event_filter_is_a_parameter(schema):
    expected = set(EventFilterSet.base_filters) | {"cursor", "page_size"}
    assert expected == {
        "event_type",
        "aggregate_type",
        "aggregate_id",
        "correlation_id",
        "causation_id",
        "organization_id",
        "user_id",
        "search",
        "from",
        "to",
        "cursor",
        "page_size",
    }
    assert parameter_names(schema, "/api/events/") == expected


def test_every_payment_list_filter_is_a_parameter(schema):
    names = parameter_names(schema, "/api/payments/")
    assert set(PaymentSummaryFilterSet.base_filters) <= names
    assert {"cursor", "page_size"} <= names


def test_replay_parameters_are_published(schema):
    assert parameter_names(schema, "/api/payments/{payment_id}/replay/") >= {"version", "at"}
    assert parameter_names(schema, "/api/replay/by-type/") >= {"event_type", "from", "to"}
    assert "aggregate_id" in parameter_names(schema, "/api/counts/")
    analytics = {"event_type", "from", "to", "tz"}
    assert parameter_names(schema, "/api/analytics/statistics/") == analytics
    assert parameter_names(schema, "/api/analytics/trends/") == analytics | {"interval"}


def test_docs_page_uses_local_static_files(admin_client):
    page = admin_client.get("/api/docs/").content.decode()
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/" in page
    assert "cdn" not in page.lower()
