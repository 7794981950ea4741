"""Idempotency claims expire and are released on every exit path (issue 13).

A claim is an ``IdempotencyRecord`` without an answer (``status_code`` 0). A
claim left by a dead request is simulated by creating the row with an old
timestamp, or by a request that raises ``SystemExit`` (gunicorn's worker
timeout) inside the view, with or without its release.
"""

import hashlib
import json
from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from payments.api import idempotency, views
from payments.commands import PaymentCommandHandler
from payments.models import IdempotencyRecord, Organization

pytestmark = pytest.mark.django_db

BODY = {"payment_id": "p-1", "amount": "100.00", "currency": "EUR", "organization_id": "acme"}
STATE = {
    "payment_id": "p-1",
    "status": "processed",
    "amount": "100.00",
    "currency": "EUR",
    "refunded_amount": "0.00",
    "organization_id": "acme",
    "failure_reason": None,
    "version": 1,
}


@pytest.fixture
def alice(django_user_model):
    user = django_user_model.objects.create_user("alice")
    Organization.objects.create(slug="acme", name="Acme").members.add(user)
    return user


@pytest.fixture
def api(alice, event_store):
    client = APIClient()
    client.force_authenticate(alice)
    return client


def post(api, body=BODY, key="k-1", path="/api/payments/"):
    return api.post(path, body, format="json", HTTP_IDEMPOTENCY_KEY=key)


def claim(user, body=BODY, key="k-1", age=0, path="/api/payments/"):
    """The row a request left when it claimed ``key`` and never answered, ``age`` s ago."""
    # The fingerprint, by hand: SHA-256 of [method, path, body] as sorted JSON.
    fingerprint = hashlib.sha256(
        json.dumps(["POST", path, body], sort_keys=True).encode()
    ).hexdigest()
    row = IdempotencyRecord.objects.create(
        user=user, key=key, fingerprint=fingerprint, status_code=0, body={}
    )
    IdempotencyRecord.objects.filter(pk=row.pk).update(
        created_at=timezone.now() - timedelta(seconds=age)
    )
    return row


def test_a_fresh_claim_is_still_409_in_flight(api, alice, event_store):
    claim(alice, age=10)
    response = post(api)
    assert response.status_code == 409
    assert response.json() == {
        "detail": "A request with this Idempotency-Key is still being processed. Retry "
        "later: a request that has not answered after 300 seconds is taken over by its retry.",
        "code": "idempotency_key_in_use",
    }
    assert event_store.count() == 0


def test_an_expired_claim_is_taken_over_and_the_command_runs_now(api, alice, event_store):
    claim(alice, age=301)  # the default timeout is 300 s
    response = post(api)
    assert response.status_code == 201
    assert response.json() == STATE
    assert event_store.count() == 1
    # The answer is kept: the next retry replays it.
    again = post(api)
    assert (again.status_code, again.json(), again["Idempotent-Replayed"]) == (201, STATE, "true")
    assert event_store.count() == 1


def test_the_timeout_is_a_setting(api, alice, settings):
    settings.IDEMPOTENCY_CLAIM_TIMEOUT = 10
    claim(alice, age=9)
    assert post(api).status_code == 409
    IdempotencyRecord.objects.update(created_at=timezone.now() - timedelta(seconds=11))
    assert post(api).status_code == 201


def test_a_request_killed_after_its_append_gets_the_original_answer(
    api, alice, event_store, monkeypatch
):
    """SIGKILL after the append: no release, no answer kept; the event is in the store."""
    body = {"amount": "100.00", "currency": "EUR", "organization_id": "acme"}  # id generated

    def killed(payment):
        raise SystemExit(1)

    monkeypatch.setattr(views, "created", killed)
    monkeypatch.setattr(idempotency, "_release", lambda record: None)
    with pytest.raises(SystemExit):
        post(api, body)
    monkeypatch.undo()
    assert event_store.count() == 1
    assert post(api, body).status_code == 409  # the claim is fresh: still in flight
    IdempotencyRecord.objects.update(created_at=timezone.now() - timedelta(seconds=301))

    response = post(api, body)
    assert response.status_code == 201
    stored = event_store.read_all()[0]
    assert response.json() == {**STATE, "payment_id": stored.aggregate_id}
    assert response["Location"] == f"/api/payments/{stored.aggregate_id}/"
    assert event_store.count() == 1  # the payment was not processed twice


def test_systemexit_before_the_command_releases_the_claim(api, event_store, monkeypatch):
    def timeout(self, command, context):
        raise SystemExit(1)

    monkeypatch.setattr(PaymentCommandHandler, "process", timeout)
    with pytest.raises(SystemExit):
        post(api)
    monkeypatch.undo()
    assert IdempotencyRecord.objects.count() == 0  # released, not left in flight
    response = post(api)
    assert (response.status_code, response.json()) == (201, STATE)
    assert event_store.count() == 1


def test_systemexit_after_a_refund_gives_the_original_answer_not_a_second_refund(
    api, event_store, monkeypatch
):
    assert api.post("/api/payments/", BODY, format="json").status_code == 201
    path = "/api/payments/p-1/refunds/"
    body = {"amount": "30.00"}  # no refund_id: only the idempotency key protects it

    def timeout(payment):
        raise SystemExit(1)

    monkeypatch.setattr(views, "created", timeout)
    with pytest.raises(SystemExit):
        post(api, body, key="refund-1", path=path)
    monkeypatch.undo()
    assert event_store.aggregate_version("p-1") == 2  # the refund was stored

    response = post(api, body, key="refund-1", path=path)
    assert response.status_code == 201
    assert response.json() == {
        **STATE,
        "status": "partially_refunded",
        "refunded_amount": "30.00",
        "version": 2,
    }
    assert event_store.aggregate_version("p-1") == 2  # 30.00 refunded once, not 60.00
