"""The events of a payment's stream. Amounts are ``Decimal``, stored as exact strings.

Each declares its money role (``money=MoneyRole(...)``): the event store's money
analytics count processed, refunded and failed payments from it, reading the
``amount``, ``currency`` and (failures) ``reason`` fields.

Personal data: ``PaymentFailed.reason`` is the acting user's (the metadata
``user_id``), stored encrypted under their key and erased with it; the metadata
``user_id`` and ``username`` are personal in every event (eventstore's default).
"""

from __future__ import annotations

from decimal import Decimal

from eventstore.events import DomainEvent, event
from eventstore.money import MoneyRole
from eventstore.privacy import PersonalData


@event
class PaymentProcessed(DomainEvent, money=MoneyRole("processed")):
    """A payment of ``amount`` ``currency`` for ``organization_id`` went through."""

    amount: Decimal
    currency: str
    organization_id: str


@event
class PaymentRefunded(DomainEvent, money=MoneyRole("refunded")):
    """``amount`` (in the payment's currency) was given back; ``refund_id`` names the refund."""

    amount: Decimal
    currency: str
    refund_id: str


@event
class PaymentFailed(
    DomainEvent,
    money=MoneyRole("failed", reason="reason"),
    personal=PersonalData(fields=("reason",)),
):
    """An attempt to pay ``amount`` ``currency`` for ``organization_id`` failed for ``reason``."""

    amount: Decimal
    currency: str
    organization_id: str
    reason: str
