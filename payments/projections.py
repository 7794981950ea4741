"""The payments read model (``PaymentSummary``), a checkpointed projection.

:class:`PaymentSummaryProjection` (``payments.summary``) is declared in
``settings.EVENTSTORE_PROJECTIONS`` and run by :mod:`eventstore.projections`:
inline after each append on the memory backend, by ``manage.py
eventstore_projections run`` on the database backend. Each batch of Payment
events updates the rows of the payments it touches by replaying those
payments from the store (idempotent); the batch and the checkpoint commit in
one transaction. ``rebuild`` empties the table and applies every event again.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from eventstore import eventstore as default_store
from eventstore.exceptions import UndecodableEventError
from eventstore.projections import Projection
from eventstore.projections import rebuild as rebuild_projection
from eventstore.projections.rows import upsert
from eventstore.records import RecordedEvent

from .aggregate import Payment
from .events import PaymentFailed, PaymentProcessed, PaymentRefunded
from .models import PaymentSummary

__all__ = ["PaymentSummaryProjection", "project", "rebuild"]

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


def project(events: Iterable[RecordedEvent], store: Any = None) -> list[str]:
    """Update the summaries of the payments ``events`` touch.

    A payment whose history no longer decodes (an event type renamed without
    an alias, a payload that no longer fits its class) keeps the row it had
    and is left out of this update, so the others go on.

    Returns:
        One note per payment left out, naming it and the event that does not decode.
    """
    store = store or default_store
    payment_ids = {e.aggregate_id for e in events if e.aggregate_type == Payment.aggregate_type}
    histories: dict[str, list[RecordedEvent]] = {}
    # One search for every stream the batch touches (not one read per payment).
    for record in store.search(aggregate_id=sorted(payment_ids)) if payment_ids else ():
        histories.setdefault(record.aggregate_id, []).append(record)
    rows = []
    left_out = []
    for payment_id in sorted(histories):
        history = histories[payment_id]
        try:
            payment = Payment.from_events(payment_id, history)
        except UndecodableEventError as exc:
            left_out.append(f"payment {payment_id!r}: {exc}")
            continue
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
    # One upsert statement for the whole batch (INSERT ... ON CONFLICT DO UPDATE), the
    # statement bulk_create(update_conflicts=True) sends, built once.
    upsert(PaymentSummary, rows, unique_fields=["payment_id"], update_fields=_UPDATED_FIELDS)
    return left_out


class PaymentSummaryProjection(Projection):
    """``payments.summary``: one ``PaymentSummary`` row per payment."""

    name = "payments.summary"
    event_types = [e.event_type for e in (PaymentProcessed, PaymentRefunded, PaymentFailed)]

    def apply(self, events: list[RecordedEvent], store: Any) -> list[str]:
        return project(events, store)

    def reset(self) -> None:
        PaymentSummary.objects.all().delete()


def rebuild(
    store: Any = None,
    *,
    batch_size: int = 1000,
    progress: Callable[[int, int], None] | None = None,
) -> int:
    """Empty the read model and rebuild it from every event; return the position reached.

    ``progress(position, last_position)`` is called after each batch.
    """
    from eventstore.projections import get_projection

    result = rebuild_projection(
        get_projection(PaymentSummaryProjection.name),
        store=store,
        batch_size=batch_size,
        progress=progress,
    )
    return result.position
