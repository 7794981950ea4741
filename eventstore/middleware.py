"""Middleware giving every request a correlation id, echoed in the response."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from .context import correlation_scope, is_valid_correlation_id

__all__ = ["CorrelationIdMiddleware", "CORRELATION_HEADER"]

CORRELATION_HEADER = "X-Correlation-ID"


class CorrelationIdMiddleware:
    """Use the request's ``X-Correlation-ID`` when valid, else a new UUID, for the request.

    The id is available as ``request.correlation_id`` and through
    :func:`eventstore.context.get_correlation_id`, and is sent back in the
    response's ``X-Correlation-ID`` header. An invalid header value (too long,
    or characters outside ``[A-Za-z0-9._:-]``) is replaced, never stored.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        given = request.headers.get(CORRELATION_HEADER)
        with correlation_scope(given if is_valid_correlation_id(given) else None) as cid:
            request.correlation_id = cid  # type: ignore[attr-defined]  # set for views to read
            response = self.get_response(request)
        response[CORRELATION_HEADER] = cid
        return response
