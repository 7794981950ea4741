"""The events of a payment's stream. Amounts are ``Decimal``, stored as exact strings."""

from __future__ import annotations

from decimal import Decimal

from eventstore.events import DomainEvent, event


@event
class PaymentProcessed(DomainEvent):
    """A payment of ``amount`` ``currency`` for ``organization_id`` went through."""

    amount: Decimal
    currency: str
    organization_id: str


@event
class PaymentRefunded(DomainEvent):
    """``amount`` (in the payment's currency) was given back; ``refund_id`` names the refund."""

    amount: Decimal
    currency: str
    refund_id: str


@event
class PaymentFailed(DomainEvent):
    """An attempt to pay ``amount`` ``currency`` for ``organization_id`` failed for ``reason``."""

    amount: Decimal
    currency: str
    organization_id: str
    reason: str
