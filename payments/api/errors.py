"""The project's DRF exception handler: payment rule errors, then event store errors.

A rule error on one field is ``{"field": ["message"]}`` (400 for a value the
published schema refuses too; 403 for an organization the user is not a member
of; 422 for a value that fits the schema but breaks a rule it cannot express:
an amount with more decimals than its currency has, a refund in another
currency than the payment's, a replayed version the payment does not have).
A whole-request one is ``{"detail": "...", "code": "..."}`` with the error's
status (404 for an unknown payment, 409 for a payment already processed or not
refundable, a refund above what remains, or a refund id given again with
another amount).
"""

from __future__ import annotations

from typing import Any

from rest_framework.response import Response

from eventstore.api.errors import exception_handler as store_exception_handler
from payments.exceptions import (
    AmountNotInCurrency,
    CurrencyMismatch,
    NotAMember,
    PaymentAlreadyProcessed,
    PaymentError,
    PaymentIdTaken,
    PaymentNotFound,
    PaymentNotRefundable,
    RefundExceedsRemaining,
    RefundIdConflict,
    VersionNotFound,
)

__all__ = ["STATUS_BY_ERROR", "exception_handler", "status_for"]

#: HTTP status of each payment rule error (RFC 9110); any other PaymentError is a 400.
STATUS_BY_ERROR: dict[type[PaymentError], int] = {
    NotAMember: 403,
    PaymentNotFound: 404,
    PaymentAlreadyProcessed: 409,
    PaymentIdTaken: 409,
    PaymentNotRefundable: 409,
    RefundExceedsRemaining: 409,
    RefundIdConflict: 409,
    # Valid-shaped requests breaking a rule the schema cannot express (see
    # eventstore.queries.rules): the currency's own decimals and limit, the payment's
    # currency, the payment's versions.
    AmountNotInCurrency: 422,
    CurrencyMismatch: 422,
    VersionNotFound: 422,
}


def status_for(exc: PaymentError) -> int:
    """Return the HTTP status for a payment rule error (its class or nearest base in the map)."""
    for cls in type(exc).__mro__:
        if cls in STATUS_BY_ERROR:
            return STATUS_BY_ERROR[cls]
    return 400


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """Return the response for ``exc`` (None lets DRF re-raise: a real bug, a 500)."""
    if isinstance(exc, PaymentError):
        status = status_for(exc)
        if exc.field and status in (400, 403, 422):
            return Response({exc.field: [exc.message]}, status=status)
        return Response({"detail": exc.message, "code": exc.code}, status=status)
    return store_exception_handler(exc, context)
