"""Payments on the event store's audit-trail pages: timelines, links to the payments API
and from the payments admin.

The pages themselves are tested in tests/eventstore/test_pages.py with a test-only
domain; these tests check what the payments app brings to them.
"""

import pytest
from django.contrib.auth.models import Permission

from payments.commands import CommandContext, PaymentCommandHandler, ProcessPayment, RefundPayment

pytestmark = pytest.mark.django_db

INDEX = "/admin/eventstore/audittrail/"


@pytest.fixture
def history(event_store):
    handler = PaymentCommandHandler()
    context = CommandContext(user_id="1", username="alice", correlation_id="checkout-1")
    handler.process(ProcessPayment("pay-1", "100.00", "EUR", "acme"), context)
    handler.refund(RefundPayment("pay-1", "30.00"), context)
    handler.process(ProcessPayment("pay-2", "5.00", "USD", "acme"), context)
    return event_store


@pytest.fixture
def auditor(client, django_user_model):
    user = django_user_model.objects.create_user("auditor", password="pw", is_staff=True)
    user.user_permissions.add(Permission.objects.get(codename="view_audit_trail"))
    client.force_login(user)
    return client


def test_payment_timeline_shows_each_event_and_the_state_after_it(auditor, history):
    response = auditor.get(f"{INDEX}aggregate/pay-1/")
    assert response.status_code == 200
    rows = response.context["rows"]
    assert [row["event"].event_type for row in rows] == ["PaymentProcessed", "PaymentRefunded"]
    assert [row["state"]["status"] for row in rows] == ["processed", "partially_refunded"]
    assert [row["state"]["refunded_amount"] for row in rows] == ["0.00", "30.00"]
    assert [row["who"] for row in rows] == ["alice", "alice"]
    assert ("refunded_amount", "0.00", "30.00") in rows[1]["changes"]
    assert ("status", "processed", "partially_refunded") in rows[1]["changes"]
    page = response.content.decode()
    assert f"{INDEX}correlation/checkout-1/" in page
    assert "/api/payments/pay-1/history/" in page
    assert auditor.get(f"{INDEX}aggregate/unknown/").status_code == 404


def test_payment_timeline_at_a_version_links_to_the_replay_api(auditor, history):
    response = auditor.get(f"{INDEX}aggregate/pay-1/", {"version": "1"})
    assert response.status_code == 200
    assert response.context["at_version"]["state"]["status"] == "processed"
    assert response.context["at_version"]["state"]["refunded_amount"] == "0.00"
    assert "/api/payments/pay-1/replay/?version=1" in response.content.decode()
    for bad in ("0", "3", "x", "-1"):
        response = auditor.get(f"{INDEX}aggregate/pay-1/", {"version": bad})
        assert response.status_code == 400
        assert "enter a whole number from 1 to 2" in response.content.decode()


def test_refund_detail_shows_its_cause_and_links_to_the_payment_history(auditor, history):
    processed, refunded, _ = history.read_all()
    response = auditor.get(f"{INDEX}event/{refunded.event_id}/")
    assert response.status_code == 200
    page = response.content.decode()
    assert "&quot;amount&quot;: &quot;30.00&quot;" in page
    # The handler makes a refund caused by the payment's PaymentProcessed event.
    assert response.context["cause"] == processed
    assert f"{INDEX}event/{processed.event_id}/" in page
    assert response.context["history_api_url"] == "/api/payments/pay-1/history/"
    assert "/api/payments/pay-1/history/" in page
    effects = auditor.get(f"{INDEX}event/{processed.event_id}/").context["effects"]
    assert effects == [refunded]


def test_payment_change_page_links_to_its_timeline(admin_client, event_store):
    PaymentCommandHandler().process(
        ProcessPayment("pay-9", "1.00", "EUR", "acme"), CommandContext(user_id="1")
    )
    page = admin_client.get("/admin/payments/paymentsummary/pay-9/change/").content.decode()
    assert f"{INDEX}aggregate/pay-9/" in page
    assert (
        f"{INDEX}aggregate/pay-9/"
        in admin_client.get("/admin/payments/paymentsummary/").content.decode()
    )
