"""Errors raised by payment commands when a rule refuses them.

Each names the request field it concerns (``field``) and a stable ``code``.
They say nothing of HTTP: the API maps them to statuses in one place
(:mod:`payments.api.errors`).
"""

from __future__ import annotations

__all__ = [
    "PaymentError",
    "InvalidAmount",
    "AmountNotInCurrency",
    "CurrencyMismatch",
    "UnknownCurrency",
    "InvalidReason",
    "PaymentNotFound",
    "PaymentAlreadyProcessed",
    "NotAMember",
    "PaymentIdTaken",
    "PaymentNotRefundable",
    "RefundExceedsRemaining",
    "RefundIdConflict",
    "VersionNotFound",
]


class PaymentError(ValueError):
    """A payment command broke a rule. ``field`` is None for whole-request errors."""

    code = "invalid"

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class InvalidAmount(PaymentError):
    code = "invalid_amount"


class AmountNotInCurrency(InvalidAmount):
    """An amount every currency's limits allow, but not this currency's: more decimal
    places than its minor units, or above its own largest amount (ISO 4217)."""


class CurrencyMismatch(InvalidAmount):
    """A refund in another currency than the payment's."""

    code = "currency_mismatch"


class UnknownCurrency(PaymentError):
    code = "invalid_currency"

    def __init__(self, message: str, field: str | None = "currency") -> None:
        super().__init__(message, field)


class InvalidReason(PaymentError):
    code = "invalid_reason"


class PaymentNotFound(PaymentError):
    code = "not_found"

    def __init__(self, payment_id: str, detail: str = "does not exist") -> None:
        shown = payment_id if len(payment_id) <= 64 else payment_id[:64] + "…"
        super().__init__(f"Payment {shown!r} {detail}.")
        self.payment_id = payment_id


class PaymentAlreadyProcessed(PaymentError):
    code = "already_processed"


class NotAMember(PaymentError):
    """The user acts for an organization they do not belong to."""

    code = "not_a_member"

    def __init__(self, organization_id: str) -> None:
        super().__init__(
            f"You are not a member of organization {organization_id!r}.", "organization_id"
        )


class PaymentIdTaken(PaymentError):
    """The payment id belongs to another organization's earlier attempts."""

    code = "payment_id_taken"


class PaymentNotRefundable(PaymentError):
    code = "not_refundable"


class RefundExceedsRemaining(PaymentError):
    code = "refund_exceeds_remaining"


class RefundIdConflict(PaymentError):
    """A refund id of this payment is given again with another amount."""

    code = "refund_id_conflict"


class VersionNotFound(PaymentError):
    """A replay asks for a version above the payment's latest."""

    code = "version_not_found"

    def __init__(self, message: str) -> None:
        super().__init__(message, "version")
