"""Analytics endpoints: event statistics and trends (the source document's analytics service).

- ``GET /api/analytics/statistics/?event_type=…&from=…&to=…[&tz=…]``: total and
  counts by hour, by day, by organization and by user.
- ``GET /api/analytics/trends/?event_type=…&from=…&to=…&interval=hour|day|week|month[&tz=…]``:
  ordered buckets, empty ones included.

``from``/``to`` are inclusive: ISO 8601 date-times with offset, or dates meaning
the whole day in the time zone used. The time zone is ``tz`` (an IANA name) or
``TIME_ZONE``, and every answer names it. A parameter that does not fit the
published schema is a 400 naming it; parameters that fit it but break a rule
across them (``to`` before ``from``, a trend of more than ``MAX_BUCKETS``
buckets) are a 422. The computing is done once, by
:mod:`eventstore.queries.analytics`; this module only parses, scopes and answers.
"""

from __future__ import annotations

from typing import Any

from django.http import QueryDict
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from ..handler import eventstore
from ..queries import analytics
from ..queries.forms import AnalyticsQueryForm
from ..queries.scope import visible_organizations
from .errors import QueryRuleBroken, StoreErrorsMixin, invalid_request
from .schema import ERRORS, ErrorSchema, form_field_schema, range_parameters
from .strict import KnownQueryParametersMixin

__all__ = ["StatisticsView", "TrendsView"]


def _parameters(*, with_interval: bool) -> list[OpenApiParameter]:
    """The query parameters, their schemas derived from :class:`AnalyticsQueryForm`'s fields."""
    fields = AnalyticsQueryForm(QueryDict(), with_interval=with_interval).fields
    parameters = [
        OpenApiParameter(
            "event_type",
            form_field_schema(fields["event_type"]),
            OpenApiParameter.QUERY,
            required=True,
            explode=True,
            description="Registered event type; repeat for several.",
        ),
        *range_parameters(fields),
    ]
    if with_interval:
        parameters.append(
            OpenApiParameter(
                "interval",
                form_field_schema(fields["interval"]),
                OpenApiParameter.QUERY,
                required=True,
                description=f"Bucket size; at most {analytics.MAX_BUCKETS} buckets (else 422).",
            )
        )
    return parameters


class StatisticsSchema(serializers.Serializer[dict[str, Any]]):
    event_types = serializers.ListField(child=serializers.CharField())
    time_zone = serializers.CharField()
    start = serializers.DateTimeField()
    end = serializers.DateTimeField()
    total = serializers.IntegerField(min_value=0)
    by_hour = serializers.DictField(child=serializers.IntegerField())
    by_day = serializers.DictField(child=serializers.IntegerField())
    by_organization = serializers.DictField(child=serializers.IntegerField())
    by_user = serializers.DictField(child=serializers.IntegerField())
    filled = serializers.BooleanField(
        help_text="by_hour and by_day keep empty buckets (0); false for a range of more "
        f"than {analytics.MAX_BUCKETS} hours, which lists only hours and days with events."
    )


class BucketSchema(serializers.Serializer[dict[str, Any]]):
    bucket = serializers.CharField(
        help_text="2024-10-27T02:00+01:00, 2024-10-27, 2025-W01, 2024-10"
    )
    start = serializers.DateTimeField()
    count = serializers.IntegerField(min_value=0)
    partial = serializers.BooleanField(  # type: ignore[assignment]  # the field, not .partial
        help_text="The bucket reaches outside the range or is not over yet."
    )


class TrendsSchema(serializers.Serializer[dict[str, Any]]):
    event_types = serializers.ListField(child=serializers.CharField())
    interval = serializers.ChoiceField(analytics.INTERVALS)
    time_zone = serializers.CharField()
    start = serializers.DateTimeField()
    end = serializers.DateTimeField()
    total = serializers.IntegerField(min_value=0)
    buckets = BucketSchema(many=True)


class _AnalyticsView(StoreErrorsMixin, KnownQueryParametersMixin, APIView):
    """Parse the query with :class:`AnalyticsQueryForm`, scope it, answer ``compute``'s result."""

    permission_classes = [IsAuthenticated]
    with_interval = False

    def get(self, request: Request) -> Response:
        form = AnalyticsQueryForm(request.query_params, with_interval=self.with_interval)
        if not form.is_valid():
            raise invalid_request(form.api_errors(), form.errors.as_data())
        data = form.cleaned_data
        try:
            result = self.compute(
                data["event_type"],
                data["start"],
                data["end"],
                tz=data["tz"],
                organization_ids=visible_organizations(request.user),
                **({"interval": data["interval"]} if self.with_interval else {}),
            )
        except analytics.TooManyBuckets as exc:
            # Every parameter fits the schema; together they ask for too many buckets.
            raise QueryRuleBroken(str(exc)) from None
        return Response(result.as_dict())

    def compute(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError("analytics views must provide compute()")


class StatisticsView(_AnalyticsView):
    """``GET /api/analytics/statistics/``."""

    query_parameters = frozenset({"event_type", "from", "to", "tz"})

    @extend_schema(
        parameters=_parameters(with_interval=False),
        responses={200: StatisticsSchema, 422: ErrorSchema, **ERRORS},
    )
    def get(self, request: Request) -> Response:
        return super().get(request)

    def compute(self, *args: Any, **kwargs: Any) -> analytics.Statistics:
        return analytics.statistics(eventstore, *args, **kwargs)


class TrendsView(_AnalyticsView):
    """``GET /api/analytics/trends/``."""

    query_parameters = frozenset({"event_type", "from", "to", "tz", "interval"})
    with_interval = True

    @extend_schema(
        parameters=_parameters(with_interval=True),
        responses={200: TrendsSchema, 422: ErrorSchema, **ERRORS},
    )
    def get(self, request: Request) -> Response:
        return super().get(request)

    def compute(self, *args: Any, **kwargs: Any) -> analytics.Trends:
        return analytics.trends(eventstore, *args, **kwargs)
