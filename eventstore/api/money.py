"""Money analytics endpoint: volume, rates, failure reasons, top payments, per currency.

``GET /api/analytics/money/?from=…&to=…[&interval=day][&tz=…][&top=10]``

``from``/``to``/``tz``/``interval`` as for the other analytics endpoints (same
form, same buckets); the answer is scoped to the user's organizations exactly
like them. The computing is done once, by :mod:`eventstore.queries.money`; this
module only parses, scopes and answers. Amounts and rates are exact decimal
strings, never floats.
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
from ..queries import analytics, money
from ..queries.forms import MoneyQueryForm
from ..queries.scope import visible_organizations
from .errors import QueryRuleBroken, StoreErrorsMixin, invalid_request
from .schema import ERRORS, ErrorSchema, form_field_schema, range_parameters
from .strict import KnownQueryParametersMixin

__all__ = ["MoneyAnalyticsView"]


def _amount(help_text: str = "Exact decimal string in the currency's minor units.") -> Any:
    return serializers.CharField(help_text=help_text)


def _rate() -> Any:
    return serializers.CharField(
        allow_null=True,
        help_text=f"Ratio as a decimal string with {money.RATE_PLACES} places "
        '("0.2500" is 25 %); null when there is nothing to divide by.',
    )


class _CountsSchema(serializers.Serializer[dict[str, Any]]):
    payments = serializers.IntegerField(min_value=0, help_text="Processed payments.")
    refunds = serializers.IntegerField(min_value=0)
    failures = serializers.IntegerField(min_value=0, help_text="Failed attempts.")


class MoneyBucketSchema(_CountsSchema):
    bucket = serializers.CharField(
        help_text="2024-10-27T02:00+01:00, 2024-10-27, 2025-W01, 2024-10"
    )
    start = serializers.DateTimeField()
    partial = serializers.BooleanField(  # type: ignore[assignment]  # the field, not .partial
        help_text="The bucket reaches outside the range or is not over yet."
    )
    processed = _amount()
    refunded = _amount()
    net = _amount("processed - refunded; may be negative.")


class FailureReasonSchema(serializers.Serializer[dict[str, Any]]):
    reason = serializers.CharField()
    failures = serializers.IntegerField(min_value=1)
    amount = _amount()


class TopPaymentSchema(serializers.Serializer[dict[str, Any]]):
    aggregate_id = serializers.CharField()
    event_id = serializers.UUIDField()
    timestamp = serializers.DateTimeField()
    organization_id = serializers.CharField()
    amount = _amount()
    refunded = _amount("What refunds of this aggregate in the range gave back.")


class OrganizationVolumeSchema(_CountsSchema):
    organization_id = serializers.CharField()
    processed = _amount()
    refunded = _amount()
    net = _amount()


class CurrencyVolumeSchema(_CountsSchema):
    currency = serializers.CharField(help_text="ISO 4217 code.")
    minor_units = serializers.IntegerField(min_value=0, help_text="Decimal places (CLDR).")
    processed = _amount()
    refunded = _amount()
    net = _amount()
    failed_amount = _amount()
    refund_rate = _rate()
    failure_rate = _rate()
    buckets = MoneyBucketSchema(many=True)
    failure_reasons = FailureReasonSchema(many=True)
    top_payments = TopPaymentSchema(many=True)
    by_organization = OrganizationVolumeSchema(many=True)


class MoneyAnalyticsSchema(serializers.Serializer[dict[str, Any]]):
    event_types = serializers.ListField(child=serializers.CharField())
    interval = serializers.ChoiceField(analytics.INTERVALS)
    time_zone = serializers.CharField()
    start = serializers.DateTimeField()
    end = serializers.DateTimeField()
    skipped = serializers.IntegerField(
        min_value=0, help_text="Money events left out: amount or currency unreadable."
    )
    currencies = CurrencyVolumeSchema(many=True)


def _parameters() -> list[OpenApiParameter]:
    """The query parameters, their schemas taken from :class:`MoneyQueryForm`'s fields
    (as the other analytics endpoints do), so the schema states what the server enforces."""
    fields = MoneyQueryForm(QueryDict()).fields
    return [
        *range_parameters(fields),
        OpenApiParameter(
            "interval",
            {**form_field_schema(fields["interval"]), "default": "day"},
            OpenApiParameter.QUERY,
            description=f"Bucket size; at most {analytics.MAX_BUCKETS} buckets (else 422).",
        ),
        OpenApiParameter(
            "top",
            {**form_field_schema(fields["top"]), "default": money.DEFAULT_TOP},
            OpenApiParameter.QUERY,
            description="How many of the largest payments to list per currency.",
        ),
    ]


class MoneyAnalyticsView(StoreErrorsMixin, KnownQueryParametersMixin, APIView):
    """``GET /api/analytics/money/``: processed, refunded and net volume per currency."""

    permission_classes = [IsAuthenticated]
    query_parameters = frozenset({"from", "to", "tz", "interval", "top"})

    @extend_schema(
        parameters=_parameters(),
        responses={200: MoneyAnalyticsSchema, 422: ErrorSchema, **ERRORS},
    )
    def get(self, request: Request) -> Response:
        form = MoneyQueryForm(request.query_params)
        if not form.is_valid():
            raise invalid_request(form.api_errors(), form.errors.as_data())
        data = form.cleaned_data
        try:
            result = money.money_analytics(
                eventstore,
                data["start"],
                data["end"],
                interval=data["interval"],
                tz=data["tz"],
                organization_ids=visible_organizations(request.user),
                top=data["top"],
            )
        except analytics.TooManyBuckets as exc:
            # Every parameter fits the schema; together they ask for too many buckets.
            raise QueryRuleBroken(str(exc)) from None
        return Response(result.as_dict())
