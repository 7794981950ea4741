"""Filters of ``GET /api/payments/`` on the read model (django-filter)."""

from __future__ import annotations

from typing import Any

import django_filters

from eventstore.queries.filters import TimeBoundFilter

from ..models import PaymentSummary

STATUSES = ["processed", "partially_refunded", "refunded", "failed"]


class PaymentSummaryFilterSet(django_filters.FilterSet):
    """``status``, ``currency``, ``organization_id``, ``processed_from``/``processed_to``
    (inclusive; ISO 8601 with offset or a date), ``amount_min``/``amount_max`` (inclusive,
    decimal strings)."""

    status = django_filters.MultipleChoiceFilter(
        choices=[(s, s) for s in STATUSES], help_text="Repeat for several statuses."
    )
    currency = django_filters.CharFilter(
        max_length=3, method="filter_currency", help_text="ISO 4217 code."
    )
    organization_id = django_filters.CharFilter(max_length=64)
    processed_from = TimeBoundFilter(
        field_name="processed_at",
        label="Processed from",
        help_text="Processed at or after (ISO 8601 or a date).",
    )
    processed_to = TimeBoundFilter(
        field_name="processed_at",
        label="Processed to",
        upper=True,
        help_text="Processed at or before (ISO 8601 or a date).",
    )
    amount_min = django_filters.NumberFilter(field_name="amount", lookup_expr="gte")
    amount_max = django_filters.NumberFilter(field_name="amount", lookup_expr="lte")

    class Meta:
        model = PaymentSummary
        fields = ["status", "currency", "organization_id"]

    def filter_currency(self, queryset: Any, name: str, value: str) -> Any:
        return queryset.filter(currency=value.upper())
