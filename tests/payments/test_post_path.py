"""``POST /api/payments/`` as an organization member: its SQL, and the cached scope's rules.

The member authenticates with a DRF token, as an API client does: each request
loads a fresh user row (no permission cache on a reused user object). The
scope cache (``EVENTSTORE_SCOPE_CACHE_SECONDS``, on in the demo's settings)
must not change who may do what: a membership revoked or granted, a
permission granted through a group, ``is_superuser`` changed, each applies to
the very next request of this process; a change that sends no signal applies
once the entry expires.
"""

import pytest
from django.contrib.auth.models import Group, Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from eventstore.queries import scope
from payments.models import Organization, PaymentSummary

pytestmark = pytest.mark.django_db

TRANSACTION_CONTROL = ("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE SAVEPOINT")


@pytest.fixture
def member(django_user_model):
    user = django_user_model.objects.create_user("mia", password="pw-mia")
    Organization.objects.create(slug="acme", name="Acme").members.add(user)
    Organization.objects.create(slug="globex", name="Globex")
    return user


@pytest.fixture
def api(member, event_store):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=member).key}")
    return client


def create(api, organization="acme", **body):
    payload = {"amount": "100.00", "currency": "EUR", "organization_id": organization, **body}
    return api.post("/api/payments/", payload, format="json")


def statements_of(api, **body):
    with CaptureQueriesContext(connection) as queries:
        response = create(api, **body)
    assert response.status_code == 201, response.json()
    sql = [query["sql"] for query in queries.captured_queries]
    control = [s for s in sql if s.startswith(TRANSACTION_CONTROL)]
    return [s for s in sql if s not in control], control


def test_the_demo_settings_cache_scopes(settings):
    assert scope.cache_seconds() == settings.EVENTSTORE_SCOPE_CACHE_SECONDS > 0


def test_a_members_post_takes_at_most_four_statements_in_one_transaction(api):
    first, _control = statements_of(api, payment_id="p-1")
    for number in range(2, 5):
        statements, control = statements_of(api, payment_id=f"p-{number}")
        # token + user; the checkpoint read; the read model's upsert; the checkpoint write
        assert len(statements) <= 4, statements
        assert len(control) <= 2, control  # one transaction (here a savepoint), no other
    assert len(first) > len(statements)  # the first request loads the scope
    assert PaymentSummary.objects.count() == 4


def test_without_the_cache_the_scope_is_read_on_every_request(api, settings):
    settings.EVENTSTORE_SCOPE_CACHE_SECONDS = 0
    create(api, payment_id="p-1")
    statements, _control = statements_of(api, payment_id="p-2")
    assert len(statements) > 4  # permissions and memberships again: what the cache saves


def test_a_revoked_membership_applies_to_the_next_request(api, member):
    assert create(api, payment_id="p-1").status_code == 201
    assert api.get("/api/payments/p-1/").status_code == 200
    Organization.objects.get(slug="acme").members.remove(member)
    assert create(api, payment_id="p-2").status_code == 403
    assert api.get("/api/payments/p-1/").status_code == 404


def test_a_membership_removed_from_the_users_side_applies_at_once(api, member):
    assert create(api, payment_id="p-1").status_code == 201
    member.organizations.clear()
    assert create(api, payment_id="p-2").status_code == 403


def test_a_granted_membership_applies_to_the_next_request(api, member):
    assert create(api, "globex", payment_id="g-1").status_code == 403
    member.organizations.add(Organization.objects.get(slug="globex"))
    assert create(api, "globex", payment_id="g-1").status_code == 201


def test_a_deleted_organization_is_an_unknown_one_at_once(api):
    assert create(api, payment_id="p-1").status_code == 201
    Organization.objects.get(slug="acme").delete()
    response = create(api, payment_id="p-2")
    assert response.status_code == 422  # well-formed, names no organization (a rule on stored data)
    assert "organization_id" in response.json()


def test_the_audit_trail_permission_through_a_group_applies_at_once(api, member):
    assert create(api, "globex", payment_id="g-1").status_code == 403
    auditors = Group.objects.create(name="auditors")
    auditors.permissions.add(Permission.objects.get(codename="view_audit_trail"))
    member.groups.add(auditors)
    assert create(api, "globex", payment_id="g-1").status_code == 201
    auditors.permissions.clear()
    assert create(api, "globex", payment_id="g-2").status_code == 403


def test_becoming_or_ceasing_to_be_superuser_applies_at_once(api, member):
    assert create(api, "globex", payment_id="g-1").status_code == 403
    member.is_superuser = True
    member.save()
    assert create(api, "globex", payment_id="g-1").status_code == 201
    member.is_superuser = False
    member.save()
    assert create(api, "globex", payment_id="g-2").status_code == 403


def test_a_change_without_signals_applies_once_the_entry_expires(api, member, monkeypatch):
    clock = [1000.0]
    monkeypatch.setattr(scope.time, "monotonic", lambda: clock[0])
    assert create(api, payment_id="p-1").status_code == 201
    # A bulk delete of the membership rows sends no m2m_changed (another process's change
    # looks like this one here: no signal reaches this process).
    Organization.members.through.objects.filter(user=member).delete()
    clock[0] += scope.cache_seconds() - 0.5
    assert create(api, payment_id="p-2").status_code == 201  # cached: within the bound
    clock[0] += 1
    assert create(api, payment_id="p-3").status_code == 403


def test_forget_scopes_empties_the_cache(api, member):
    assert create(api, payment_id="p-1").status_code == 201
    Organization.members.through.objects.filter(user=member).delete()
    scope.forget_scopes()
    assert create(api, payment_id="p-2").status_code == 403


def test_a_scope_loaded_while_a_change_is_forgotten_is_not_cached(member, monkeypatch):
    """A request that read the old memberships before a change was forgotten keeps them out."""
    real_load = scope._load_scope

    def load_then_change(user):
        loaded = real_load(user)
        scope.forget_scopes()  # the change lands while this request was loading
        return loaded

    monkeypatch.setattr(scope, "_load_scope", load_then_change)
    assert scope.visible_organizations(member) == {"acme"}
    monkeypatch.setattr(scope, "_load_scope", real_load)
    Organization.members.through.objects.filter(user=member).delete()  # no signal
    assert scope.visible_organizations(member) == frozenset()  # read again: nothing was kept


@pytest.mark.parametrize("value", [-1, "10", True])
def test_a_bad_cache_setting_is_improperly_configured(settings, value, member):
    from django.core.exceptions import ImproperlyConfigured

    settings.EVENTSTORE_SCOPE_CACHE_SECONDS = value
    with pytest.raises(ImproperlyConfigured, match="EVENTSTORE_SCOPE_CACHE_SECONDS"):
        scope.visible_organizations(member)
