"""Organizations and their members: who may see and act on which payments."""

from __future__ import annotations

from collections.abc import Iterable

from django.conf import settings
from django.db import models


class Organization(models.Model):
    """A Gyroscops customer; ``organization_id`` in event metadata is its ``slug``."""

    slug = models.SlugField(max_length=64, unique=True)
    name = models.CharField(max_length=200)
    members = models.ManyToManyField(
        settings.AUTH_USER_MODEL, related_name="organizations", blank=True
    )

    class Meta:
        ordering = ["slug"]

    def __str__(self) -> str:
        return self.name


def organizations_for_user(user: object) -> Iterable[str]:
    """Return the slugs of the organizations ``user`` belongs to (for API scoping)."""
    if not getattr(user, "is_authenticated", False):
        return []
    return Organization.objects.filter(members=user).values_list("slug", flat=True)
