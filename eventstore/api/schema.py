"""OpenAPI descriptions of the event store API (drf-spectacular).

The views answer with plain dicts; these serializers describe those shapes
for the published schema (and the fuzz tests check answers against them).
:func:`filterset_parameters` lists every filter of a django-filter
``FilterSet`` as a query parameter, since drf-spectacular drops filters it
cannot tie to a model.
"""

from __future__ import annotations

from typing import Any

import django_filters
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter
from rest_framework import serializers

__all__ = [
    "ERRORS",
    "CorrelationReplaySchema",
    "CorrelationTimelineSchema",
    "CountsSchema",
    "ErrorSchema",
    "EventPageSchema",
    "EventSchema",
    "filterset_parameters",
    "page_parameters",
]


class EventSchema(serializers.Serializer[dict[str, Any]]):
    """A recorded event: ids as strings, timestamp ISO 8601 with offset."""

    event_id = serializers.UUIDField()
    aggregate_id = serializers.CharField()
    aggregate_type = serializers.CharField()
    event_type = serializers.CharField()
    version = serializers.IntegerField(min_value=1)
    position = serializers.IntegerField(min_value=1)
    timestamp = serializers.DateTimeField()
    correlation_id = serializers.CharField(allow_null=True)
    causation_id = serializers.CharField(allow_null=True)
    schema_version = serializers.IntegerField(min_value=1)
    metadata = serializers.DictField()
    data = serializers.DictField()  # type: ignore[assignment]  # the API's field, not .data


class TimelineEventSchema(EventSchema):
    depth = serializers.IntegerField(
        min_value=0, help_text="0, or one more than the event that caused this one."
    )


class EventPageSchema(serializers.Serializer[dict[str, Any]]):
    next = serializers.URLField(allow_null=True, help_text="The next page, or null.")
    results = EventSchema(many=True)


class EventListSchema(serializers.Serializer[dict[str, Any]]):
    count = serializers.IntegerField(min_value=0)
    events = EventSchema(many=True)


class CorrelationTimelineSchema(serializers.Serializer[dict[str, Any]]):
    correlation_id = serializers.CharField()
    count = serializers.IntegerField(min_value=0)
    events = TimelineEventSchema(many=True)


class CorrelationReplaySchema(serializers.Serializer[dict[str, Any]]):
    correlation_id = serializers.CharField()
    count = serializers.IntegerField(min_value=0)
    events = EventSchema(many=True)


class CountsSchema(serializers.Serializer[dict[str, Any]]):
    total = serializers.IntegerField(min_value=0, required=False)
    by_event_type = serializers.DictField(child=serializers.IntegerField(), required=False)
    aggregate_id = serializers.CharField(required=False)
    count = serializers.IntegerField(min_value=0, required=False)


class ErrorSchema(serializers.Serializer[dict[str, Any]]):
    """DRF's error shape: ``detail`` (and ``code``), or field names mapping to messages."""

    detail = serializers.CharField(required=False)
    code = serializers.CharField(required=False)


ERRORS = {
    400: ErrorSchema,
    401: ErrorSchema,
    403: ErrorSchema,
    404: ErrorSchema,
}
"""Error answers every endpoint may give, in DRF's shape."""

_TYPES = {
    django_filters.MultipleChoiceFilter: OpenApiTypes.STR,
    django_filters.NumberFilter: OpenApiTypes.DECIMAL,
}


def filterset_parameters(
    filterset_class: type[django_filters.FilterSet],
) -> list[OpenApiParameter]:
    """Return one query parameter per filter of ``filterset_class`` (with help texts)."""
    parameters = []
    for name, filter_ in filterset_class.base_filters.items():
        many = isinstance(filter_, django_filters.MultipleChoiceFilter)
        enum = None
        if isinstance(filter_, django_filters.ChoiceFilter | django_filters.MultipleChoiceFilter):
            choices: Any = filter_.extra.get("choices")
            enum = [value for value, _label in (choices() if callable(choices) else choices)]
        parameters.append(
            OpenApiParameter(
                name,
                _TYPES.get(type(filter_), OpenApiTypes.STR),
                OpenApiParameter.QUERY,
                description=str(filter_.extra.get("help_text") or filter_.label or name),
                many=many or None,
                explode=True if many else None,
                enum=enum,
            )
        )
    return parameters


def page_parameters() -> list[OpenApiParameter]:
    """``cursor`` and ``page_size`` of :class:`~eventstore.api.pagination.PositionPagination`."""
    return [
        OpenApiParameter(
            "cursor", OpenApiTypes.STR, OpenApiParameter.QUERY, description="Opaque page cursor."
        ),
        OpenApiParameter(
            "page_size",
            OpenApiTypes.INT,
            OpenApiParameter.QUERY,
            description="Events per page, 1 to 500 (default 50).",
        ),
    ]
