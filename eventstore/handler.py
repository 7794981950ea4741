"""Turn the ``EVENTSTORES`` setting into store instances, the way Django's ``caches`` does.

::

    EVENTSTORES = {
        "default": {
            "BACKEND": "eventstore.backends.memory.InMemoryEventStore",
            "OPTIONS": {"MAX_EVENTS": 1_000_000},
        },
    }

``eventstores["default"]`` returns the configured store (one instance per
alias per process, shared by every thread: backends are thread-safe), and
:data:`eventstore.eventstore` is a proxy to the default one. The handler is
rebuilt when the setting changes (``override_settings``, pytest-django's
``settings`` fixture).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any, cast

from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.utils.module_loading import import_string

from .backends.base import BaseEventStore
from .exceptions import InvalidBackendError

__all__ = ["DEFAULT_EVENTSTORE_ALIAS", "DEFAULT_SETTINGS", "EventStoreHandler", "eventstores"]

DEFAULT_EVENTSTORE_ALIAS = "default"
DEFAULT_SETTINGS = {
    DEFAULT_EVENTSTORE_ALIAS: {"BACKEND": "eventstore.backends.memory.InMemoryEventStore"}
}


class EventStoreHandler:
    """Lazily build and hold one store per alias of the ``EVENTSTORES`` setting."""

    def __init__(self, configuration: dict[str, Any] | None = None) -> None:
        self._given = configuration
        self._configuration = configuration
        self._stores: dict[str, BaseEventStore] = {}
        self._lock = threading.Lock()

    @property
    def configuration(self) -> dict[str, Any]:
        """The ``EVENTSTORES`` dict in force (Django settings unless given explicitly)."""
        if self._configuration is None:
            self._configuration = getattr(settings, "EVENTSTORES", DEFAULT_SETTINGS)
        return self._configuration

    def __getitem__(self, alias: str) -> BaseEventStore:
        store = self._stores.get(alias)
        if store is not None:
            return store
        with self._lock:
            store = self._stores.get(alias)
            if store is None:
                store = self._stores[alias] = self.create_store(alias)
            return store

    def __iter__(self) -> Iterator[str]:
        return iter(self.configuration)

    def all(self, initialized_only: bool = False) -> list[BaseEventStore]:
        """Return the stores of every alias (only those already built if asked)."""
        if initialized_only:
            return list(self._stores.values())
        return [self[alias] for alias in self]

    def create_store(self, alias: str) -> BaseEventStore:
        """Build the store configured under ``alias``.

        Raises:
            InvalidBackendError: naming the alias when it is not configured, its
                ``BACKEND`` cannot be imported or is not a store class, or an option
                is invalid.
        """
        try:
            params = dict(self.configuration[alias])
        except KeyError:
            raise InvalidBackendError(
                f"The event store alias {alias!r} is not in settings.EVENTSTORES."
            ) from None
        backend = params.pop("BACKEND", None)
        options = params.pop("OPTIONS", {}) or {}
        if params:
            raise InvalidBackendError(
                f"EVENTSTORES[{alias!r}]: unknown key(s) {', '.join(sorted(params))}; "
                "use BACKEND and OPTIONS."
            )
        if not isinstance(backend, str):
            raise InvalidBackendError(f"EVENTSTORES[{alias!r}] needs a BACKEND dotted path.")
        try:
            backend_class = import_string(backend)
        except ImportError as exc:
            raise InvalidBackendError(
                f"EVENTSTORES[{alias!r}]: could not import BACKEND {backend!r}: {exc}"
            ) from exc
        if not (isinstance(backend_class, type) and issubclass(backend_class, BaseEventStore)):
            raise InvalidBackendError(
                f"EVENTSTORES[{alias!r}]: BACKEND {backend!r} is not a BaseEventStore subclass."
            )
        if not isinstance(options, dict):
            raise InvalidBackendError(f"EVENTSTORES[{alias!r}]: OPTIONS must be a dict.")
        return backend_class(alias, options)

    def reset(self) -> None:
        """Forget built stores and the cached setting (stored data stays with its backend)."""
        with self._lock:
            self._stores = {}
            self._configuration = self._given


eventstores = EventStoreHandler()
"""The process-wide handler configured by ``settings.EVENTSTORES``."""


@receiver(setting_changed)
def _reset_on_setting_changed(*, setting: str, **kwargs: Any) -> None:
    if setting == "EVENTSTORES":
        eventstores.reset()


class DefaultEventStoreProxy:
    """Proxy to ``eventstores["default"]`` that follows setting changes."""

    def __getattr__(self, name: str) -> Any:
        return getattr(eventstores[DEFAULT_EVENTSTORE_ALIAS], name)

    def __setattr__(self, name: str, value: Any) -> None:
        setattr(eventstores[DEFAULT_EVENTSTORE_ALIAS], name, value)

    def __repr__(self) -> str:
        return f"<DefaultEventStoreProxy for {eventstores[DEFAULT_EVENTSTORE_ALIAS]!r}>"


# Typed as the store it stands for: every attribute is the default store's.
eventstore = cast(BaseEventStore, DefaultEventStoreProxy())
"""The default store, looked up on every use."""
