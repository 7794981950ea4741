"""Fixtures shared by the app's page tests."""

import pytest
from django.contrib.auth.models import Permission


@pytest.fixture
def auditor(client, django_user_model):
    """The test client, logged in as staff with the ``eventstore.view_audit_trail`` permission."""
    user = django_user_model.objects.create_user("auditor", password="pw", is_staff=True)
    user.user_permissions.add(Permission.objects.get(codename="view_audit_trail"))
    client.force_login(user)
    return client
