"""The staff audit-trail pages: permission gate, timelines with state after each event."""

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


def test_anonymous_users_go_to_the_login_page(client, history):
    for url in (INDEX, f"{INDEX}aggregate/pay-1/", f"{INDEX}correlation/checkout-1/"):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith("/admin/login/")


def test_staff_without_the_permission_get_403(client, django_user_model, history):
    user = django_user_model.objects.create_user("staff", password="pw", is_staff=True)
    client.force_login(user)
    for url in (INDEX, f"{INDEX}aggregate/pay-1/", f"{INDEX}correlation/checkout-1/"):
        assert client.get(url).status_code == 403


def test_non_staff_users_with_the_permission_are_sent_to_login(client, django_user_model, history):
    user = django_user_model.objects.create_user("member", password="pw")
    user.user_permissions.add(Permission.objects.get(codename="view_audit_trail"))
    client.force_login(user)
    assert client.get(INDEX).status_code == 302


def test_admin_index_links_the_audit_trail_only_for_permitted_staff(auditor, client):
    assert INDEX in auditor.get("/admin/").content.decode()


def test_recent_events_page(auditor, history):
    page = auditor.get(INDEX).content.decode()
    assert "3 events in 2 aggregates" in page
    assert page.index("pay-2") < page.index("PaymentRefunded")  # newest first
    assert f"{INDEX}aggregate/pay-1/" in page


def test_payment_timeline_shows_each_event_and_the_state_after_it(auditor, history):
    response = auditor.get(f"{INDEX}aggregate/pay-1/")
    assert response.status_code == 200
    rows = response.context["rows"]
    assert [row["event"].event_type for row in rows] == ["PaymentProcessed", "PaymentRefunded"]
    assert [row["state"]["status"] for row in rows] == ["processed", "partially_refunded"]
    assert [row["state"]["refunded_amount"] for row in rows] == ["0.00", "30.00"]
    assert [row["who"] for row in rows] == ["alice", "alice"]
    page = response.content.decode()
    assert f"{INDEX}correlation/checkout-1/" in page
    assert "/api/payments/pay-1/history/" in page
    assert auditor.get(f"{INDEX}aggregate/unknown/").status_code == 404


def test_correlation_timeline_spans_aggregates(auditor, history):
    response = auditor.get(f"{INDEX}correlation/checkout-1/")
    assert response.status_code == 200
    assert [row["event"].aggregate_id for row in response.context["rows"]] == [
        "pay-1",
        "pay-1",
        "pay-2",
    ]
    assert auditor.get(f"{INDEX}correlation/nothing/").status_code == 404
    assert auditor.get(f"{INDEX}correlation/bad%20id/").status_code == 404
