"""``GET /api/`` lists the endpoints; ``POST /api/auth/token/`` is throttled per address."""

import pytest
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db


def test_eleven_wrong_passwords_in_a_row_the_eleventh_is_429_with_retry_after(
    django_user_model,
):
    django_user_model.objects.create_user("alice", password="pw-alice")
    client = APIClient()
    statuses = [
        client.post("/api/auth/token/", {"username": "alice", "password": f"guess-{n}"}).status_code
        for n in range(11)
    ]
    assert statuses == [400] * 10 + [429]
    response = client.post("/api/auth/token/", {"username": "alice", "password": "pw-alice"})
    assert response.status_code == 429  # even the right password waits
    assert 0 < int(response["Retry-After"]) <= 60
    assert response.json()["code"] == "throttled"


def test_the_limit_is_per_address_and_a_spoofed_forwarded_for_does_not_lift_it(
    django_user_model,
):
    django_user_model.objects.create_user("alice", password="pw-alice")
    client = APIClient()
    for n in range(10):
        client.post(
            "/api/auth/token/",
            {"username": "alice", "password": "x"},
            HTTP_X_FORWARDED_FOR=f"10.0.0.{n}",
        )
    spoofed = client.post(
        "/api/auth/token/",
        {"username": "alice", "password": "pw-alice"},
        HTTP_X_FORWARDED_FOR="10.9.9.9",
    )
    assert spoofed.status_code == 429
    other = client.post(
        "/api/auth/token/", {"username": "alice", "password": "pw-alice"}, REMOTE_ADDR="10.1.1.1"
    )
    assert other.status_code == 200


def test_the_rate_is_a_setting(django_user_model, settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"auth_token": "2/min"},
    }
    client = APIClient()
    statuses = [
        client.post("/api/auth/token/", {"username": "a", "password": "b"}).status_code
        for _ in range(3)
    ]
    assert statuses == [400, 400, 429]


def test_the_api_root_lists_the_endpoints_with_links():
    response = APIClient().get("/api/")
    assert response.status_code == 200
    links = response.json()["links"]
    assert links["payments"] == "http://testserver/api/payments/"
    assert links["payment"] == "http://testserver/api/payments/{payment_id}/"
    assert links["schema"] == "http://testserver/api/schema/"
    assert links["analytics_trends"] == "http://testserver/api/analytics/trends/"


def test_every_published_endpoint_is_in_the_root_and_the_root_is_published(admin_user):
    client = APIClient()
    client.force_authenticate(admin_user)
    schema = client.get("/api/schema/?format=json").json()
    assert schema["paths"]["/api/"]["get"]["operationId"] == "api_root"
    links = client.get("/api/").json()["links"].values()
    published = {link.removeprefix("http://testserver") for link in links}
    assert set(schema["paths"]) - {"/api/"} <= published


def test_operation_ids_are_unique(admin_user):
    client = APIClient()
    client.force_authenticate(admin_user)
    schema = client.get("/api/schema/?format=json").json()
    ids = [op["operationId"] for ops in schema["paths"].values() for op in ops.values()]
    assert len(ids) == len(set(ids))
    assert not [i for i in ids if i[-2:-1] == "_" and i[-1].isdigit()]
