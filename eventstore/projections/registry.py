"""Projections declared in ``settings.EVENTSTORE_PROJECTIONS`` (dotted paths), by name.

Only that setting is ever imported: nothing read from stored data (a
checkpoint name, an event) chooses code to import.
"""

from __future__ import annotations

import threading
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.utils.module_loading import import_string

from .base import Projection

__all__ = ["get_projection", "projections", "projections_for"]

_cache: dict[str, Projection] | None = None
_lock = threading.Lock()


def projections() -> dict[str, Projection]:
    """Return the declared projections, by name, in declaration order.

    Raises:
        ImproperlyConfigured: a path does not import, is not a Projection, or two share a name.
    """
    global _cache
    cached = _cache
    if cached is not None:
        return cached
    with _lock:
        if _cache is None:
            found: dict[str, Projection] = {}
            for path in getattr(settings, "EVENTSTORE_PROJECTIONS", []):
                try:
                    target = import_string(path)
                except ImportError as exc:
                    raise ImproperlyConfigured(
                        f"EVENTSTORE_PROJECTIONS: cannot import {path!r}: {exc}"
                    ) from exc
                projection = target() if isinstance(target, type) else target
                if not isinstance(projection, Projection):
                    raise ImproperlyConfigured(
                        f"EVENTSTORE_PROJECTIONS: {path!r} is not a Projection."
                    )
                if projection.name in found:
                    raise ImproperlyConfigured(
                        f"EVENTSTORE_PROJECTIONS: two projections are named {projection.name!r}."
                    )
                found[projection.name] = projection
            _cache = found
        return _cache


#: (the projections() dict it was computed from, alias -> its projections); one
#: tuple, replaced whole, so a reader never pairs a new source with an old table.
_following: tuple[dict[str, Projection] | None, dict[str, tuple[Projection, ...]]] = (None, {})


def projections_for(alias: str) -> list[Projection]:
    """Return the declared projections following the store ``alias`` (a new list)."""
    return list(following(alias))


def following(alias: str) -> tuple[Projection, ...]:
    """Return the declared projections following the store ``alias``.

    Computed once per alias and declaration: every append asks, through the
    inline runner.
    """
    global _following
    source, by_alias = _following
    if source is not None and source is _cache:
        cached = by_alias.get(alias)
        if cached is not None:
            return cached
    declared = projections()
    source, by_alias = _following
    if source is not declared:
        by_alias = {}
        _following = (declared, by_alias)
    found = by_alias[alias] = tuple(p for p in declared.values() if p.store_alias == alias)
    return found


def get_projection(name: str) -> Projection:
    """Return the declared projection ``name``.

    Raises:
        KeyError: naming the declared ones, if there is none by that name.
    """
    declared = projections()
    try:
        return declared[name]
    except KeyError:
        raise KeyError(
            f"No projection named {name!r} in EVENTSTORE_PROJECTIONS; declared: "
            f"{', '.join(declared) or 'none'}."
        ) from None


@receiver(setting_changed)
def _reset_on_setting_changed(*, setting: str, **kwargs: Any) -> None:
    global _cache
    if setting == "EVENTSTORE_PROJECTIONS":
        _cache = None
