"""Admin for organizations and the payments read model (read-only, linked to timelines)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html

from .models import Organization, PaymentSummary


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
        "amount",
        "currency",
        "refunded_amount",
        "organization_id",
        "processed_at",
        "timeline",
    ]
    list_filter = ["status", "currency", "organization_id"]
    search_fields = ["payment_id"]
    readonly_fields = ["timeline"]

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
