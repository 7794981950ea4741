"""The payments read model (``PaymentSummary``), kept up to date by the event bus.

Each batch of Payment events updates the rows of the payments it touches by
replaying those payments from the store: idempotent (handling a batch twice
changes nothing) and self-healing (a missed batch is caught up by the next
event of that payment). ``rebuild`` empties the table and feeds it every
event from position 0, reporting the position it reached.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from django.db import transaction
from django.dispatch import receiver

from eventstore import eventstore as default_store
from eventstore.bus import catch_up, events_appended
from eventstore.records import RecordedEvent

from .aggregate import Payment
from .models import PaymentSummary

__all__ = ["project", "rebuild"]

_UPDATED_FIELDS = [
    "organization_id",
    "status",
    "amount",
    "currency",
    "refunded_amount",
    "failure_reason",
    "processed_at",
    "updated_at",
    "version",
    "created_position",
]


def project(events: Iterable[RecordedEvent], store: Any = None) -> int:
    """Update the summaries of the payments ``events`` touch; return how many rows changed."""
    store = store or default_store
    payment_ids = {e.aggregate_id for e in events if e.aggregate_type == Payment.aggregate_type}
    rows = []
    for payment_id in sorted(payment_ids):
        history = store.read_aggregate(payment_id)
        if not history:
            continue
        payment = Payment.from_events(payment_id, history)
        processed = next((e for e in history if e.event_type == "PaymentProcessed"), None)
        rows.append(
            PaymentSummary(
                payment_id=payment_id,
                organization_id=payment.organization_id,
                status=payment.status,
                amount=payment.amount,
                currency=payment.currency,
                refunded_amount=payment.refunded_amount,
                failure_reason=payment.failure_reason or "",
                processed_at=processed.timestamp if processed else None,
                updated_at=history[-1].timestamp,
                version=payment.version,
                created_position=history[0].position,
            )
        )
    # One upsert statement for the whole batch (INSERT ... ON CONFLICT DO UPDATE).
    PaymentSummary.objects.bulk_create(
        rows,
        update_conflicts=True,
        unique_fields=["payment_id"],
        update_fields=_UPDATED_FIELDS,
    )
    return len(rows)


def rebuild(
    store: Any = None,
    *,
    batch_size: int = 1000,
    progress: Callable[[int, int], None] | None = None,
) -> int:
    """Empty the read model and rebuild it from every event; return the last position read.

    ``progress(position, last_position)`` is called after each page.
    """
    store = store or default_store
    last = store.last_position()
    with transaction.atomic():
        PaymentSummary.objects.all().delete()

        def handle(page: list[RecordedEvent]) -> None:
            project(page, store)
            if progress is not None:
                progress(page[-1].position, last)

        return catch_up(store, handle, batch_size=batch_size)


@receiver(events_appended, dispatch_uid="payments.projections.on_events_appended")
def on_events_appended(sender: Any, store: Any, events: list[RecordedEvent], **kwargs: Any) -> None:
    """Keep the read model current as Payment events are appended to the default store."""
    if store.alias == "default" and any(e.aggregate_type == Payment.aggregate_type for e in events):
        project(events, store)
