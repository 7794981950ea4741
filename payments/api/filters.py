"""Filters of ``GET /api/payments/`` on the read model (django-filter)."""

from __future__ import annotations

from typing import Any

import django_filters

from eventstore.api.fields import IsoDateTimeBoundField, TimeBound

from ..models import PaymentSummary

STATUSES = ["processed", "partially_refunded", "refunded", "failed"]


class _ProcessedAtFilter(django_filters.Filter):
    field_class = IsoDateTimeBoundField

    def filter(self, qs: Any, value: TimeBound | None) -> Any:
        if value is None:
            return qs
        lookup = "lt" if value.exclusive else ("lte" if self.extra.get("upper") else "gte")
        return qs.filter(**{f"processed_at__{lookup}": value.value})


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
    processed_from = _ProcessedAtFilter(
        field_name="processed_at",
        label="Processed from",
        help_text="Processed at or after (ISO 8601 or a date).",
    )
    processed_to = _ProcessedAtFilter(
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
