"""A payment whose history holds an event type the code no longer has.

pay-1: processed 100.00 EUR (v1), then v2 of ``PaymentDisputed`` whose class was
removed in a deploy. pay-2: processed 5.00 EUR, nothing unusual.
"""

import io

import pytest
from django.core.management import call_command
from rest_framework.test import APIClient

from eventstore import DomainEvent, event, registry
from payments.commands import CommandContext, PaymentCommandHandler, ProcessPayment
from payments.models import Organization, PaymentSummary

pytestmark = pytest.mark.django_db


@pytest.fixture
def api(django_user_model, event_store):
    user = django_user_model.objects.create_user("alice", password="pw-alice")
    Organization.objects.create(slug="acme", name="Acme").members.add(user)
    handler = PaymentCommandHandler()
    handler.process(ProcessPayment("pay-1", "100.00", "EUR", "acme"), CommandContext(user_id="1"))
    handler.process(ProcessPayment("pay-2", "5.00", "EUR", "acme"), CommandContext(user_id="1"))

    @event
    class PaymentDisputed(DomainEvent):
        reason: str

    event_store.append(
        "pay-1",
        "Payment",
        [PaymentDisputed(reason="chargeback")],
        1,
        metadata={"organization_id": "acme"},
    )
    registry.unregister("PaymentDisputed")
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_state_endpoints_answer_422_naming_the_type_and_earlier_versions_still_answer(api):
    for url in ("/api/payments/pay-1/", "/api/payments/pay-1/replay/?version=2"):
        response = api.get(url)
        assert response.status_code == 422, url
        body = response.json()
        assert (body["code"], body["event_type"], body["version"]) == (
            "undecodable_event",
            "PaymentDisputed",
            2,
        )
    at_one = api.get("/api/payments/pay-1/replay/", {"version": "1"})
    assert at_one.status_code == 200
    assert (at_one.json()["status"], at_one.json()["amount"]) == ("processed", "100.00")
    history = api.get("/api/payments/pay-1/history/")
    assert history.status_code == 200
    assert [e["event_type"] for e in history.json()["events"]] == [
        "PaymentProcessed",
        "PaymentDisputed",
    ]
    assert api.get("/api/payments/pay-2/").status_code == 200


def test_a_command_on_such_a_payment_is_422_and_appends_nothing(api, event_store):
    response = api.post("/api/payments/pay-1/refunds/", {"amount": "1.00"}, format="json")
    assert response.status_code == 422
    assert response.json()["code"] == "undecodable_event"
    assert event_store.aggregate_version("pay-1") == 2


def test_the_read_model_rebuild_goes_on_past_it_and_reports_it(api):
    out = io.StringIO()
    call_command(
        "eventstore_projections", "rebuild", "payments.summary", stdout=out, stderr=io.StringIO()
    )
    output = out.getvalue()
    assert "1 item(s) left out of the view" in output
    assert "payment 'pay-1'" in output and "PaymentDisputed" in output
    assert list(PaymentSummary.objects.values_list("payment_id", flat=True)) == ["pay-2"]
