"""Which events an API user may see: all of them, or their organizations' only.

Users holding ``eventstore.view_audit_trail`` see everything. Everyone else
sees the events whose ``metadata.organization_id`` is one of their
organizations, as returned by the callable named in the
``EVENTSTORE_USER_ORGANIZATIONS`` setting (a dotted path, read from settings,
never from data; it takes a user and returns an iterable of organization ids).
Without that setting, such users see nothing.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from typing import Any

from django.conf import settings
from django.utils.module_loading import import_string

__all__ = [
    "AUDIT_TRAIL_PERMISSION",
    "may_see",
    "scoped_criteria",
    "visible_organizations",
]

AUDIT_TRAIL_PERMISSION = "eventstore.view_audit_trail"


@functools.cache
def _resolver(path: str | None) -> Callable[[Any], Iterable[str]] | None:
    return import_string(path) if path else None


def visible_organizations(user: Any) -> frozenset[str] | None:
    """Return the organization ids ``user`` may see, or None meaning "all"."""
    if user.is_active and user.has_perm(AUDIT_TRAIL_PERMISSION):
        return None
    resolver = _resolver(getattr(settings, "EVENTSTORE_USER_ORGANIZATIONS", None))
    if resolver is None or not user.is_authenticated:
        return frozenset()
    return frozenset(resolver(user))


def scoped_criteria(user: Any, criteria: dict[str, Any]) -> dict[str, Any] | None:
    """Return ``criteria`` restricted to what ``user`` may see, or None if that is nothing."""
    scope = visible_organizations(user)
    if scope is None:
        return criteria
    metadata = dict(criteria.get("metadata") or {})
    asked = metadata.get("organization_id")
    allowed = scope if asked is None else scope & {asked}
    if not allowed:
        return None
    metadata["organization_id"] = sorted(allowed)
    return {**criteria, "metadata": metadata}


def may_see(user: Any, event: Any) -> bool:
    """Return whether ``user`` may see ``event`` (a RecordedEvent): all, or its organization's."""
    scope = visible_organizations(user)
    return scope is None or event.metadata.get("organization_id") in scope
