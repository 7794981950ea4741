"""The payment summaries admin shows money in each currency's minor units (ISO 4217, CLDR)."""

import pytest

from payments.commands import CommandContext, PaymentCommandHandler, ProcessPayment, RefundPayment
from payments.models import PaymentSummary

pytestmark = pytest.mark.django_db


@pytest.fixture
def summaries(event_store):
    handler = PaymentCommandHandler()
    context = CommandContext(user_id="1", username="alice")
    handler.process(ProcessPayment("pay-eur", "5", "EUR", "acme"), context)
    handler.refund(RefundPayment("pay-eur", "1.5"), context)
    handler.process(ProcessPayment("pay-jpy", "500", "JPY", "acme"), context)
    handler.process(ProcessPayment("pay-kwd", "5", "KWD", "acme"), context)
    assert PaymentSummary.objects.count() == 3  # the inline projection filled the read model


@pytest.fixture
def admin_client_(client, django_user_model):
    user = django_user_model.objects.create_superuser("root", password="pw")
    client.force_login(user)
    return client


def _cells(page, css_class):
    import re

    return re.findall(rf'<td class="{css_class}">([^<]*)</td>', page)


@pytest.mark.parametrize(
    ("payment_id", "amount", "refunded"),
    [("pay-eur", "5.00", "1.50"), ("pay-jpy", "500", "0"), ("pay-kwd", "5.000", "0.000")],
)
def test_the_list_shows_amounts_by_currency(admin_client_, summaries, payment_id, amount, refunded):
    # The column holds 3 places for every currency ("5.000" EUR before the fix).
    page = admin_client_.get("/admin/payments/paymentsummary/", {"q": payment_id})
    page = page.content.decode()
    assert _cells(page, "field-amount_display") == [amount]
    assert _cells(page, "field-refunded_display") == [refunded]


def test_the_read_only_form_shows_them_the_same_way(admin_client_, summaries):
    row = PaymentSummary.objects.get(payment_id="pay-eur")
    page = admin_client_.get(f"/admin/payments/paymentsummary/{row.pk}/change/").content.decode()
    assert '<div class="readonly">5.00</div>' in page
    assert '<div class="readonly">1.50</div>' in page
    assert "5.000" not in page
