"""Analytics endpoints: event statistics and trends (the source document's analytics service).

- ``GET /api/analytics/statistics/?event_type=…&from=…&to=…[&tz=…]``: total and
  counts by hour, by day, by organization and by user.
- ``GET /api/analytics/trends/?event_type=…&from=…&to=…&interval=hour|day|week|month[&tz=…]``:
  ordered buckets, empty ones included.

``from``/``to`` are inclusive: ISO 8601 date-times with offset, or dates meaning
the whole day in the time zone used. The time zone is ``tz`` (an IANA name) or
``TIME_ZONE``, and every answer names it. The computing is done once, by
:mod:`eventstore.queries.analytics`; this module only parses, scopes and answers.
"""

from __future__ import annotations

import functools
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from django import forms
from django.conf import settings
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.exceptions import ValidationError
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from ..events import registry
from ..handler import eventstore
from ..queries import analytics
from ..queries.fields import IsoDateTimeBoundField
from ..queries.scope import visible_organizations
from .schema import ERRORS
from .strict import KnownQueryParametersMixin

__all__ = ["AnalyticsQueryForm", "StatisticsView", "TrendsView"]


@functools.cache
def iana_zone_names() -> frozenset[str]:
    """The IANA time zone names this machine knows, without files that are not zones.

    ``localtime``, ``posixrules`` and ``Factory`` are files of the zone database,
    not zones; ``right/``/``posix/`` copies are left out by ``available_timezones``.
    """
    return frozenset(available_timezones()) - {"localtime", "posixrules", "Factory"}


class AnalyticsQueryForm(forms.Form):
    """Parse and check the parameters of the analytics endpoints and dashboard.

    ``cleaned_data`` gives ``event_type`` (list of registered names), ``tz``
    (a ZoneInfo), ``start`` and ``end`` (aware datetimes, both inclusive) and
    ``interval`` (when ``with_interval``).
    """

    event_type = forms.MultipleChoiceField(choices=())
    start = IsoDateTimeBoundField(label="from")
    end = IsoDateTimeBoundField(label="to", upper=True)
    tz = forms.CharField(required=False, max_length=64)
    interval = forms.ChoiceField(choices=[(i, i) for i in analytics.INTERVALS], required=False)

    def __init__(self, data: Any, *, with_interval: bool = False) -> None:
        # The query string says "from" and "to": map them onto the form's fields.
        values = {
            "event_type": data.getlist("event_type") if hasattr(data, "getlist") else [],
            "start": data.get("from"),
            "end": data.get("to"),
            "tz": data.get("tz"),
            "interval": data.get("interval"),
        }
        super().__init__(values)
        self.fields["event_type"].choices = [(name, name) for name in registry.names()]
        self.fields["interval"].required = with_interval

    def clean_tz(self) -> ZoneInfo:
        name = self.cleaned_data.get("tz") or settings.TIME_ZONE
        if name not in iana_zone_names() and name != settings.TIME_ZONE:
            raise forms.ValidationError(f"Unknown time zone {name!r}: give an IANA name.")
        try:
            return ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            raise forms.ValidationError(f"Unknown time zone {name!r}: give an IANA name.") from None

    def full_clean(self) -> None:
        # Dates without a time are days in the requested zone: clean in that zone.
        zone_name = self.data.get("tz") or settings.TIME_ZONE
        try:
            zone = ZoneInfo(zone_name)
        except (ZoneInfoNotFoundError, ValueError):
            zone = ZoneInfo(settings.TIME_ZONE)
        with timezone.override(zone):
            super().full_clean()

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        start, end = cleaned.get("start"), cleaned.get("end")
        if start is not None and end is not None:
            cleaned["start"] = start.value
            # A date-only "to" is "before the next day": the last inclusive instant.
            cleaned["end"] = end.value - timedelta(microseconds=1) if end.exclusive else end.value
            if cleaned["start"] > cleaned["end"]:
                self.add_error("end", "'to' must not be before 'from'.")
        return cleaned

    def api_errors(self) -> dict[str, list[str]]:
        """Errors keyed by the query parameter names (``from``/``to``, not start/end)."""
        names = {"start": "from", "end": "to"}
        return {names.get(key, key): list(value) for key, value in self.errors.items()}


PARAMETERS = [
    OpenApiParameter(
        "event_type",
        OpenApiTypes.STR,
        OpenApiParameter.QUERY,
        required=True,
        many=True,
        explode=True,
        description="Registered event type; repeat for several.",
    ),
    OpenApiParameter(
        "from",
        OpenApiTypes.STR,
        OpenApiParameter.QUERY,
        required=True,
        description="Start (inclusive): ISO 8601 with offset, or a date.",
    ),
    OpenApiParameter(
        "to",
        OpenApiTypes.STR,
        OpenApiParameter.QUERY,
        required=True,
        description="End (inclusive): ISO 8601 with offset, or a date (the whole day).",
    ),
    OpenApiParameter(
        "tz",
        OpenApiTypes.STR,
        OpenApiParameter.QUERY,
        description="IANA time zone for the buckets; TIME_ZONE by default.",
    ),
]


class StatisticsSchema(serializers.Serializer):
    event_types = serializers.ListField(child=serializers.CharField())
    time_zone = serializers.CharField()
    start = serializers.DateTimeField()
    end = serializers.DateTimeField()
    total = serializers.IntegerField(min_value=0)
    by_hour = serializers.DictField(child=serializers.IntegerField())
    by_day = serializers.DictField(child=serializers.IntegerField())
    by_organization = serializers.DictField(child=serializers.IntegerField())
    by_user = serializers.DictField(child=serializers.IntegerField())


class BucketSchema(serializers.Serializer):
    bucket = serializers.CharField(
        help_text="2024-10-27T02:00+01:00, 2024-10-27, 2025-W01, 2024-10"
    )
    start = serializers.DateTimeField()
    count = serializers.IntegerField(min_value=0)


class TrendsSchema(serializers.Serializer):
    event_types = serializers.ListField(child=serializers.CharField())
    interval = serializers.ChoiceField(analytics.INTERVALS)
    time_zone = serializers.CharField()
    start = serializers.DateTimeField()
    end = serializers.DateTimeField()
    total = serializers.IntegerField(min_value=0)
    buckets = BucketSchema(many=True)


class _AnalyticsView(KnownQueryParametersMixin, APIView):
    """Parse the query with :class:`AnalyticsQueryForm`, scope it, answer ``compute``'s result."""

    permission_classes = [IsAuthenticated]
    with_interval = False

    def get(self, request: Request) -> Response:
        form = AnalyticsQueryForm(request.query_params, with_interval=self.with_interval)
        if not form.is_valid():
            raise ValidationError(form.api_errors())
        data = form.cleaned_data
        result = self.compute(
            data["event_type"],
            data["start"],
            data["end"],
            tz=data["tz"],
            organization_ids=visible_organizations(request.user),
            **({"interval": data["interval"]} if self.with_interval else {}),
        )
        return Response(result.as_dict())

    def compute(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError("analytics views must provide compute()")


class StatisticsView(_AnalyticsView):
    """``GET /api/analytics/statistics/``."""

    query_parameters = frozenset({"event_type", "from", "to", "tz"})

    @extend_schema(parameters=PARAMETERS, responses={200: StatisticsSchema, **ERRORS})
    def get(self, request: Request) -> Response:
        return super().get(request)

    def compute(self, *args: Any, **kwargs: Any) -> analytics.Statistics:
        return analytics.statistics(eventstore, *args, **kwargs)


class TrendsView(_AnalyticsView):
    """``GET /api/analytics/trends/``."""

    query_parameters = frozenset({"event_type", "from", "to", "tz", "interval"})
    with_interval = True

    @extend_schema(
        parameters=[
            *PARAMETERS,
            OpenApiParameter(
                "interval",
                OpenApiTypes.STR,
                OpenApiParameter.QUERY,
                required=True,
                enum=list(analytics.INTERVALS),
            ),
        ],
        responses={200: TrendsSchema, **ERRORS},
    )
    def get(self, request: Request) -> Response:
        return super().get(request)

    def compute(self, *args: Any, **kwargs: Any) -> analytics.Trends:
        return analytics.trends(eventstore, *args, **kwargs)
