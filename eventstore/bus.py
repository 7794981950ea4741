"""The event bus: a Django signal sent after each durable append, and catch-up.

Subscribe with Django's own signal API::

    from django.dispatch import receiver
    from eventstore.bus import events_appended

    @receiver(events_appended)
    def project(sender, store, events, **kwargs):
        ...

A receiver is called once per appended batch, after the batch is durable
(recorded in memory; committed for a database backend), with the batch's
:class:`~eventstore.records.RecordedEvent` objects in position order. A
receiver that raises does not undo the append and does not stop the other
receivers: the error is reported by :func:`report_receiver_error` (logged with
the batch's event ids, then sent as :data:`receiver_failed`).

A projection runner reports its own failures through
:func:`report_receiver_error` too, so they are logged the same way and the
testing support's strict mode (:mod:`eventstore.testing`) fails the test that
caused them. Outside tests nothing listens to :data:`receiver_failed`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from django.dispatch import Signal

from .records import RecordedEvent

if TYPE_CHECKING:
    from .backends.base import BaseEventStore

__all__ = ["events_appended", "receiver_failed", "publish", "report_receiver_error", "catch_up"]

logger = logging.getLogger("eventstore.bus")

events_appended = Signal()
"""Sent after each durable append; keyword arguments ``store``, ``alias`` and ``events``."""

receiver_failed = Signal()
"""Sent by :func:`report_receiver_error`; keyword arguments ``receiver``, ``events``, ``error``.

Sent with ``send``: an exception raised by one of its receivers propagates.
"""


def publish(store: BaseEventStore, events: Sequence[RecordedEvent]) -> None:
    """Send :data:`events_appended` for one batch; log (never raise) receiver errors.

    Then run the inline projection runner (:mod:`eventstore.projections.inline`).
    """
    if not events:
        return
    # ``receivers`` is empty when nothing is connected at all: then skip the look-up
    # of the receivers for this sender (Django's own send() checks it the same way).
    if events_appended.receivers and events_appended.has_listeners(type(store)):
        results = events_appended.send_robust(
            sender=type(store), store=store, alias=store.alias, events=list(events)
        )
        for receiver, result in results:
            if isinstance(result, Exception):
                report_receiver_error(receiver, events, result, sender=type(store))
    global _run_inline
    if _run_inline is None:
        from .projections.inline import run_inline

        _run_inline = run_inline
    _run_inline(store, events)


#: eventstore.projections.inline.run_inline, imported on first use (it imports this module).
_run_inline: Callable[[BaseEventStore, Sequence[RecordedEvent]], None] | None = None


def report_receiver_error(
    receiver: object,
    events: Sequence[RecordedEvent],
    error: BaseException,
    *,
    sender: object = None,
) -> None:
    """Log that ``receiver`` (a bus receiver or a projection) failed on ``events``.

    Then send :data:`receiver_failed`, which the testing support's strict mode
    listens to; ``error`` itself is not re-raised. ``sender`` is the store class
    for bus receivers.
    """
    logger.error(
        "Event bus receiver %r failed for events %s",
        receiver,
        ", ".join(str(event.event_id) for event in events),
        exc_info=error,
    )
    receiver_failed.send(sender=sender, receiver=receiver, events=list(events), error=error)


def catch_up(
    store: BaseEventStore,
    handler: Callable[[list[RecordedEvent]], object],
    *,
    after_position: int = 0,
    batch_size: int = 1000,
) -> int:
    """Feed ``handler`` every event after ``after_position``, in pages of ``batch_size``.

    Use it to rebuild a projection from zero (``after_position=0``) or to resume
    from a saved checkpoint. ``handler`` receives each page (a non-empty list in
    position order). Events appended while catching up are included.

    Returns:
        The position of the last event handed over, or ``after_position`` when
        there was none. Save it as the next checkpoint.
    """
    position = after_position
    while True:
        page = store.read_all(after_position=position, limit=batch_size)
        if not page:
            return position
        handler(page)
        position = page[-1].position
