"""Fixtures of the tiny project; ``event_store``, ``recorded_events`` and ``event_clock``
come from the app's pytest plugin (entry point ``pytest11``), with pytest-django."""

import pytest
import shop
from django.contrib.auth.models import Group, Permission


@pytest.fixture
def orders(db):
    """Two orders of two organizations in the project's (database) store."""
    return shop.place_and_ship("order-1", "acme", "checkout-1") + shop.place_and_ship(
        "order-2", "globex", "checkout-2"
    )


@pytest.fixture
def auditor(client, django_user_model):
    """A staff member with the audit-trail permission, logged in."""
    user = django_user_model.objects.create_user("auditor", password="pw", is_staff=True)
    user.user_permissions.add(Permission.objects.get(codename="view_audit_trail"))
    client.force_login(user)
    return client


@pytest.fixture
def member(django_user_model):
    """A user of organization ``acme`` only, without the audit-trail permission."""
    user = django_user_model.objects.create_user("member", password="pw")
    user.groups.add(Group.objects.create(name="acme"))
    return user
