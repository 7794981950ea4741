"""Every schema-valid request is accepted: schemathesis's positive-data check on every operation.

Requests are generated from the schema the site publishes at /api/schema/
(positive data only: each one fits its operation's schema), sent by a member
of organization ``acme``, and none may be refused with 400: a 400 means the
schema is looser than the server (a bound, enum, pattern or length the server
enforces and the schema does not declare), so a client built from the schema
would send requests the server refuses.

Two sources of requests: hypothesis's generation (random, 25 per operation)
and schemathesis's coverage phase (deterministic boundary values: each
minimum and maximum, each length limit, enum members; 60 per operation).
Allowed are the answers a valid request may get for reasons no schema can
state (see ``ACCEPTED``). Half of the generated requests are pointed at the
member's organization and payment (ids that fit the schema too), so that the
domain's own rules are reached instead of stopping at "no such organization".
"""

import pytest
import schemathesis
from django.core.wsgi import get_wsgi_application
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import positive_data_acceptance

from tests.fuzz_fixtures import MEMBER_ORGANIZATION, MEMBER_PAYMENT, auth_headers  # noqa: F401

pytestmark = [pytest.mark.django_db, pytest.mark.slow]

#: Statuses a schema-valid request may get. Not 400: that is the schema's looseness.
ACCEPTED = [
    "2xx",
    # An organization the member does not belong to (the schema cannot know memberships).
    "403",
    # Unknown payment, aggregate, event or correlation id; a cursor that is not ours (DRF
    # answers a malformed cursor with 404): ids that fit their pattern but name nothing.
    "404",
    # Conflicts with stored state: a payment id already processed or taken by another
    # organization, a refund above what remains or of a failed payment, a refund id given
    # again with another amount, an Idempotency-Key still in use.
    "409",
    # Valid-shaped requests breaking a rule the schema cannot express: across fields
    # ("to" before "from", version and at together, a currency's own decimals, a trend of
    # too many buckets), or on stored data (an organization that does not exist, a version
    # the payment does not have, a refund in another currency, an Idempotency-Key reused
    # for another request, a stored event the code can no longer decode).
    "422",
    # The token endpoint's throttle (10 a minute per address).
    "429",
]
CONFIG = schemathesis.Config.from_dict(
    {"checks": {"positive_data_acceptance": {"expected-statuses": ACCEPTED}}}
)
SCHEMA = schemathesis.openapi.from_wsgi(
    "/api/schema/?format=json", get_wsgi_application(), config=CONFIG
)
OPERATIONS = [result.ok() for result in SCHEMA.get_all_operations()]
EXAMPLES = 25
#: The token endpoint hashes each password (slow on purpose) and is throttled after 10.
TOKEN_EXAMPLES = 10
#: Boundary cases (schemathesis's coverage phase, deterministic) sent per operation.
BOUNDARY_CASES = 60

#: DRF's answer to a well-formed login with a wrong username or password: a refusal of
#: the credentials, not of the request's shape (schemathesis exempts endpoints that mint
#: credentials only when the schema names them as an OAuth2 tokenUrl; DRF's token is not).
WRONG_CREDENTIALS = {"non_field_errors": ["Unable to log in with provided credentials."]}
TOKEN_ENDPOINT = "POST /api/auth/token/"


def accepted(operation, case, response):
    """Run the positive-data check on ``response`` (a wrong login is the token's answer)."""
    if (
        operation.label == TOKEN_ENDPOINT
        and response.status_code == 400
        and response.json() == WRONG_CREDENTIALS
    ):
        return
    case.validate_response(response, checks=[positive_data_acceptance])


def point_at_member_data(case):
    """Use the member's organization and payment in ``case`` (both fit their schemas)."""
    if isinstance(case.body, dict) and "organization_id" in case.body:
        case.body["organization_id"] = MEMBER_ORGANIZATION
    if case.path_parameters and "payment_id" in case.path_parameters:
        case.path_parameters["payment_id"] = MEMBER_PAYMENT


@pytest.mark.parametrize("operation", OPERATIONS, ids=lambda operation: operation.label)
def test_schema_valid_requests_are_accepted(operation, auth_headers):  # noqa: F811
    @given(case=operation.as_strategy(), member_data=st.booleans())
    @settings(
        max_examples=TOKEN_EXAMPLES if operation.label == TOKEN_ENDPOINT else EXAMPLES,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    def check(case, member_data):
        if member_data:
            point_at_member_data(case)
        accepted(operation, case, case.call(headers=auth_headers))

    check()


@pytest.mark.parametrize("operation", OPERATIONS, ids=lambda operation: operation.label)
def test_boundary_values_are_accepted(operation, auth_headers):  # noqa: F811
    """The coverage phase's positive cases: each bound's own value, each enum member..."""
    cases = SCHEMA.iter_coverage_cases(
        operation,
        generation_modes=[GenerationMode.POSITIVE],
        generation_config=SCHEMA.config.generation_for(operation=operation, phase="coverage"),
    )
    limit = TOKEN_EXAMPLES if operation.label == TOKEN_ENDPOINT else BOUNDARY_CASES
    for number, case in enumerate(cases):
        if number == limit:
            break
        if number % 2:
            point_at_member_data(case)
        accepted(operation, case, case.call(headers=auth_headers))
