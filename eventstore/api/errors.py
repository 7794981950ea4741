"""Turn event store errors into DRF responses (400/404/409/422/503/507).

The one 500 is a store that is not configured correctly
(:class:`~eventstore.exceptions.InvalidBackendError`, logged with its reason):
the server must be fixed, and retrying would not help.

A request that does not fit the published schema is a 400 with field
messages; one that fits it but breaks a rule the schema cannot express (across
parameters, or on stored data) is a 422 with the same shape of body
(:func:`invalid_request`, :class:`UnprocessableRequest`; see
:mod:`eventstore.queries.rules`).

A stored event the code can no longer decode (its type unregistered, its
payload not fitting its class) is a 422 naming it (``undecodable_event`` or
``unknown_event_type``): retrying cannot fix it, so it is never a 503.

The app's API views do it themselves (:class:`StoreErrorsMixin`), whatever the
project's ``REST_FRAMEWORK["EXCEPTION_HANDLER"]``. A project's own views can
get the same by using :func:`exception_handler` as that setting (or by calling
it from their own handler). Bodies keep DRF's shape: ``{"detail": "...",
"code": "..."}``, plus the versions for a concurrency conflict:
``expected_version`` and ``actual_version`` are JSON integers, but for an
expected version that is a sentinel, given by its name (``"ANY"`` or
``"STREAM_EXISTS"``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.exceptions import APIException, ValidationError
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from ..exceptions import (
    AggregateNotFoundError,
    ConcurrencyError,
    EventStoreError,
    EventStoreFull,
    InvalidBackendError,
    InvalidEventError,
    InvalidQueryError,
    UndecodableEventError,
    UnknownEventTypeError,
)
from ..queries.rules import RULE_CODE, only_rules

__all__ = [
    "QueryRuleBroken",
    "StoreErrorsMixin",
    "UnprocessableRequest",
    "exception_handler",
    "invalid_request",
    "store_error_response",
]


class UnprocessableRequest(ValidationError):
    """422 with DRF's field messages: every value fits the schema, together they break a rule.

    See :mod:`eventstore.queries.rules` (400 for a request that does not fit the
    published schema, 422 for one that does but breaks a rule the schema cannot
    express).
    """

    status_code = status.HTTP_422_UNPROCESSABLE_ENTITY
    default_code = RULE_CODE


class QueryRuleBroken(APIException):
    """422 ``{"detail": ..., "code": "invalid_query"}``: parameters that fit the schema ask
    for what the store refuses as a whole (e.g. a trend of too many buckets)."""

    status_code = status.HTTP_422_UNPROCESSABLE_ENTITY
    default_detail = "These parameters together ask for what the store cannot answer."
    default_code = "invalid_query"


def invalid_request(messages: Any, errors: Any) -> ValidationError:
    """Return the exception to raise for a request refused with ``messages``.

    ``messages`` is the body (field → list of messages); ``errors`` the same
    errors with their codes (``form.errors.as_data()``, or a serializer's
    ``errors``). Returns :class:`UnprocessableRequest` (422) when every error is
    a rule beyond the schema (:func:`~eventstore.queries.rules.only_rules`),
    else DRF's ``ValidationError`` (400).
    """
    return UnprocessableRequest(messages) if only_rules(errors) else ValidationError(messages)


logger = logging.getLogger("eventstore.api")


def _version(version: object) -> int | str:
    """A version as a JSON integer; a sentinel (``ANY``, ``STREAM_EXISTS``) by its name."""
    if isinstance(version, int) and not isinstance(version, bool):
        return version
    return str(version)


def store_error_response(exc: Exception) -> Response | None:
    """Return the response for an event store error (or an oversized body), else None."""
    if isinstance(exc, ConcurrencyError):
        return Response(
            {
                "detail": str(exc),
                "code": "concurrency_conflict",
                "aggregate_id": exc.aggregate_id,
                "expected_version": _version(exc.expected_version),
                "actual_version": _version(exc.actual_version),
            },
            status=status.HTTP_409_CONFLICT,
        )
    if isinstance(exc, UndecodableEventError):  # history the code no longer reads
        return Response(
            {
                "detail": str(exc),
                "code": "undecodable_event",
                "event_type": exc.event_type,
                "version": exc.version,
                "position": exc.position,
            },
            status=status.HTTP_422_UNPROCESSABLE_ENTITY,
        )
    if isinstance(exc, UnknownEventTypeError):
        return Response(
            {"detail": str(exc), "code": "unknown_event_type", "event_type": exc.event_type},
            status=status.HTTP_422_UNPROCESSABLE_ENTITY,
        )
    if isinstance(exc, AggregateNotFoundError):
        return Response({"detail": str(exc), "code": "not_found"}, status=404)
    if isinstance(exc, EventStoreFull):
        return Response(
            {"detail": str(exc), "code": "event_store_full"},
            status=status.HTTP_507_INSUFFICIENT_STORAGE,
        )
    if isinstance(exc, (InvalidQueryError, InvalidEventError)):
        return Response({"detail": str(exc), "code": "invalid"}, status=400)
    if isinstance(exc, InvalidBackendError):
        # The server's configuration (e.g. a memory store in a forked worker, a journal
        # held by another process): retrying cannot fix it, so never a 503. The reason,
        # with its paths and process ids, goes to the log, not to the client.
        logger.error("Event store misconfigured: %s", exc, exc_info=exc)
        return Response(
            {
                "detail": "The event store is not configured correctly; the server log says why.",
                "code": "event_store_misconfigured",
            },
            status=status.HTTP_500_INTERNAL_SERVER_ERROR,
        )
    if isinstance(exc, EventStoreError):  # the store could not answer now (e.g. locked)
        return Response(
            {"detail": str(exc), "code": "event_store_unavailable"},
            status=status.HTTP_503_SERVICE_UNAVAILABLE,
            headers={"Retry-After": "1"},
        )
    if isinstance(exc, RequestDataTooBig):
        return Response(
            {"detail": "The request body is too large.", "code": "request_too_large"},
            status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE,
        )
    return None


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """DRF's handler (adding the error's ``code`` beside ``detail``), then ours."""
    response = drf_exception_handler(exc, context)
    if response is None:
        return store_error_response(exc)
    detail: Any = getattr(exc, "detail", None)
    if isinstance(exc, Http404):  # DRF answered it as NotFound (a URL, or ?format=<unknown>)
        detail = exceptions.NotFound().detail
    elif isinstance(exc, DjangoPermissionDenied):
        detail = exceptions.PermissionDenied().detail
    if isinstance(response.data, dict) and "detail" in response.data and hasattr(detail, "code"):
        response.data["code"] = detail.code
    return response


class StoreErrorsMixin:
    """For DRF views: event store errors get their 4xx/5xx answer without project settings.

    With DRF's default ``EXCEPTION_HANDLER`` the view uses :func:`exception_handler`
    (so bodies carry ``code`` too); with a project's own handler, that handler
    answers first and the store's mapping covers what it leaves unhandled.
    """

    def get_exception_handler(self) -> Callable[[Exception, dict[str, Any]], Response | None]:
        configured = super().get_exception_handler()  # type: ignore[misc]
        if configured is drf_exception_handler:
            return exception_handler

        def handler(exc: Exception, context: dict[str, Any]) -> Response | None:
            response = configured(exc, context)
            return store_error_response(exc) if response is None else response

        return handler
