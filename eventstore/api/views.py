"""Read-only API views over the event store: event search and correlation timelines."""

from __future__ import annotations

from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.exceptions import NotFound
from rest_framework.permissions import IsAuthenticated
from rest_framework.renderers import BaseRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from ..context import is_valid_correlation_id
from ..handler import eventstore
from ..queries.filters import EventFilterSet
from ..queries.scope import may_see, scoped_criteria
from ..queries.timelines import timeline_entries
from .errors import StoreErrorsMixin, invalid_request
from .pagination import PositionPagination
from .renderers import CSVErrorsAsJSONMixin, EventCSVRenderer
from .schema import (
    ERRORS,
    EVENT_CSV_RESPONSE,
    EVENT_PAGE_RESPONSE,
    CorrelationTimelineSchema,
    ErrorSchema,
    EventDetailSchema,
    correlation_id_parameter,
    filterset_parameters,
    format_parameter,
    json_errors,
    page_parameters,
)
from .strict import KnownQueryParametersMixin

__all__ = ["CorrelationTimelineView", "EventDetailView", "EventListView"]


class EventListView(CSVErrorsAsJSONMixin, StoreErrorsMixin, KnownQueryParametersMixin, APIView):
    """``GET /api/events/``: search recorded events, newest position last, cursor-paginated.

    Query parameters: see :class:`~eventstore.queries.filters.EventFilterSet`, plus
    ``cursor`` and ``page_size`` (1..500, default 50). An invalid parameter is a
    400 naming it; ``to`` before ``from`` (each valid) is a 422. Users without
    the audit-trail permission see only their organizations' events. Every backend
    answers through ``store.search``.

    JSON by default; CSV with ``?format=csv`` or ``Accept: text/csv``
    (:mod:`eventstore.api.renderers`): the same page, its next page in the
    ``Link`` header.
    """

    permission_classes = [IsAuthenticated]
    query_parameters = frozenset(EventFilterSet.base_filters) | {"cursor", "page_size"}

    def get_renderers(self) -> list[BaseRenderer]:
        """Return the project's renderers (``DEFAULT_RENDERER_CLASSES``), then CSV."""
        return [*super().get_renderers(), EventCSVRenderer()]

    @extend_schema(
        parameters=[
            *filterset_parameters(EventFilterSet),
            *page_parameters(),
            format_parameter(),
        ],
        responses={
            (200, "application/json"): EVENT_PAGE_RESPONSE,
            (200, "text/csv"): EVENT_CSV_RESPONSE,
            (422, "application/json"): ErrorSchema,
            **json_errors(),
        },
        operation_id="events_list",  # not events_retrieve, the detail's
    )
    def get(self, request: Request) -> Response:
        filterset = EventFilterSet(request.query_params, request=request)
        if not filterset.is_valid():
            raise invalid_request(filterset.errors, filterset.form.errors.as_data())
        page = PositionPagination(request)
        criteria = scoped_criteria(request.user, filterset.criteria())
        if criteria is None:
            return Response(page.response_data([], None, False))
        events = eventstore.search(
            **criteria, after_position=page.after_position, limit=page.limit + 1
        )
        return Response(page.page_data(events))


class EventDetailView(StoreErrorsMixin, KnownQueryParametersMixin, APIView):
    """``GET /api/events/{event_id}/``: one recorded event; 404 if unknown or not visible."""

    permission_classes = [IsAuthenticated]

    @extend_schema(
        parameters=[OpenApiParameter("event_id", OpenApiTypes.UUID, OpenApiParameter.PATH)],
        responses={200: EventDetailSchema, **ERRORS},
    )
    def get(self, request: Request, event_id: str) -> Response:
        event = eventstore.get_event(event_id)
        if event is None:
            raise NotFound("Unknown event id.")
        if not may_see(request.user, event):
            raise NotFound("Unknown event id.")
        return Response({**event.as_dict(), "hash": event.chain_hash.hex()})


class CorrelationTimelineView(StoreErrorsMixin, KnownQueryParametersMixin, APIView):
    """``GET /api/correlations/{id}/timeline/``: every event of one correlation id, in order.

    Each event carries ``depth``: 0 for an event whose cause is outside the
    timeline, else one more than the event that caused it. Unknown ids (or ids
    whose events the user may not see) are a 404.
    """

    permission_classes = [IsAuthenticated]
    max_events = 10_000

    @extend_schema(
        parameters=[correlation_id_parameter()],
        responses={200: CorrelationTimelineSchema, **ERRORS},
    )
    def get(self, request: Request, correlation_id: str) -> Response:
        events = correlation_events(request, correlation_id, self.max_events)
        return Response(
            {
                "correlation_id": correlation_id,
                "count": len(events),
                "events": timeline_entries(events),
            }
        )


def correlation_events(request: Request, correlation_id: str, limit: int) -> list[Any]:
    """Return the events of ``correlation_id`` the user may see (at most ``limit``).

    Raises:
        NotFound: for a malformed id, or when there is no such event to see.
    """
    if not is_valid_correlation_id(correlation_id):
        raise NotFound("Unknown correlation id.")
    criteria = scoped_criteria(request.user, {"correlation_id": correlation_id})
    events = [] if criteria is None else eventstore.search(**criteria, limit=limit)
    if not events:
        raise NotFound("Unknown correlation id.")
    return events
