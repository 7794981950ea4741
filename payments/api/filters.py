"""Filters of ``GET /api/payments/`` on the read model (django-filter)."""

from __future__ import annotations

from typing import Any

import django_filters
from django_filters.rest_framework import DjangoFilterBackend

from eventstore.api.errors import invalid_request
from eventstore.queries.filters import TimeBoundFilter
from eventstore.queries.rules import rule_error

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

    def get_form_class(self) -> Any:
        form_class = super().get_form_class()

        class PaymentSummaryFilterForm(form_class):  # type: ignore[misc, valid-type]
            def clean(self) -> dict[str, Any]:
                cleaned: dict[str, Any] = super().clean()
                _check_range(self, cleaned, "processed_from", "processed_to", "before")
                _check_range(self, cleaned, "amount_min", "amount_max", "below")
                return cleaned

        return PaymentSummaryFilterForm


def _check_range(form: Any, cleaned: dict[str, Any], low: str, high: str, word: str) -> None:
    """Refuse ``high`` below ``low`` (both fit the schema: a rule across them, a 422)."""
    start, end = cleaned.get(low), cleaned.get(high)
    if start is None or end is None:
        return
    start = getattr(start, "value", start)  # a TimeBound, or a Decimal
    end_value = getattr(end, "value", end)
    if start > end_value or (getattr(end, "exclusive", False) and start >= end_value):
        form.add_error(high, rule_error(f"'{high}' must not be {word} '{low}'."))


class RuleAwareFilterBackend(DjangoFilterBackend):
    """django-filter's backend, answering 422 when only cross-field rules fail (else 400).

    See :func:`eventstore.api.errors.invalid_request`.
    """

    def filter_queryset(self, request: Any, queryset: Any, view: Any) -> Any:
        filterset = self.get_filterset(request, queryset, view)
        if filterset is None:
            return queryset
        if not filterset.is_valid():
            raise invalid_request(filterset.errors, filterset.form.errors.as_data())
        return filterset.qs
