"""The inline runner: after each durable append, in the appending process.

Called by :func:`eventstore.bus.publish` after the bus receivers. For each
declared projection following the store that handles one of the batch's
event types, it runs :func:`~eventstore.projections.runner.catch_up` from the
checkpoint (not only the new batch), so a failed or missed batch is never a
permanent hole: the next append retries from the last good position.

``settings.EVENTSTORE_PROJECTIONS_INLINE``: None (default) runs inline for
process-memory stores only (the database backend is followed by the daemon,
``manage.py eventstore_projections run``); True for every backend; False never.
A failure is logged and recorded (status ``stalled``), or raised when
``EVENTSTORE_PROJECTIONS_RAISE`` is True (tests); the append itself stands.
A failure to reach the view at all (a locked database, a test without
database access) moves no checkpoint and never escapes ``append``: it is
logged and reported to the testing support's strict mode, and the next
append retries.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.conf import settings

from ..bus import report_receiver_error
from ..records import RecordedEvent
from .registry import following
from .runner import catch_up, is_applying, raise_errors

__all__ = ["inline_enabled", "run_inline"]


def inline_enabled(store: Any) -> bool:
    """Whether appends to ``store`` run its projections inline."""
    mode = getattr(settings, "EVENTSTORE_PROJECTIONS_INLINE", None)
    if mode is None:
        from ..backends.memory import InMemoryEventStore

        return isinstance(store, InMemoryEventStore)
    return bool(mode)


def run_inline(store: Any, events: Sequence[RecordedEvent]) -> None:
    """Catch up the store's projections that handle one of ``events`` (see the module)."""
    declared = following(store.alias)
    if not declared or not inline_enabled(store):
        return
    for projection in declared:
        if is_applying(projection.name) or not any(projection.handles(e) for e in events):
            continue  # being applied by this thread: that call's loop picks the events up
        try:
            catch_up(projection, store=store, lock="wait")
        except Exception as exc:  # noqa: BLE001 - the append stands; the next one retries
            if raise_errors():
                raise  # EVENTSTORE_PROJECTIONS_RAISE (tests) asked for it
            # Reaching the view failed (a locked database, no database access in a
            # test): not the projection's fault, so no checkpoint moved. Report it.
            report_receiver_error(projection, events, exc)
