"""The projection contract: a named view of the history, fed one batch of events at a time."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from ..events import registry
from ..records import RecordedEvent

__all__ = ["Projection"]


class Projection:
    """A read model derived from the history of one store.

    Subclass it, set :attr:`name` (stable: the checkpoint is stored under it)
    and :attr:`event_types`, implement :meth:`apply` and :meth:`reset`, and
    list the class's dotted path in ``settings.EVENTSTORE_PROJECTIONS``.

    A projection that writes Django models in :attr:`database` gets each
    event applied exactly once: :meth:`apply` runs inside the transaction
    that also moves the checkpoint, and a batch that raises is rolled back.
    Side effects outside that database (e-mails, HTTP calls) are not rolled
    back: make them idempotent.
    """

    #: Stable name (``"payments.summary"``); the checkpoint's key.
    name: str = ""
    #: Event types this projection handles; None for every event.
    event_types: Iterable[str] | None = None
    #: The ``EVENTSTORES`` alias it follows.
    store_alias: str = "default"
    #: The ``DATABASES`` alias holding the view and the checkpoint.
    database: str = "default"
    #: Events read per batch (one transaction each).
    batch_size: int = 500

    def __init__(self) -> None:
        if not self.name:
            raise TypeError(f"{type(self).__name__} needs a name.")
        self._names = None if self.event_types is None else tuple(self.event_types)

    #: (registry version, the names handled with their former names), see handles().
    _stored_names: tuple[int, frozenset[str]] | None = None

    def handles(self, event: RecordedEvent) -> bool:
        """Whether :meth:`apply` wants ``event`` (its type, or a former name of it)."""
        names = self._names
        if names is None:
            return True
        event_type = event.event_type
        if event_type in names:
            return True
        # A renamed type's former names (aliases) are the same type: handle them too.
        # Derived from the registry again whenever it changed, so classes registered
        # later count.
        stored = self._stored_names
        version = registry.version
        if stored is None or stored[0] != version:
            stored = self._stored_names = (
                version,
                frozenset(alias for name in names for alias in registry.stored_names(name)),
            )
        return event_type in stored[1]

    def apply(self, events: list[RecordedEvent], store: Any) -> Iterable[str] | None:
        """Apply one batch: the events this projection handles, in position order.

        Runs inside a transaction on :attr:`database`; raise to refuse the batch
        (the projection then stops there, stalled, naming the event). Return
        notes (strings) about items it deliberately left out of the view while
        going on — say, an aggregate whose history no longer decodes — or None:
        runners log them as warnings and the rebuild command lists them.
        """
        raise NotImplementedError(f"{type(self).__name__} must implement apply()")

    def reset(self) -> None:
        """Forget every derived row (before a rebuild from position 0)."""
        raise NotImplementedError(f"{type(self).__name__} must implement reset()")

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name!r}>"
