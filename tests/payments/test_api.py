"""The payments REST API over HTTP: status codes, bodies, scoping, correlation header."""

import uuid

import pytest
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from payments.models import Organization

pytestmark = pytest.mark.django_db


@pytest.fixture
def alice(django_user_model):
    user = django_user_model.objects.create_user("alice", password="pw-alice")
    Organization.objects.create(slug="acme", name="Acme").members.add(user)
    Organization.objects.create(slug="globex", name="Globex")
    return user


@pytest.fixture
def api(alice, event_store):
    client = APIClient()
    client.force_authenticate(alice)
    return client


def create(api, **body):
    payload = {"amount": "100.00", "currency": "EUR", "organization_id": "acme", **body}
    return api.post("/api/payments/", payload, format="json")


def test_process_returns_201_with_state(api):
    response = create(api, payment_id="payment-123")
    assert response.status_code == 201
    assert response.json() == {
        "payment_id": "payment-123",
        "status": "processed",
        "amount": "100.00",
        "currency": "EUR",
        "refunded_amount": "0.00",
        "organization_id": "acme",
        "failure_reason": None,
        "version": 1,
    }
    assert response["Location"] == "/api/payments/payment-123/"


def test_a_payment_id_is_generated_when_absent(api):
    response = create(api)
    assert response.status_code == 201
    assert uuid.UUID(response.json()["payment_id"])


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"amount": "10.0001"}, "amount"),
        ({"amount": 10.5}, "amount"),
        ({"amount": "-1"}, "amount"),
        ({"amount": "abc"}, "amount"),
        ({"amount": "0"}, "amount"),
        ({"currency": "XYZ"}, "currency"),
        ({"currency": "EURO"}, "currency"),
        ({"payment_id": "bad id!"}, "payment_id"),
        ({"payment_id": "x" * 65}, "payment_id"),
        ({"organization_id": ""}, "organization_id"),
    ],
)
def test_bad_input_is_400_with_a_field_message(api, event_store, body, field):
    response = create(api, **body)
    assert response.status_code == 400
    assert field in response.json()
    assert event_store.count() == 0


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"amount": "10.001"}, "EUR amounts have at most 2 decimal place(s) (ISO 4217)."),
        (
            {"currency": "JPY", "amount": "100.5"},
            "JPY amounts have at most 0 decimal place(s) (ISO 4217).",
        ),
        (
            {"amount": "999999999999.999"},
            "The amount must not exceed 999999999999.99 EUR.",
        ),
    ],
)
def test_an_amount_beyond_its_currencys_decimals_is_422(api, event_store, body, message):
    # Every field fits the schema (KWD takes three decimals): the rule is across fields.
    response = create(api, **body)
    assert response.status_code == 422
    assert response.json() == {"amount": [message]}
    assert event_store.count() == 0


def test_missing_fields_and_non_json_bodies_are_400(api):
    assert api.post("/api/payments/", {}, format="json").status_code == 400
    response = api.post("/api/payments/", "not json", content_type="application/json")
    assert response.status_code == 400
    response = api.post("/api/payments/", ["a", "list"], format="json")
    assert response.status_code == 400


def test_processing_twice_is_409(api):
    assert create(api, payment_id="p-1").status_code == 201
    response = create(api, payment_id="p-1")
    assert response.status_code == 409
    assert response.json()["code"] == "already_processed"


def test_refunds_partial_full_and_too_much(api):
    create(api, payment_id="p-1")
    response = api.post("/api/payments/p-1/refunds/", {"amount": "30.00"}, format="json")
    assert response.status_code == 201
    assert response.json()["refunded_amount"] == "30.00"
    assert response.json()["status"] == "partially_refunded"
    response = api.post("/api/payments/p-1/refunds/", {"amount": "70.01"}, format="json")
    assert response.status_code == 409
    assert response.json()["code"] == "refund_exceeds_remaining"
    response = api.post("/api/payments/p-1/refunds/", {"amount": "70"}, format="json")
    assert response.json()["status"] == "refunded"
    assert (
        api.post("/api/payments/nope/refunds/", {"amount": "1"}, format="json").status_code == 404
    )


def test_failed_attempt_then_no_refund(api):
    response = api.post(
        "/api/payments/p-2/failed-attempts/",
        {
            "amount": "25.00",
            "currency": "EUR",
            "organization_id": "acme",
            "reason": "card_declined",
        },
        format="json",
    )
    assert response.status_code == 201
    assert response.json()["status"] == "failed"
    assert response.json()["failure_reason"] == "card_declined"
    response = api.post("/api/payments/p-2/refunds/", {"amount": "1.00"}, format="json")
    assert response.status_code == 409
    assert response.json()["code"] == "not_refundable"


def test_state_history_and_replay(api):
    create(api, payment_id="p-1")
    api.post("/api/payments/p-1/refunds/", {"amount": "40.00"}, format="json")
    assert api.get("/api/payments/p-1/").json()["refunded_amount"] == "40.00"
    history = api.get("/api/payments/p-1/history/").json()
    assert history["count"] == 2
    assert [e["event_type"] for e in history["events"]] == ["PaymentProcessed", "PaymentRefunded"]
    assert [e["version"] for e in history["events"]] == [1, 2]
    assert history["events"][1]["data"]["amount"] == "40.00"
    replay = api.get("/api/payments/p-1/replay/?version=1").json()
    assert (replay["version"], replay["refunded_amount"], replay["status"]) == (
        1,
        "0.00",
        "processed",
    )
    for bad in ("0", "x", "-1", ""):
        assert api.get(f"/api/payments/p-1/replay/?version={bad}").status_code in (400,)
    # A version the payment does not have (yet): well-formed, a rule on stored data.
    beyond = api.get("/api/payments/p-1/replay/?version=3")
    assert beyond.status_code == 422
    assert beyond.json() == {"version": ["Payment 'p-1' has 2 version(s); 3 does not exist."]}


def test_unknown_payment_is_404(api):
    for url in (
        "/api/payments/nope/",
        "/api/payments/nope/history/",
        "/api/payments/nope/replay/?version=1",
    ):
        assert api.get(url).status_code == 404


def test_other_organizations_payments_are_404_and_commands_403(api, django_user_model):
    bob = django_user_model.objects.create_user("bob")
    Organization.objects.get(slug="globex").members.add(bob)
    other = APIClient()
    other.force_authenticate(bob)
    assert create(other, payment_id="g-1", organization_id="globex").status_code == 201
    for url in (
        "/api/payments/g-1/",
        "/api/payments/g-1/history/",
        "/api/payments/g-1/replay/?version=1",
    ):
        assert api.get(url).status_code == 404
    assert api.post("/api/payments/g-1/refunds/", {"amount": "1"}, format="json").status_code == 404
    assert create(api, organization_id="globex").status_code == 403
    events = api.get("/api/events/").json()["results"]
    assert events == []


def test_anonymous_requests_are_refused_with_401(event_store):
    client = APIClient()
    response = client.get("/api/events/")
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"
    assert client.post("/api/payments/", {}, format="json").status_code == 401
    client.credentials(HTTP_AUTHORIZATION="Token not-a-real-token")
    assert client.get("/api/events/").status_code == 401


def test_token_authentication_records_the_token_user(alice, event_store):
    token = Token.objects.create(user=alice)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    assert create(client, payment_id="t-1").status_code == 201
    event = event_store.read_aggregate("t-1")[0]
    assert event.metadata["user_id"] == str(alice.pk)
    assert event.metadata["username"] == "alice"


def test_correlation_header_round_trip(api, event_store):
    response = api.post(
        "/api/payments/",
        {"payment_id": "c-1", "amount": "1.00", "currency": "EUR", "organization_id": "acme"},
        format="json",
        HTTP_X_CORRELATION_ID="checkout-42",
    )
    assert response["X-Correlation-ID"] == "checkout-42"
    assert event_store.read_aggregate("c-1")[0].correlation_id == "checkout-42"
    bad = api.get("/api/payments/c-1/", HTTP_X_CORRELATION_ID="bad id with spaces")
    assert bad["X-Correlation-ID"] != "bad id with spaces"
    assert uuid.UUID(bad["X-Correlation-ID"])
    timeline = api.get("/api/correlations/checkout-42/timeline/").json()
    assert timeline["count"] == 1
    assert timeline["events"][0]["aggregate_id"] == "c-1"
    assert api.get("/api/correlations/unknown/timeline/").status_code == 404


def test_concurrency_conflict_is_409(api, event_store, monkeypatch):
    create(api, payment_id="p-1")
    from eventstore.backends.memory import InMemoryEventStore

    original = InMemoryEventStore.read_aggregate

    def stale_then_write(self, aggregate_id, *args, **kwargs):
        events = original(self, aggregate_id, *args, **kwargs)
        monkeypatch.setattr(InMemoryEventStore, "read_aggregate", original)
        api.post(f"/api/payments/{aggregate_id}/refunds/", {"amount": "1.00"}, format="json")
        return events

    monkeypatch.setattr(InMemoryEventStore, "read_aggregate", stale_then_write)
    response = api.post("/api/payments/p-1/refunds/", {"amount": "2.00"}, format="json")
    assert response.status_code == 409
    body = response.json()
    assert (body["aggregate_id"], body["expected_version"], body["actual_version"]) == (
        "p-1",
        1,
        2,
    )
    assert event_store.aggregate_version("p-1") == 2


def test_event_search_filters_and_validation(api, settings):
    settings.TIME_ZONE = "Europe/Paris"
    create(api, payment_id="p-1")
    create(api, payment_id="p-2", currency="USD")
    api.post("/api/payments/p-1/refunds/", {"amount": "5.00"}, format="json")
    results = api.get("/api/events/?event_type=PaymentRefunded").json()["results"]
    assert [(e["aggregate_id"], e["event_type"]) for e in results] == [("p-1", "PaymentRefunded")]
    both = api.get("/api/events/?event_type=PaymentRefunded&event_type=PaymentProcessed").json()
    assert len(both["results"]) == 3
    assert len(api.get("/api/events/?aggregate_id=p-2").json()["results"]) == 1
    assert len(api.get("/api/events/?search=usd").json()["results"]) == 1
    for query, parameter in [
        ("event_type=NoSuchEvent", "event_type"),
        ("from=yesterday", "from"),
        ("from=2024-01-01T10:00:00", "from"),
        ("page_size=0", "page_size"),
        ("page_size=501", "page_size"),
        ("page_size=abc", "page_size"),
    ]:
        response = api.get(f"/api/events/?{query}")
        assert response.status_code == 400, query
        assert parameter in response.json(), query
    # Each bound is valid; "to" before "from" is a rule across them.
    response = api.get("/api/events/?from=2024-02-01&to=2024-01-01")
    assert response.status_code == 422
    assert response.json() == {"to": ["'to' must not be before 'from'."]}
    assert api.get("/api/events/?cursor=garbage").status_code == 404


def test_event_search_pages_by_cursor(api):
    for number in range(5):
        create(api, payment_id=f"p-{number}")
    page = api.get("/api/events/?page_size=2").json()
    seen = [e["aggregate_id"] for e in page["results"]]
    while page["next"]:
        page = api.get(page["next"]).json()
        seen += [e["aggregate_id"] for e in page["results"]]
    assert seen == ["p-0", "p-1", "p-2", "p-3", "p-4"]


def test_a_full_store_answers_507_and_keeps_serving_reads(api, settings):
    settings.EVENTSTORES = {
        "default": {
            "BACKEND": "eventstore.backends.memory.InMemoryEventStore",
            "OPTIONS": {"MAX_EVENTS": 1},
        }
    }
    assert create(api, payment_id="p-1").status_code == 201
    response = create(api, payment_id="p-2")
    assert response.status_code == 507
    assert response.json()["code"] == "event_store_full"
    assert "MAX_EVENTS is 1" in response.json()["detail"]
    assert api.get("/api/payments/p-1/").status_code == 200


# Failing inputs found by a fresh-user run (kept as regressions).


@pytest.mark.parametrize(
    "query",
    [
        "to=9999-12-31",
        "from=9999-12-31T23:59:59-01:00",
        "to=9999-12-31T23:59:59-01:00",
        "from=0001-01-01T00:00:00%2B01:00",
        "to=0001-01-01T00:00:00%2B14:00",
        "from=2026-W48",
        "from=20261129",
    ],
)
def test_out_of_range_or_non_calendar_dates_are_400(api, query):
    response = api.get(f"/api/events/?{query}")
    assert response.status_code == 400
    assert set(response.json()) <= {"from", "to"}


def test_deeply_nested_json_is_400(api, event_store):
    body = "[" * 3000 + "]" * 3000
    response = api.post("/api/payments/", body, content_type="application/json")
    assert response.status_code == 400
    nested = '{"amount": ' + "[" * 3000 + "]" * 3000 + "}"
    create(api, payment_id="p-1")
    response = api.post("/api/payments/p-1/refunds/", nested, content_type="application/json")
    assert response.status_code == 400
    assert event_store.count() == 1


def test_refund_in_another_currency_is_422(api, event_store):
    create(api, payment_id="p-1")
    response = api.post(
        "/api/payments/p-1/refunds/", {"amount": "1.00", "currency": "USD"}, format="json"
    )
    assert response.status_code == 422
    assert response.json() == {"currency": ["Refunds of this payment are in EUR, not USD."]}
    ok = api.post(
        "/api/payments/p-1/refunds/", {"amount": "1.00", "currency": "eur"}, format="json"
    )
    assert ok.status_code == 201
    assert event_store.aggregate_version("p-1") == 2


def test_unknown_organizations_are_422_even_for_staff(event_store, admin_client):
    Organization.objects.create(slug="acme", name="Acme")
    response = admin_client.post(
        "/api/payments/",
        {"amount": "1.00", "currency": "EUR", "organization_id": "nope"},
        content_type="application/json",
    )
    # A well-formed slug no organization has: a rule on stored data, not the schema's.
    assert response.status_code == 422
    assert response.json() == {"organization_id": ["No organization 'nope'."]}
    assert event_store.count() == 0


def test_an_oversized_body_is_413_json(api, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    body = '{"amount": "1.00", "currency": "EUR", "organization_id": "' + "a" * 2000 + '"}'
    response = api.post("/api/payments/", body, content_type="application/json")
    assert response.status_code == 413
    assert response.json()["code"] == "request_too_large"


def test_non_ascii_digits_are_refused(api):
    create(api, payment_id="p-1")
    assert api.get("/api/payments/p-1/replay/?version=%EF%BC%91").status_code == 400
    assert api.get("/api/events/?page_size=%EF%BC%91").status_code == 400


def test_a_long_unknown_id_is_not_echoed_whole(api):
    response = api.get("/api/payments/" + "x" * 5000 + "/")
    assert response.status_code == 404
    assert len(response.json()["detail"]) < 120


def test_idempotency_key_replays_the_first_answer(api, event_store):
    body = {"amount": "5.00", "currency": "EUR", "organization_id": "acme"}
    headers = {"HTTP_IDEMPOTENCY_KEY": "order-77"}
    first = api.post("/api/payments/", body, format="json", **headers)
    again = api.post("/api/payments/", body, format="json", **headers)
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true"
    assert again["Location"] == first["Location"]
    assert event_store.count() == 1  # the generated payment id was not used twice
    other = api.post("/api/payments/", {**body, "amount": "6.00"}, format="json", **headers)
    assert other.status_code == 422
    assert other.json()["code"] == "idempotency_key_reused"
    refund = api.post(first["Location"] + "refunds/", {"amount": "1.00"}, format="json", **headers)
    assert refund.status_code == 422  # same key, other path
    bad = api.post("/api/payments/", body, format="json", HTTP_IDEMPOTENCY_KEY="a b")
    assert bad.status_code == 400
    assert event_store.count() == 1


def test_idempotency_keys_belong_to_their_user(api, django_user_model, event_store):
    body = {"amount": "5.00", "currency": "EUR", "organization_id": "acme"}
    assert (
        api.post("/api/payments/", body, format="json", HTTP_IDEMPOTENCY_KEY="k").status_code == 201
    )
    bob = django_user_model.objects.create_user("bob")
    Organization.objects.get(slug="acme").members.add(bob)
    other = APIClient()
    other.force_authenticate(bob)
    response = other.post("/api/payments/", body, format="json", HTTP_IDEMPOTENCY_KEY="k")
    assert response.status_code == 201
    assert "Idempotent-Replayed" not in response
    assert event_store.count() == 2


def test_a_refused_command_is_not_kept_for_its_key(api, event_store):
    headers = {"HTTP_IDEMPOTENCY_KEY": "retry-me"}
    create(api, payment_id="p-1")
    too_much = api.post("/api/payments/p-1/refunds/", {"amount": "500"}, format="json", **headers)
    assert too_much.status_code == 409
    again = api.post("/api/payments/p-1/refunds/", {"amount": "500"}, format="json", **headers)
    assert again.status_code == 409
    assert "Idempotent-Replayed" not in again


# Second fresh-user run (kept as regressions).


def test_unknown_api_urls_answer_json_404(api):
    for url in ("/api/nonexistent/", "/api/payments/a%2Fb/", "/api/events/..%2F..%2Fadmin/"):
        response = api.get(url)
        assert response.status_code == 404, url
        assert response["Content-Type"] == "application/json", url


def test_a_server_error_under_api_is_json(admin_user, monkeypatch):
    from payments.api import views

    client = APIClient(raise_request_exception=False)
    client.force_authenticate(admin_user)
    monkeypatch.setattr(views.PaymentQueries, "history", lambda *a: 1 / 0)
    response = client.get("/api/payments/p-1/history/")
    assert response.status_code == 500
    assert response.json()["code"] == "server_error"


@pytest.mark.parametrize(
    "cursor", ["cD1hYmM%3D", "cD0xLjU%3D", "cD0%3D", "cj0yJnA9YWJj", "not-base64"]
)
def test_bad_payment_list_cursors_are_404_json(api, cursor):
    response = api.get(f"/api/payments/?cursor={cursor}")
    assert response.status_code == 404
    assert response.json()["detail"] == "Invalid cursor"


def test_payment_list_page_size_is_checked_like_events(api):
    for size in ("0", "-1", "abc", "501"):
        assert api.get(f"/api/payments/?page_size={size}").status_code == 400, size
    assert api.get("/api/payments/?page_size=500").status_code == 200


@pytest.mark.parametrize(
    "url",
    [
        "/api/counts/?event_type=Nope",
        "/api/counts/?organization_id=acme",
        "/api/events/?organisation_id=acme",
        "/api/payments/?organisation=acme",
        "/api/payments/p-1/?verbose=1",
        "/api/analytics/statistics/?event_type=PaymentProcessed&from=2024-01-01&to=2024-01-02"
        "&organization_id=globex",
    ],
)
def test_unknown_query_parameters_are_400_not_ignored(api, url):
    create(api, payment_id="p-1")
    response = api.get(url)
    assert response.status_code == 400, url


@pytest.mark.parametrize(
    ("url", "body"),
    [
        (
            "/api/payments/?foo=1",
            {"amount": "100.00", "currency": "EUR", "organization_id": "acme"},
        ),
        ("/api/payments/p-1/refunds/?foo=1", {"amount": "1.00"}),
        (
            "/api/payments/p-2/failed-attempts/?foo=1",
            {"amount": "1.00", "currency": "EUR", "organization_id": "acme", "reason": "x"},
        ),
        ("/api/auth/token/?foo=1", {"username": "alice", "password": "pw-alice"}),
    ],
    ids=["create", "refund", "failed-attempt", "token"],
)
def test_unknown_query_parameters_of_commands_are_400_and_nothing_is_done(api, url, body):
    create(api, payment_id="p-1")
    response = api.post(url, body, format="json")
    assert response.status_code == 400, response.content
    assert list(response.json()) == ["foo"]
    assert api.get("/api/payments/p-1/").json()["refunded_amount"] == "0.00"
    assert api.get("/api/payments/p-2/").status_code == 404
    assert [p["payment_id"] for p in api.get("/api/payments/").json()["results"]] == ["p-1"]


@pytest.mark.parametrize(
    ("query", "field", "message"),
    [
        (
            "amount_min=10&amount_max=1",
            "amount_max",
            "'amount_max' must not be below 'amount_min'.",
        ),
        (
            "processed_from=2026-12-31&processed_to=2020-01-01",
            "processed_to",
            "'processed_to' must not be before 'processed_from'.",
        ),
    ],
)
def test_payment_list_ranges_upside_down_are_422_like_the_event_filters(api, query, field, message):
    create(api, payment_id="p-1")
    response = api.get(f"/api/payments/?{query}")
    assert response.status_code == 422, response.content
    assert response.json()[field] == [message]
    # Equal bounds are a range of one value, not upside down.
    assert api.get("/api/payments/?amount_min=100&amount_max=100").json()["results"]
    assert api.get("/api/payments/?amount_min=x").status_code == 400  # off the schema


def test_repeated_status_filters_or_together(api):
    create(api, payment_id="p-1")
    api.post(
        "/api/payments/p-2/failed-attempts/",
        {"amount": "1.00", "currency": "EUR", "organization_id": "acme", "reason": "x"},
        format="json",
    )
    rows = api.get("/api/payments/?status=processed&status=failed").json()["results"]
    assert sorted(row["payment_id"] for row in rows) == ["p-1", "p-2"]
    assert [row["failure_reason"] for row in rows if row["payment_id"] == "p-1"] == [None]


@pytest.mark.parametrize(
    "query",
    [
        "from=9999-12-01&to=9999-12-30&interval=month",
        "from=9999-12-01T00:00:00Z&to=9999-12-31T23:59:59Z&interval=day&tz=Etc/GMT-14",
        "from=0001-01-01T00:00:00Z&to=0001-01-03T00:00:00Z&interval=day&tz=Etc/GMT%2B12",
        "from=2024-01-01&to=2024-01-02&interval=day&tz=localtime",
        "from=2024-01-01&to=2024-01-02&interval=day&tz=Factory",
        "from=2024-01-01&to=9999-12-31&interval=month",
    ],
)
def test_analytics_at_the_calendars_edges_are_400(api, query):
    response = api.get(f"/api/analytics/trends/?event_type=PaymentProcessed&{query}")
    assert response.status_code == 400, query


def test_two_idempotency_keys_are_refused(api, event_store):
    body = {"amount": "1.00", "currency": "EUR", "organization_id": "acme"}
    response = api.post("/api/payments/", body, format="json", HTTP_IDEMPOTENCY_KEY="x, y")
    assert response.status_code == 400
    assert event_store.count() == 0


@pytest.mark.parametrize(
    "url", ["/api/events/?format=xml", "/api/counts/?format=csv", "/api/payments/nope/x/"]
)
def test_every_404_carries_a_code_like_the_others(api, url):
    # DRF answers an unknown ?format= (and Django's Http404) with NotFound; the body keeps
    # the API's shape: detail and code.
    response = api.get(url)
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
