"""What the schemathesis tests share: the published schema's operations and a member's token.

The member belongs to organization ``acme`` (payment ``p-1``, refunded in part);
``globex`` (payment ``g-1``) is another organization's.
"""

import pytest
from django.core import signals
from django.db import close_old_connections
from rest_framework.authtoken.models import Token

from payments.commands import CommandContext, PaymentCommandHandler, ProcessPayment, RefundPayment
from payments.models import Organization

#: The member's organization and payment (generated requests are pointed at them too).
MEMBER_ORGANIZATION = "acme"
MEMBER_PAYMENT = "p-1"


@pytest.fixture
def auth_headers(django_user_model, event_store):
    """``Authorization`` headers of a member of ``acme``, with its payment ``p-1``."""
    # As Django's test client does: keep the test's connection (and transaction) open.
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    user = django_user_model.objects.create_user("fuzzer")
    Organization.objects.create(slug=MEMBER_ORGANIZATION, name="Acme").members.add(user)
    Organization.objects.create(slug="globex", name="Globex")
    handler = PaymentCommandHandler()
    context = CommandContext(user_id=str(user.pk), correlation_id="fuzz-correlation")
    handler.process(ProcessPayment(MEMBER_PAYMENT, "100.00", "EUR", MEMBER_ORGANIZATION), context)
    handler.refund(RefundPayment(MEMBER_PAYMENT, "10.00"), context)
    handler.process(ProcessPayment("g-1", "5.00", "USD", "globex"), CommandContext())
    yield {"Authorization": f"Token {Token.objects.create(user=user).key}"}
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)
