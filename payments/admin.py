"""Admin for organizations and the payments read model (read-only, linked to timelines)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html

from .models import Organization, PaymentSummary
from .money import format_amount


@admin.register(Organization)
class OrganizationAdmin(admin.ModelAdmin):
    list_display = ["slug", "name"]
    search_fields = ["slug", "name"]
    filter_horizontal = ["members"]


@admin.register(PaymentSummary)
class PaymentSummaryAdmin(admin.ModelAdmin):
    """Payments as the read model shows them; history lives in the event store."""

    list_display = [
        "payment_id",
        "status",
        "amount_display",
        "currency",
        "refunded_display",
        "organization_id",
        "processed_at",
        "timeline",
    ]
    list_filter = ["status", "currency", "organization_id"]
    search_fields = ["payment_id"]
    readonly_fields = ["amount_display", "refunded_display", "timeline"]
    # The change form (read-only) shows the amounts as the list does, not as stored (3 places).
    exclude = ["amount", "refunded_amount"]

    @admin.display(description="amount", ordering="amount")
    def amount_display(self, row: PaymentSummary) -> str:
        """The amount in the currency's minor units (EUR "5.00", JPY "500", KWD "5.000")."""
        return format_amount(row.amount, row.currency)

    @admin.display(description="refunded amount", ordering="refunded_amount")
    def refunded_display(self, row: PaymentSummary) -> str:
        """The refunded amount in the currency's minor units, like :meth:`amount_display`."""
        return format_amount(row.refunded_amount, row.currency)

    @admin.display(description="audit trail")
    def timeline(self, row: PaymentSummary) -> str:
        url = reverse("admin:eventstore_aggregate_timeline", args=[row.payment_id])
        return format_html('<a href="{}">Timeline of {}</a>', url, row.payment_id)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # rows come from events only

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
