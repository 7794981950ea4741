"""System checks for the ``EVENTSTORES`` setting (``manage.py check``)."""

from __future__ import annotations

from typing import Any

from django.core import checks

from .exceptions import EventStoreError, InvalidBackendError
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


@checks.register(checks.Tags.database)
def check_stored_event_types(
    app_configs: Any = None, databases: Any = None, **kwargs: Any
) -> list[checks.CheckMessage]:
    """List event types present in a store that no registered class handles (eventstore.W003).

    Such events (a class renamed or removed in a deploy) still list and export,
    but nothing can replay them: declare the former name as an alias
    (``aliases=("Old",)``) or restore the class. A ``database``-tagged check:
    Django runs it when databases are checked (``manage.py check --database
    default``, ``migrate``, the test runner); a memory store is read from its
    type index, a database store (only when its database is among those
    checked) with one GROUP BY on the type index.
    """
    messages: list[checks.CheckMessage] = []
    for alias in eventstores:
        try:
            store = eventstores[alias]
            database = store.options.get("DATABASE")
            if database is not None and (databases is None or database not in databases):
                continue  # a database store is read only when its database is checked
            counts = store.event_type_counts()
        except (InvalidBackendError, EventStoreError):
            continue  # E001 reports stores that cannot be built; a store down is not a type
        unknown = {name: count for name, count in counts.items() if name not in store.registry}
        if unknown:
            listed = ", ".join(
                f"{name} ({count} events)" for name, count in sorted(unknown.items())
            )
            messages.append(
                checks.Warning(
                    f"EVENTSTORES[{alias!r}] holds events of types no class handles: {listed}.",
                    hint="Declare the former name on the renamed class "
                    '(class New(DomainEvent, aliases=("Old",))) or restore the class; until '
                    "then pages and the API list these events but cannot build state past them.",
                    id="eventstore.W003",
                )
            )
    return messages
