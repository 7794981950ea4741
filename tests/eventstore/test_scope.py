"""eventstore.queries.scope on its own: who sees everything, who sees which organizations,
and how criteria are narrowed. Users are stand-ins with the attributes the module reads."""

from types import SimpleNamespace

import pytest

from eventstore.queries.scope import AUDIT_TRAIL_PERMISSION, scoped_criteria, visible_organizations

RESOLVER = "tests.eventstore.test_scope.organizations_of"


def organizations_of(user):
    """The resolver under test: whatever the stand-in user lists (a generator)."""
    yield from user.organizations


def user(*organizations, active=True, authenticated=True, permissions=()):
    return SimpleNamespace(
        organizations=list(organizations),
        is_active=active,
        is_authenticated=authenticated,
        has_perm=lambda name: name in permissions,
    )


@pytest.fixture(autouse=True)
def _resolver(settings):
    settings.EVENTSTORE_USER_ORGANIZATIONS = RESOLVER


def test_the_permission_name():
    assert AUDIT_TRAIL_PERMISSION == "eventstore.view_audit_trail"


def test_an_active_holder_of_the_permission_sees_everything():
    assert visible_organizations(user("acme", permissions={AUDIT_TRAIL_PERMISSION})) is None


def test_an_inactive_holder_of_the_permission_sees_their_organizations_only():
    holder = user("acme", active=False, permissions={AUDIT_TRAIL_PERMISSION})
    assert visible_organizations(holder) == frozenset({"acme"})


def test_another_permission_does_not_widen_the_scope():
    assert visible_organizations(user("acme", permissions={"eventstore.view_event"})) == {"acme"}


def test_a_member_sees_the_organizations_the_resolver_returns():
    scope = visible_organizations(user("acme", "globex", "acme"))
    assert scope == frozenset({"acme", "globex"})
    assert isinstance(scope, frozenset)
    assert visible_organizations(user()) == frozenset()


def test_an_unauthenticated_user_sees_nothing_whatever_the_resolver_says():
    assert visible_organizations(user("acme", authenticated=False)) == frozenset()


@pytest.mark.parametrize("setting", [None, ""])
def test_without_a_resolver_members_see_nothing(settings, setting):
    settings.EVENTSTORE_USER_ORGANIZATIONS = setting
    scope = visible_organizations(user("acme"))
    assert scope == frozenset()
    assert scope is not None


def test_without_the_setting_at_all_members_see_nothing(settings):
    del settings.EVENTSTORE_USER_ORGANIZATIONS
    assert visible_organizations(user("acme")) == frozenset()


def test_criteria_of_someone_who_sees_everything_are_unchanged():
    criteria = {"event_type": "x", "metadata": {"organization_id": "globex"}}
    everything = user(permissions={AUDIT_TRAIL_PERMISSION})
    assert scoped_criteria(everything, criteria) is criteria


def test_a_members_criteria_are_narrowed_to_their_organizations_sorted():
    criteria = {"event_type": "x", "limit": 3, "metadata": {"user_id": "u1"}}
    scoped = scoped_criteria(user("globex", "acme"), criteria)
    assert scoped == {
        "event_type": "x",
        "limit": 3,
        "metadata": {"user_id": "u1", "organization_id": ["acme", "globex"]},
    }
    assert criteria == {"event_type": "x", "limit": 3, "metadata": {"user_id": "u1"}}


@pytest.mark.parametrize("metadata", [None, {}])
def test_criteria_without_metadata_get_the_organizations(metadata):
    criteria = {} if metadata is None else {"metadata": metadata}
    assert scoped_criteria(user("acme"), criteria) == {"metadata": {"organization_id": ["acme"]}}
    assert scoped_criteria(user("acme"), {"metadata": None}) == {
        "metadata": {"organization_id": ["acme"]}
    }


def test_asking_for_one_of_ones_organizations_keeps_that_one_only():
    scoped = scoped_criteria(user("acme", "globex"), {"metadata": {"organization_id": "globex"}})
    assert scoped == {"metadata": {"organization_id": ["globex"]}}


def test_asking_for_another_organization_is_nothing():
    assert scoped_criteria(user("acme"), {"metadata": {"organization_id": "globex"}}) is None


def test_a_member_of_no_organization_gets_nothing():
    assert scoped_criteria(user(), {}) is None
    assert scoped_criteria(user(), {"metadata": {"organization_id": "acme"}}) is None
