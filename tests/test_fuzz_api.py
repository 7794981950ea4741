"""Fuzz the API against its published schema with schemathesis (bounded examples).

Every operation gets generated requests (valid and invalid) from an
authenticated member of one organization; no answer may be a server error or
break the schema. The schema is the one the site publishes at /api/schema/.

The "schema-valid request accepted" check has its own test, with the answers
business rules give to valid requests allowed: ``tests/test_positive_data.py``.
"""

import pytest
import schemathesis
from django.core.wsgi import get_wsgi_application
from hypothesis import HealthCheck, given, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance

from tests.fuzz_fixtures import auth_headers  # noqa: F401 (a fixture)

pytestmark = [pytest.mark.django_db, pytest.mark.slow]

SCHEMA = schemathesis.openapi.from_wsgi("/api/schema/?format=json", get_wsgi_application())
OPERATIONS = [result.ok() for result in SCHEMA.get_all_operations()]
EXAMPLES = 60


@pytest.mark.parametrize("operation", OPERATIONS, ids=lambda operation: operation.label)
def test_no_server_error_and_answers_match_the_schema(operation, auth_headers):  # noqa: F811
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
