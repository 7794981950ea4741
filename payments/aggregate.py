"""The Payment aggregate: one payment's rules, rebuilt from its events.

Statuses: ``failed`` (only failed attempts so far; a later attempt may still
succeed), ``processed``, ``partially_refunded``, ``refunded``.

Personal fields: ``PaymentFailed.reason`` (the acting user's, see
:mod:`payments.events`), kept as ``failure_reason`` for display only; rules
never read them, so an erased value (``"[erased]"``) replays.
"""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

from eventstore.aggregates import Aggregate, applies
from eventstore.records import RecordedEvent

from .events import PaymentFailed, PaymentProcessed, PaymentRefunded
from .exceptions import (
    CurrencyMismatch,
    InvalidReason,
    PaymentAlreadyProcessed,
    PaymentIdTaken,
    PaymentNotFound,
    PaymentNotRefundable,
    RefundExceedsRemaining,
    RefundIdConflict,
)
from .money import format_amount, normalize_currency, validate_amount

MAX_REASON_LENGTH = 500
SUCCEEDED = ("processed", "partially_refunded", "refunded")


class Payment(Aggregate):
    """One payment. Amounts are ``Decimal`` in ``currency``'s minor units (ISO 4217)."""

    aggregate_type = "Payment"
    api_url_names = {"history": "payment-history", "replay": "payment-replay"}

    def __init__(self, aggregate_id: str) -> None:
        super().__init__(aggregate_id)
        self.status: str | None = None
        self.amount: Decimal | None = None
        self.currency: str | None = None
        self.organization_id: str | None = None
        self.refunded_amount = Decimal(0)
        self.failure_reason: str | None = None
        self.failed_attempts = 0
        #: Id of the stored PaymentProcessed event (the cause of later refunds).
        self.processed_event_id: str | None = None
        #: The amount of each refund, by refund id (the first one for an id stored twice
        #: before ids were unique).
        self.refunds: dict[str, Decimal] = {}
        #: The last version each command (by its ``command_id`` metadata) recorded.
        self.commands: dict[str, int] = {}

    def replay(self, record: RecordedEvent) -> None:
        super().replay(record)
        if record.event_type == "PaymentProcessed":
            self.processed_event_id = str(record.event_id)
        command_id = record.metadata.get("command_id")
        if isinstance(command_id, str):
            self.commands[command_id] = record.version

    @property
    def payment_id(self) -> str:
        return self.aggregate_id

    @property
    def remaining_amount(self) -> Decimal:
        """What can still be refunded (0 for a payment that did not go through)."""
        if self.status not in SUCCEEDED or self.amount is None:
            return Decimal(0)
        return self.amount - self.refunded_amount

    # -- commands ------------------------------------------------------------------------

    def process(self, amount: object, currency: object, organization_id: str) -> None:
        """Record that the payment went through.

        Raises:
            UnknownCurrency / InvalidAmount: for a bad currency or amount.
            PaymentAlreadyProcessed: if this payment id already went through, or
                earlier failed attempts were for another organization.
        """
        currency = normalize_currency(currency)
        value = validate_amount(amount, currency)
        if self.status in SUCCEEDED:
            raise PaymentAlreadyProcessed(f"Payment {self.payment_id!r} was already processed.")
        if self.status == "failed" and organization_id != self.organization_id:
            raise PaymentIdTaken(
                f"Payment id {self.payment_id!r} is taken by another organization."
            )
        self.record(
            PaymentProcessed(amount=value, currency=currency, organization_id=organization_id)
        )

    def refund(self, amount: object, refund_id: str | None = None, currency: object = None) -> None:
        """Give back ``amount`` (in the payment's currency), at most what remains.

        ``currency``, when given, must be the payment's (a refund cannot change it).
        A ``refund_id`` names one refund of this payment: given again with the same
        amount ("30" and "30.00" EUR are the same), the refund is already done and
        nothing is recorded (an idempotent replay: no pending event); with another
        amount it is refused. Without one, the refund gets a new id.

        Raises:
            PaymentNotFound: if the payment has no events.
            PaymentNotRefundable: if it never went through (only failed attempts).
            UnknownCurrency / InvalidAmount: for a bad currency or amount;
            CurrencyMismatch: (an InvalidAmount) for a
                currency other than the payment's.
            RefundIdConflict: if ``refund_id`` names a refund of another amount.
            RefundExceedsRemaining: if ``amount`` is more than what remains.
        """
        if self.status is None:
            raise PaymentNotFound(self.payment_id)
        if self.status not in SUCCEEDED:
            raise PaymentNotRefundable(f"Payment {self.payment_id!r} failed: nothing to refund.")
        if currency is not None and normalize_currency(currency) != self.currency:
            raise CurrencyMismatch(
                f"Refunds of this payment are in {self.currency}, not {currency}.", "currency"
            )
        value = validate_amount(amount, self.currency)
        if refund_id is not None and refund_id in self.refunds:
            first = self.refunds[refund_id]
            if first == value:
                return  # already refunded: a replay records nothing
            raise RefundIdConflict(
                f"Refund {refund_id!r} of this payment was for {first} {self.currency}, "
                f"not {value} {self.currency}; give another refund_id for another refund.",
                "refund_id",
            )
        if value > self.remaining_amount:
            raise RefundExceedsRemaining(
                f"Refund of {value} {self.currency} exceeds the {self.remaining_amount} "
                f"{self.currency} that remains.",
                "amount",
            )
        self.record(
            PaymentRefunded(
                amount=value, currency=self.currency, refund_id=refund_id or str(uuid.uuid4())
            )
        )

    def fail(self, amount: object, currency: object, organization_id: str, reason: str) -> None:
        """Record a failed attempt to pay, with its reason (1 to 500 characters).

        Raises:
            UnknownCurrency / InvalidAmount / InvalidReason: for bad input.
            PaymentAlreadyProcessed: if the payment already went through, or its
                earlier attempts were for another organization.
        """
        currency = normalize_currency(currency)
        value = validate_amount(amount, currency)
        reason = (reason or "").strip() if isinstance(reason, str) else ""
        if not reason or len(reason) > MAX_REASON_LENGTH:
            raise InvalidReason(f"Give a reason of 1 to {MAX_REASON_LENGTH} characters.", "reason")
        if self.status in SUCCEEDED:
            raise PaymentAlreadyProcessed(f"Payment {self.payment_id!r} was already processed.")
        if self.status == "failed" and organization_id != self.organization_id:
            raise PaymentIdTaken(
                f"Payment id {self.payment_id!r} is taken by another organization."
            )
        self.record(
            PaymentFailed(
                amount=value, currency=currency, organization_id=organization_id, reason=reason
            )
        )

    # -- state changes -------------------------------------------------------------------

    @applies(PaymentProcessed)
    def _processed(self, event: PaymentProcessed) -> None:
        self.status = "processed"
        self.amount = event.amount
        self.currency = event.currency
        self.organization_id = event.organization_id
        self.failure_reason = None

    @applies(PaymentRefunded)
    def _refunded(self, event: PaymentRefunded) -> None:
        self.refunded_amount += event.amount
        self.refunds.setdefault(event.refund_id, event.amount)
        self.status = "refunded" if self.refunded_amount >= self.amount else "partially_refunded"

    @applies(PaymentFailed)
    def _failed(self, event: PaymentFailed) -> None:
        self.status = "failed"
        self.amount = event.amount
        self.currency = event.currency
        self.organization_id = event.organization_id
        self.failure_reason = event.reason
        self.failed_attempts += 1

    def state(self) -> dict[str, Any]:
        """Return the API's view of the payment; amounts as decimal strings."""
        return {
            "payment_id": self.payment_id,
            "status": self.status,
            "amount": None if self.amount is None else str(self.amount),
            "currency": self.currency,
            "refunded_amount": (
                format_amount(self.refunded_amount, self.currency)
                if self.currency
                else str(self.refunded_amount)
            ),
            "organization_id": self.organization_id,
            "failure_reason": self.failure_reason,
            "version": self.version,
        }
