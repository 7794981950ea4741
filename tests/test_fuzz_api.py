"""Fuzz the API against its published schema with schemathesis (bounded examples).

Every operation gets generated requests (valid and invalid) from an
authenticated member of one organization; no answer may be a server error or
break the schema. The schema is the one the site publishes at /api/schema/.

The "schema-valid request accepted" check is left out: business rules go beyond
the schema (a well-formed but unknown currency, a refund above what remains, a
payment id processed twice are refused by design).
"""

import pytest
import schemathesis
from django.core import signals
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, given, settings
from rest_framework.authtoken.models import Token
from schemathesis.specs.openapi.checks import positive_data_acceptance

from payments.commands import CommandContext, PaymentCommandHandler, ProcessPayment, RefundPayment
from payments.models import Organization

pytestmark = [pytest.mark.django_db, pytest.mark.slow]

SCHEMA = schemathesis.openapi.from_wsgi("/api/schema/?format=json", get_wsgi_application())
OPERATIONS = [result.ok() for result in SCHEMA.get_all_operations()]
EXAMPLES = 60


@pytest.fixture
def auth_headers(django_user_model, event_store):
    # As Django's test client does: keep the test's connection (and transaction) open.
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    user = django_user_model.objects.create_user("fuzzer")
    Organization.objects.create(slug="acme", name="Acme").members.add(user)
    Organization.objects.create(slug="globex", name="Globex")
    handler = PaymentCommandHandler()
    context = CommandContext(user_id=str(user.pk), correlation_id="fuzz-correlation")
    handler.process(ProcessPayment("p-1", "100.00", "EUR", "acme"), context)
    handler.refund(RefundPayment("p-1", "10.00"), context)
    handler.process(ProcessPayment("g-1", "5.00", "USD", "globex"), CommandContext())
    yield {"Authorization": f"Token {Token.objects.create(user=user).key}"}
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.mark.parametrize("operation", OPERATIONS, ids=lambda operation: operation.label)
def test_no_server_error_and_answers_match_the_schema(operation, auth_headers):
    @given(case=operation.as_strategy())
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    def check(case):
        case.call_and_validate(headers=auth_headers, excluded_checks=[positive_data_acceptance])

    check()
