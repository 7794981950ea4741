"""Which events an API user may see: all of them, or their organizations' only.

Users holding ``eventstore.view_audit_trail`` see everything. Everyone else
sees the events whose ``metadata.organization_id`` is one of their
organizations, as returned by the callable named in the
``EVENTSTORE_USER_ORGANIZATIONS`` setting (a dotted path, read from settings,
never from data; it takes a user and returns an iterable of organization ids).
Without that setting, such users see nothing.

Caching (``settings.EVENTSTORE_SCOPE_CACHE_SECONDS``, default 0: off). With a
number of seconds above 0, a user's scope (the permission check and the
resolver's answer) is kept in this process for that long, so that a request
does not load the user's permissions and memberships from the database every
time. What a change takes, once cached:

- ``is_active`` and ``is_superuser`` are read from the user object of each
  call (a fresh row per request): a change of either applies at once,
  everywhere.
- Permissions and groups (``django.contrib.auth``): a change of a user's
  permissions or groups, of a group's permissions, or deleting a user, group
  or permission forgets every cached scope of this process at once (signals).
- Memberships: the resolver is the project's, so the project tells this module
  when they change, by calling :func:`forget_scopes` from its own signal
  receivers (:func:`forget_scopes_on_change` is one; ``payments`` connects it
  to ``Organization.members`` and to saving or deleting an organization).
- Other processes (gunicorn workers, ``manage.py shell``) do not receive
  those signals: there a change applies when the cached entry expires, within
  ``EVENTSTORE_SCOPE_CACHE_SECONDS`` seconds. A membership revoked anywhere is
  therefore in force everywhere after at most that many seconds; keep it short.
- Tests: the eventstore pytest plugin forgets every scope before each test
  (a rolled-back test sends no signal, and the next one may reuse the user's
  id); Django ``TestCase`` users call :func:`forget_scopes` in ``setUp``.

Only users with a primary key are cached; the entry is keyed by primary key,
``is_active`` and ``is_superuser``. The cache holds at most
:data:`MAX_CACHED_USERS` users (emptied when full).
"""

from __future__ import annotations

import functools
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.signals import setting_changed
from django.db import transaction
from django.utils.module_loading import import_string

__all__ = [
    "AUDIT_TRAIL_PERMISSION",
    "MAX_CACHED_USERS",
    "connect_auth_signals",
    "forget_scopes",
    "forget_scopes_on_change",
    "may_see",
    "scoped_criteria",
    "visible_organizations",
]

AUDIT_TRAIL_PERMISSION = "eventstore.view_audit_trail"
#: Users whose scope the cache holds at most; it is emptied when full.
MAX_CACHED_USERS = 10_000

_CacheKey = tuple[Any, bool, bool]
#: key → (monotonic expiry, scope); replaced whole by forget_scopes (readers need no lock).
_cache: dict[_CacheKey, tuple[float, frozenset[str] | None]] = {}
_cache_lock = threading.Lock()


@functools.cache
def _resolver(path: str | None) -> Callable[[Any], Iterable[str]] | None:
    return import_string(path) if path else None


def cache_seconds() -> float:
    """Return ``settings.EVENTSTORE_SCOPE_CACHE_SECONDS`` (default 0: no caching).

    Raises:
        ImproperlyConfigured: not a number of seconds of 0 or more.
    """
    seconds = getattr(settings, "EVENTSTORE_SCOPE_CACHE_SECONDS", 0)
    if isinstance(seconds, bool) or not isinstance(seconds, (int, float)) or seconds < 0:
        raise ImproperlyConfigured(
            "EVENTSTORE_SCOPE_CACHE_SECONDS must be a number of seconds, 0 or more."
        )
    return float(seconds)


def forget_scopes(**_signal_kwargs: Any) -> None:
    """Forget every cached scope of this process (see the module); usable as a signal receiver."""
    global _cache
    with _cache_lock:
        _cache = {}


def forget_scopes_on_change(*, using: str | None = None, **_signal_kwargs: Any) -> None:
    """Signal receiver: forget every cached scope now, and again once the change commits.

    Connect it to the signals of whatever the ``EVENTSTORE_USER_ORGANIZATIONS``
    resolver reads (``m2m_changed``, ``post_save``, ``post_delete``). The second
    time matters inside a transaction: a request that reads the old rows before
    the commit could otherwise cache them again.
    """
    forget_scopes()
    transaction.on_commit(forget_scopes, using=using)


def _load_scope(user: Any) -> frozenset[str] | None:
    if user.is_active and user.has_perm(AUDIT_TRAIL_PERMISSION):
        return None
    resolver = _resolver(getattr(settings, "EVENTSTORE_USER_ORGANIZATIONS", None))
    if resolver is None or not user.is_authenticated:
        return frozenset()
    return frozenset(resolver(user))


def visible_organizations(user: Any) -> frozenset[str] | None:
    """Return the organization ids ``user`` may see, or None meaning "all".

    None for an active user holding :data:`AUDIT_TRAIL_PERMISSION`; otherwise
    what ``settings.EVENTSTORE_USER_ORGANIZATIONS`` returns for the user
    (empty without that setting, or for an anonymous user). Kept per user for
    ``EVENTSTORE_SCOPE_CACHE_SECONDS`` (see the module for what a change takes).
    """
    seconds = cache_seconds()
    pk = getattr(user, "pk", None)
    if not seconds or pk is None or not user.is_authenticated:
        return _load_scope(user)
    key = (pk, bool(user.is_active), bool(getattr(user, "is_superuser", False)))
    cache = _cache
    now = time.monotonic()
    entry = cache.get(key)
    if entry is not None and entry[0] > now:
        return entry[1]
    scope = _load_scope(user)
    # Into the dictionary read before loading: if forget_scopes replaced it meanwhile (a
    # change landed while this call read the old rows), what was loaded is not kept.
    with _cache_lock:
        if len(cache) >= MAX_CACHED_USERS:
            cache.clear()
        cache[key] = (now + seconds, scope)
    return scope


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


def connect_auth_signals() -> None:
    """Forget cached scopes when ``django.contrib.auth`` permissions or groups change.

    Connected by the eventstore app at start-up, when ``django.contrib.auth`` is
    installed: ``m2m_changed`` of the user model's ``groups`` and
    ``user_permissions`` and of ``Group.permissions``, and ``post_delete`` of the
    user model, ``Group`` and ``Permission``.
    """
    from django.apps import apps
    from django.contrib.auth import get_user_model
    from django.db.models.signals import m2m_changed, post_delete

    if not apps.is_installed("django.contrib.auth"):
        return
    from django.contrib.auth.models import Group, Permission

    user_model = get_user_model()
    relations = [Group.permissions]
    relations += [
        getattr(user_model, name)
        for name in ("groups", "user_permissions")
        if hasattr(user_model, name)
    ]
    for relation in relations:
        m2m_changed.connect(
            forget_scopes_on_change,
            sender=relation.through,
            dispatch_uid=f"eventstore-scope-{relation.through}",
        )
    for model in (user_model, Group, Permission):
        post_delete.connect(
            forget_scopes_on_change, sender=model, dispatch_uid=f"eventstore-scope-delete-{model}"
        )


def _on_setting_changed(*, setting: str, **_kwargs: Any) -> None:
    if setting in {"EVENTSTORE_USER_ORGANIZATIONS", "EVENTSTORE_SCOPE_CACHE_SECONDS"}:
        forget_scopes()


setting_changed.connect(_on_setting_changed, dispatch_uid="eventstore-scope-settings")
