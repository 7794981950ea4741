"""Read-side services for payments: history, search, correlation timeline, replay.

Each reads the store through its indexes (one aggregate, one correlation id,
one type and time range), never by scanning every event.
"""

from __future__ import annotations

import itertools
from collections.abc import Collection, Iterable
from datetime import datetime
from typing import Any

from eventstore import eventstore as default_store
from eventstore.records import RecordedEvent

from .aggregate import Payment
from .exceptions import PaymentError, PaymentNotFound, VersionNotFound

__all__ = ["PaymentQueries"]


class PaymentQueries:
    """Queries over payment events in a store (the default store unless given).

    Args:
        store: the event store to read.
        organizations: the organization ids the reader may see; None means all.
            A payment of another organization is reported as not found, so its
            id is never confirmed (the same rule as the command handler's).
    """

    def __init__(self, store: Any = None, *, organizations: Collection[str] | None = None) -> None:
        self.store = store or default_store
        self.organizations = organizations

    def history(self, payment_id: str) -> list[RecordedEvent]:
        """Return the payment's events in version order (one read of its stream).

        Raises:
            PaymentNotFound: if the payment has no events, or belongs to an
                organization outside ``organizations``.
        """
        events = self.store.read_aggregate(payment_id)
        if not events or events[0].aggregate_type != Payment.aggregate_type:
            raise PaymentNotFound(payment_id)
        # Every event of a payment carries the payment's organization in its metadata.
        if (
            self.organizations is not None
            and events[0].metadata.get("organization_id") not in self.organizations
        ):
            raise PaymentNotFound(payment_id)
        return events

    def state(self, payment_id: str, version: int | None = None) -> Payment:
        """Return the payment replayed up to ``version`` (inclusive; None for the latest).

        Raises:
            PaymentNotFound: if the payment has no events.
            PaymentError: if ``version`` is below 1 (field ``version``).
            VersionNotFound: if ``version`` is above the payment's version.
        """
        if version is not None and version < 1:
            raise PaymentError("version must be 1 or more.", "version")
        events = self.history(payment_id)
        if version is not None and version > len(events):
            raise VersionNotFound(
                f"Payment {payment_id!r} has {len(events)} version(s); {version} does not exist."
            )
        return Payment.from_events(payment_id, events[:version])

    def state_at(self, payment_id: str, moment: datetime, *, exclusive: bool = False) -> Payment:
        """Return the payment replayed over its events recorded up to ``moment``.

        Inclusive unless ``exclusive`` (then strictly before ``moment``). The
        events replayed are the longest prefix of versions stamped by then: the
        store keeps a stream's times non-decreasing, and a history stored before
        that rule still replays a prefix, never a version without its predecessors.

        Raises:
            PaymentNotFound: if the payment has no events by then (the message
                says so, with the time of its first event), or none at all.
        """
        history = self.history(payment_id)
        events = list(
            itertools.takewhile(
                lambda event: (
                    event.timestamp < moment or (not exclusive and event.timestamp == moment)
                ),
                history,
            )
        )
        if not events:
            first = history[0].timestamp.isoformat()
            raise PaymentNotFound(
                payment_id, f"did not exist yet then (its first event is at {first})"
            )
        return Payment.from_events(payment_id, events)

    def search(
        self,
        *,
        event_type: str | Iterable[str] | None = None,
        start: datetime | None = None,
        end: datetime | None = None,
        after_position: int = 0,
        limit: int | None = None,
    ) -> list[RecordedEvent]:
        """Return payment events of ``event_type`` recorded between ``start`` and ``end``.

        Both ends inclusive, timezone-aware (``InvalidQueryError`` otherwise); in
        position order.
        """
        return self.store.search(
            aggregate_type=Payment.aggregate_type,
            event_type=event_type,
            timestamp__gte=start,
            timestamp__lte=end,
            after_position=after_position,
            limit=limit,
        )

    def correlation_timeline(self, correlation_id: str) -> list[RecordedEvent]:
        """Return every event sharing ``correlation_id``, across aggregates, in position order."""
        return self.store.read_by_correlation(correlation_id)
