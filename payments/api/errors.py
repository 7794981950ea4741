"""The project's DRF exception handler: payment rule errors, then event store errors.

A rule error on one field is ``{"field": ["message"]}`` (400), a whole-request
one ``{"detail": "...", "code": "..."}`` with the error's status (404 for an
unknown payment, 409 for a payment already processed or not refundable).
"""

from __future__ import annotations

from typing import Any

from rest_framework.response import Response

from eventstore.api.errors import exception_handler as store_exception_handler
from payments.exceptions import PaymentError

__all__ = ["exception_handler"]


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """Return the response for ``exc`` (None lets DRF re-raise: a real bug, a 500)."""
    if isinstance(exc, PaymentError):
        if exc.field and exc.status in (400, 403):
            return Response({exc.field: [exc.message]}, status=exc.status)
        return Response({"detail": exc.message, "code": exc.code}, status=exc.status)
    return store_exception_handler(exc, context)
