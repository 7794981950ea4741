"""The published OpenAPI schema lists every endpoint and parameter; docs need no CDN."""

import re

import pytest
from rest_framework.test import APIClient

from eventstore.events import registry
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
        "/api/events/{event_id}/",
        "/api/correlations/{correlation_id}/timeline/",
        "/api/replay/by-type/",
        "/api/replay/by-correlation/{correlation_id}/",
        "/api/counts/",
        "/api/analytics/statistics/",
        "/api/analytics/trends/",
        "/api/auth/token/",
    }


def test_the_event_detail_publishes_the_chain_hash(schema):
    answer = schema["paths"]["/api/events/{event_id}/"]["get"]["responses"]["200"]
    reference = answer["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[-1]
    properties = schema["components"]["schemas"][reference]["properties"]
    assert properties["hash"]["type"] == "string"
    assert properties["hash"]["pattern"] == "^[0-9a-f]{64}$"
    assert set(properties) - {"hash"} == set(
        schema["components"]["schemas"]["EventSchema"]["properties"]
    )
    assert (
        "hash" not in schema["components"]["schemas"]["EventSchema"]["properties"]
    )  # lists: no hash


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
    assert parameter_names(schema, "/api/events/") == expected | {"format"}  # json or csv


def test_the_event_list_documents_its_csv_answer(schema):
    operation = schema["paths"]["/api/events/"]["get"]
    ok = operation["responses"]["200"]["content"]
    assert set(ok) == {"application/json", "text/csv"}
    assert ok["text/csv"]["schema"] == {"type": "string"}
    description = operation["responses"]["200"]["description"]
    assert 'rel="next"' in description and "CSV Injection" in description
    assert set(operation["responses"]["400"]["content"]) == {"application/json"}
    (fmt,) = [p for p in operation["parameters"] if p["name"] == "format"]
    assert fmt["schema"]["enum"] == ["csv", "json"]  # spectacular sorts enums


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


# -- the schema declares what the server enforces (issue 13: eleven ways it did not) ------


def parameter(schema, path, name, method="get"):
    (found,) = [p for p in schema["paths"][path][method]["parameters"] if p["name"] == name]
    return found["schema"]


def body(schema, path, name=None):
    content = schema["paths"][path]["post"]["requestBody"]["content"]["application/json"]
    reference = content["schema"]["$ref"].split("/")[-1]
    properties = schema["components"]["schemas"][reference]["properties"]
    return properties if name is None else properties[name]


@pytest.mark.parametrize("path", ["/api/events/", "/api/replay/by-type/", "/api/payments/"])
def test_page_sizes_are_bounded(schema, path):
    assert parameter(schema, path, "page_size") == {"type": "integer", "minimum": 1, "maximum": 500}


def test_versions_start_at_one(schema):
    version = parameter(schema, "/api/payments/{payment_id}/replay/", "version")
    assert (version["type"], version["minimum"], version["maximum"]) == ("integer", 1, 2**63 - 1)


@pytest.mark.parametrize(
    "path",
    [
        "/api/events/",
        "/api/replay/by-type/",
        "/api/analytics/statistics/",
        "/api/analytics/trends/",
    ],
)
def test_event_types_are_an_enum(schema, path):
    event_type = parameter(schema, path, "event_type")
    names = event_type["items"]["enum"]
    # Registered names (other tests may have registered more before the views were imported).
    assert {"PaymentFailed", "PaymentProcessed", "PaymentRefunded"} <= set(names)
    assert set(names) <= set(registry.searchable_names())
    if path != "/api/events/":  # required there: at least one
        assert event_type["minItems"] == 1


def test_counts_aggregate_id_is_not_empty_nor_nul(schema, admin_client):
    assert admin_client.get("/api/counts/?aggregate_id=a%00b").status_code == 400
    assert parameter(schema, "/api/counts/", "aggregate_id") == {
        "type": "string",
        "minLength": 1,
        "maxLength": 255,
        "pattern": "^[^\\x00]*$",
    }


@pytest.mark.parametrize(
    "path", ["/api/payments/", "/api/payments/{payment_id}/refunds/"], ids=["create", "refund"]
)
def test_idempotency_keys_have_their_pattern_and_length(schema, path):
    key = parameter(schema, path, "Idempotency-Key", method="post")
    assert (key["minLength"], key["maxLength"]) == (1, 255)
    assert re.fullmatch(key["pattern"], "retry-1")
    assert not re.fullmatch(key["pattern"], "a, b")
    assert not re.fullmatch(key["pattern"], "two words")


def test_payment_ids_and_correlation_ids_are_whole_patterns(schema):
    payment_id = parameter(schema, "/api/payments/{payment_id}/", "payment_id")
    correlation_id = parameter(
        schema, "/api/correlations/{correlation_id}/timeline/", "correlation_id"
    )
    for pattern, good, bad in [
        (payment_id["pattern"], "p-1", "p 1"),
        (correlation_id["pattern"], "checkout-42", "-checkout"),
        (body(schema, "/api/payments/", "payment_id")["pattern"], "p_1", "p!1"),
    ]:
        assert re.search(pattern, good)
        assert not re.search(pattern, bad)  # JSON Schema patterns search: anchored


def test_amounts_currencies_and_time_zones_are_declared(schema):
    amount = body(schema, "/api/payments/", "amount")["pattern"]
    assert all(re.fullmatch(amount, a) for a in ("1", "100.00", "0.001", "999999999999.999"))
    assert not any(re.fullmatch(amount, a) for a in ("0", "0.000", "-1", "1.0001", "1" * 13))
    currencies = schema["components"]["schemas"]["CurrencyEnum"]["enum"]
    assert {"EUR", "JPY", "KWD"} <= set(currencies)
    assert "XXX" not in currencies
    assert "Europe/Paris" in parameter(schema, "/api/analytics/statistics/", "tz")["enum"]
    reason = body(schema, "/api/payments/{payment_id}/failed-attempts/", "reason")["pattern"]
    assert re.fullmatch(reason, " declined ")
    assert not re.fullmatch(reason, "   ")


@pytest.mark.parametrize(
    ("path", "name"),
    [
        ("/api/events/", "from"),
        ("/api/events/", "to"),
        ("/api/payments/", "processed_from"),
        ("/api/payments/{payment_id}/replay/", "at"),
        ("/api/analytics/trends/", "to"),
    ],
)
def test_time_bounds_are_iso_8601_with_real_dates(schema, path, name):
    pattern = parameter(schema, path, name)["pattern"]
    for good in ("2024-02-29", "2024-01-31T10:00:00+01:00", "2024-01-31 10:00Z"):
        assert re.fullmatch(pattern, good), good
    for bad in ("2023-02-29", "2024-04-31", "2024-01-31T10:00:00", "yesterday", "9999-12-31"):
        assert not re.fullmatch(pattern, bad), bad
