"""A successful read of one event, on both backends: ``GET /api/events/{id}/`` and the
staff event detail page. Expected values are written out by hand."""

import hashlib
import uuid
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission
from rest_framework.test import APIClient

import eventstore.testing.contract  # noqa: F401  (registers the contract.* event types)
from eventstore import eventstores
from eventstore.records import NewEvent

pytestmark = pytest.mark.django_db

BACKENDS = {
    "memory": "eventstore.backends.memory.InMemoryEventStore",
    "database": "eventstore.backends.database.DatabaseEventStore",
}
CAUSE_ID = uuid.UUID("11111111-1111-4111-8111-111111111111")
EVENT_ID = uuid.UUID("22222222-2222-4222-8222-222222222222")
T1 = datetime(2024, 6, 1, 8, 30, 15, 123456, tzinfo=UTC)


@pytest.fixture(params=sorted(BACKENDS))
def store(request, settings):
    settings.EVENTSTORES = {"default": {"BACKEND": BACKENDS[request.param]}}
    settings.TIME_ZONE = "UTC"
    store = eventstores["default"]
    store.clear()
    store.append("other-1", "Other", [NewEvent("contract.Happened", {"note": "first"})], 0)
    store.append(
        "thing-7",
        "Thing",
        [
            NewEvent("contract.Happened", {"note": "cause"}, event_id=CAUSE_ID, timestamp=T1),
            NewEvent(
                "contract.Counted",
                {"count": 3, "amount": Decimal("12.50")},
                event_id=EVENT_ID,
                metadata={"organization_id": "acme", "user_id": "u-9"},
                causation_id=str(CAUSE_ID),
                timestamp=T1,
            ),
        ],
        0,
        correlation_id="req-42",
    )
    yield store
    store.clear()


def expected_hash(store):
    """Position 3's chain hash, worked out with hashlib from position 2's stored hash.

    The metadata line is the metadata as stored: its user id sealed (a random
    nonce, so it is read from the store, and checked to hold no plain "u-9").
    """
    stored_metadata = store.read_all()[2].metadata_json
    assert "u-9" not in stored_metadata and '"organization_id":"acme"' in stored_metadata
    body = (
        '["22222222-2222-4222-8222-222222222222","thing-7","Thing","contract.Counted",1,'
        '"req-42","11111111-1111-4111-8111-111111111111"]\n'
        + stored_metadata
        + '\n{"amount":"12.50","count":3}'
    )
    micros = (int(T1.replace(microsecond=0).timestamp()) * 1_000_000) + 123456
    return hashlib.sha256(
        store.read_all()[1].chain_hash
        + (3).to_bytes(8, "big")
        + (2).to_bytes(8, "big")
        + micros.to_bytes(8, "big", signed=True)
        + hashlib.sha256(body.encode()).digest()
    ).hexdigest()


def test_the_api_returns_the_event_with_every_field(store, admin_user):
    api = APIClient()
    api.force_authenticate(admin_user)
    response = api.get(f"/api/events/{EVENT_ID}/")
    assert response.status_code == 200
    assert response.json() == {
        "event_id": "22222222-2222-4222-8222-222222222222",
        "aggregate_id": "thing-7",
        "aggregate_type": "Thing",
        "event_type": "contract.Counted",
        "version": 2,
        "position": 3,
        "timestamp": "2024-06-01T08:30:15.123456+00:00",
        "correlation_id": "req-42",
        "causation_id": "11111111-1111-4111-8111-111111111111",
        "schema_version": 1,
        "metadata": {"organization_id": "acme", "user_id": "u-9"},
        "data": {"count": 3, "amount": "12.50"},
        "hash": expected_hash(store),
    }
    # An id in another spelling names the same event; unknown and malformed ids are 404.
    assert api.get(f"/api/events/{str(EVENT_ID).upper()}/").json()["position"] == 3
    assert api.get(f"/api/events/{uuid.UUID(int=5)}/").status_code == 404
    assert api.get("/api/events/22222222/").status_code == 404


def test_a_member_reads_their_organizations_event(store, django_user_model, settings):
    from django.contrib.auth.models import Group

    settings.EVENTSTORE_USER_ORGANIZATIONS = "tests.eventstore.ledger.organizations_of"
    user = django_user_model.objects.create_user("member")
    user.groups.add(Group.objects.create(name="acme"))
    api = APIClient()
    api.force_authenticate(user)
    response = api.get(f"/api/events/{EVENT_ID}/")
    assert (response.status_code, response.json()["data"]) == (200, {"count": 3, "amount": "12.50"})
    assert api.get(f"/api/events/{CAUSE_ID}/").status_code == 404  # no organization


def test_the_admin_page_shows_the_event(store, client, django_user_model):
    user = django_user_model.objects.create_user("auditor", is_staff=True)
    user.user_permissions.add(Permission.objects.get(codename="view_audit_trail"))
    client.force_login(user)
    index = "/admin/eventstore/audittrail/"
    response = client.get(f"{index}event/{EVENT_ID}/")
    assert response.status_code == 200
    event = response.context["event"]
    assert (event.event_id, event.aggregate_id, event.version, event.position) == (
        EVENT_ID,
        "thing-7",
        2,
        3,
    )
    assert response.context["cause"].event_id == CAUSE_ID
    assert response.context["previous"].event_id == CAUSE_ID
    assert response.context["following"] is None
    page = response.content.decode()
    for text in (
        "22222222-2222-4222-8222-222222222222",
        "contract.Counted (schema version 1)",
        "<td>3</td>",  # position
        "req-42",
        "2024-06-01 08:30:15.123456",
        "&quot;amount&quot;: &quot;12.50&quot;",
        "&quot;organization_id&quot;: &quot;acme&quot;",
        f'href="{index}event/{CAUSE_ID}/" id="cause-link"',
        f"{index}aggregate/thing-7/?version=2#v2",
        f"{index}correlation/req-42/",
        f"/api/events/{EVENT_ID}/",
        f'<td class="audit-id" id="event-hash">{expected_hash(store)} ',
    ):
        assert text in page, text
    cause = client.get(f"{index}event/{CAUSE_ID}/")
    assert [e.event_id for e in cause.context["effects"]] == [EVENT_ID]
    assert cause.context["following"].event_id == EVENT_ID
