"""Replay and count endpoints of the source document's replay service.

- ``GET /api/replay/by-type/?event_type=…&from=…&to=…``: events of the type(s)
  in the time range (inclusive), cursor-paginated like ``/api/events/``.
- ``GET /api/replay/by-correlation/{id}/``: every event of one correlation id.
- ``GET /api/counts/``: ``total`` and ``by_event_type``; with ``?aggregate_id=``
  the count of that aggregate's events.

All are restricted to the user's organizations unless they hold the
audit-trail permission.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.exceptions import ValidationError
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from ..events import registry
from ..handler import eventstore
from ..queries.filters import EventFilterSet
from ..queries.scope import scoped_criteria
from .errors import StoreErrorsMixin, invalid_request
from .pagination import PositionPagination
from .schema import (
    ERRORS,
    NO_NUL_PATTERN,
    CorrelationReplaySchema,
    CountsSchema,
    ErrorSchema,
    EventPageSchema,
    correlation_id_parameter,
    filterset_parameters,
    page_parameters,
)
from .strict import KnownQueryParametersMixin
from .views import correlation_events

__all__ = ["ReplayByTypeView", "ReplayByCorrelationView", "CountsView"]

#: The longest ``aggregate_id`` ``/api/counts/`` reads (the stores' column width).
MAX_AGGREGATE_ID_LENGTH = 255


def _required(parameter: OpenApiParameter) -> OpenApiParameter:
    """``parameter``, required: at least one value (this endpoint needs an event type)."""
    parameter.required = True
    if isinstance(parameter.type, dict) and parameter.type.get("type") == "array":
        parameter.type = {**parameter.type, "minItems": 1}
    return parameter


class ReplayByTypeView(StoreErrorsMixin, KnownQueryParametersMixin, APIView):
    """``GET /api/replay/by-type/``: ``event_type`` is required; ``from``/``to`` optional."""

    permission_classes = [IsAuthenticated]
    query_parameters = frozenset({"event_type", "from", "to", "cursor", "page_size"})

    @extend_schema(
        parameters=[
            _required(p) if p.name == "event_type" else p
            for p in filterset_parameters(EventFilterSet)
            if p.name in ("event_type", "from", "to")
        ]
        + page_parameters(),
        responses={200: EventPageSchema, 422: ErrorSchema, **ERRORS},
    )
    def get(self, request: Request) -> Response:
        filterset = EventFilterSet(request.query_params, request=request)
        if not filterset.is_valid():
            raise invalid_request(filterset.errors, filterset.form.errors.as_data())
        if not filterset.form.cleaned_data.get("event_type"):
            raise ValidationError({"event_type": ["This parameter is required."]})
        wanted = {
            key: value
            for key, value in filterset.criteria().items()
            if key in ("event_type", "timestamp__gte", "timestamp__lte", "timestamp__lt")
        }
        page = PositionPagination(request)
        criteria = scoped_criteria(request.user, wanted)
        events = (
            []
            if criteria is None
            else eventstore.search(
                **criteria, after_position=page.after_position, limit=page.limit + 1
            )
        )
        return Response(page.page_data(events))


class ReplayByCorrelationView(StoreErrorsMixin, KnownQueryParametersMixin, APIView):
    """``GET /api/replay/by-correlation/{id}/``: the correlation's events, in position order."""

    permission_classes = [IsAuthenticated]
    max_events = 10_000

    @extend_schema(
        parameters=[correlation_id_parameter()],
        responses={200: CorrelationReplaySchema, **ERRORS},
    )
    def get(self, request: Request, correlation_id: str) -> Response:
        events = correlation_events(request, correlation_id, self.max_events)
        return Response(
            {
                "correlation_id": correlation_id,
                "count": len(events),
                "events": [event.as_dict() for event in events],
            }
        )


class CountsView(StoreErrorsMixin, KnownQueryParametersMixin, APIView):
    """``GET /api/counts/`` (``?aggregate_id=`` for one aggregate): event counts, from indexes."""

    permission_classes = [IsAuthenticated]
    query_parameters = frozenset({"aggregate_id"})

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "aggregate_id",
                {
                    "type": "string",
                    "minLength": 1,
                    "maxLength": MAX_AGGREGATE_ID_LENGTH,
                    "pattern": NO_NUL_PATTERN,
                },
                OpenApiParameter.QUERY,
                description="Count only this aggregate's events.",
            )
        ],
        responses={200: CountsSchema, **ERRORS},
    )
    def get(self, request: Request) -> Response:
        aggregate_id = request.query_params.get("aggregate_id")
        if aggregate_id is not None:
            if not aggregate_id or len(aggregate_id) > MAX_AGGREGATE_ID_LENGTH:
                raise ValidationError(
                    {"aggregate_id": [f"Enter an id of 1 to {MAX_AGGREGATE_ID_LENGTH} characters."]}
                )
            if "\x00" in aggregate_id:  # as every CharField of the API refuses it
                raise ValidationError({"aggregate_id": ["Null characters are not allowed."]})
            return Response(
                {
                    "aggregate_id": aggregate_id,
                    "count": self._count(request, aggregate_id=aggregate_id),
                }
            )
        # Each class counts the events stored under its name and its former names
        # (aliases); a stored type no class handles is counted under its own name.
        unknown = {name for name in eventstore.event_type_counts() if name not in registry}
        names = sorted({*registry.names(), *unknown})
        by_type = {name: self._count(request, event_type=[name]) for name in names}
        return Response(
            {
                "total": self._count(request),
                "by_event_type": {k: v for k, v in by_type.items() if v},
            }
        )

    @staticmethod
    def _count(request: Request, **criteria: Any) -> int:
        scoped = scoped_criteria(request.user, criteria)
        return 0 if scoped is None else eventstore.count(**scoped)
