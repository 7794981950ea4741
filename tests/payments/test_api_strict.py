"""Request bodies: a field an endpoint does not read is a 400 naming it, on every endpoint.

The endpoints are taken from the published schema (every operation with a request
body), so a new command endpoint is covered without being listed here.
"""

import pytest
from rest_framework.test import APIClient

from payments.models import Organization

pytestmark = pytest.mark.django_db

#: A body each operation accepts, so that only the extra field can be refused.
VALID_BODIES = {
    "/api/auth/token/": {"username": "alice", "password": "pw-alice"},
    "/api/payments/": {"amount": "10.00", "currency": "EUR", "organization_id": "acme"},
    "/api/payments/{payment_id}/refunds/": {"amount": "1.00"},
    "/api/payments/{payment_id}/failed-attempts/": {
        "amount": "10.00",
        "currency": "EUR",
        "organization_id": "acme",
        "reason": "card_declined",
    },
}


@pytest.fixture
def alice(django_user_model):
    user = django_user_model.objects.create_user("alice", password="pw-alice")
    Organization.objects.create(slug="acme", name="Acme").members.add(user)
    return user


@pytest.fixture
def api(alice, event_store):
    client = APIClient()
    client.force_authenticate(alice)
    return client


@pytest.fixture
def schema(api):
    return api.get("/api/schema/?format=json").json()


def body_operations(schema):
    return [
        (path, method)
        for path, operations in schema["paths"].items()
        for method, operation in operations.items()
        if "requestBody" in operation
    ]


def test_every_body_operation_is_checked_here(schema):
    assert {path for path, _method in body_operations(schema)} == set(VALID_BODIES)


@pytest.mark.parametrize("media", ["json", "multipart"])
def test_unknown_body_fields_are_400_naming_them_on_every_endpoint(api, schema, media):
    api.post("/api/payments/", {**VALID_BODIES["/api/payments/"], "payment_id": "p-1"}, "json")
    for path, method in body_operations(schema):
        # Refunds go to the processed payment, failed attempts to a new id.
        url = path.replace("{payment_id}", "p-1" if "refunds" in path else f"f-{media}")
        body = {**VALID_BODIES[path], "pad": "x" * 1000, "refundid": "r-1"}
        response = getattr(api, method)(url, body, format=media)
        assert response.status_code == 400, (path, response.content)
        errors = response.json()
        assert set(errors) == {"pad", "refundid"}, (path, errors)
        assert "Unknown field" in errors["pad"][0]
        assert "amount" in errors["pad"][0] or "username" in errors["pad"][0]
        # The same body without the extras is accepted: only the extras were refused.
        response = getattr(api, method)(url, VALID_BODIES[path], format=media)
        assert response.status_code in (200, 201), (path, response.content)


def test_request_bodies_are_published_closed(schema):
    components = schema["components"]["schemas"]
    for path, method in body_operations(schema):
        content = schema["paths"][path][method]["requestBody"]["content"]
        for media in content.values():
            name = media["schema"]["$ref"].rsplit("/", 1)[-1]
            assert components[name]["additionalProperties"] is False, (path, name)


def test_the_browsable_apis_csrf_field_is_not_unknown(api):
    body = {**VALID_BODIES["/api/payments/"], "csrfmiddlewaretoken": "t"}
    assert api.post("/api/payments/", body, format="multipart").status_code == 201
