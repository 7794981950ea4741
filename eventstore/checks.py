"""System checks for the ``EVENTSTORES`` setting (``manage.py check``)."""

from __future__ import annotations

from typing import Any

from django.core import checks

from .exceptions import InvalidBackendError
from .handler import eventstores


@checks.register(checks.Tags.compatibility)
def check_eventstores(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """Report stores that cannot be built (eventstore.E001) and each backend's own warnings."""
    messages: list[checks.CheckMessage] = []
    for alias in eventstores:
        try:
            store = eventstores[alias]
        except InvalidBackendError as exc:
            messages.append(checks.Error(str(exc), id="eventstore.E001"))
            continue
        messages.extend(store.check())
    return messages
