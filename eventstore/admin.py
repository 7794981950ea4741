"""The audit-trail pages, in the admin: recent events, aggregate and correlation timelines.

The unmanaged :class:`~eventstore.models.AuditTrail` model gives the pages an
entry on the admin index; every page is wrapped by the admin site's
``admin_view`` (anonymous users go to the login page) and needs the
``eventstore.view_audit_trail`` permission (403 otherwise).
"""

from __future__ import annotations

import json
from typing import Any

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import path, reverse

from .aggregates import aggregate_types
from .api.scope import AUDIT_TRAIL_PERMISSION
from .api.views import timeline_entries
from .context import is_valid_correlation_id
from .handler import eventstore
from .models import AuditTrail

RECENT_EVENTS = 50


@admin.register(AuditTrail)
class AuditTrailAdmin(admin.ModelAdmin):
    """Admin entry whose "change list" is the audit trail's start page."""

    def has_module_permission(self, request: HttpRequest) -> bool:
        return request.user.is_active and request.user.has_perm(AUDIT_TRAIL_PERMISSION)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self.has_module_permission(request)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def get_urls(self) -> list:
        wrap = self.admin_site.admin_view
        return [
            path("", wrap(self.recent_view), name="eventstore_audittrail_changelist"),
            path(
                "aggregate/<str:aggregate_id>/",
                wrap(self.aggregate_timeline_view),
                name="eventstore_aggregate_timeline",
            ),
            path(
                "correlation/<str:correlation_id>/",
                wrap(self.correlation_timeline_view),
                name="eventstore_correlation_timeline",
            ),
        ]

    def _context(self, request: HttpRequest, title: str, **extra: Any) -> dict[str, Any]:
        if not self.has_module_permission(request):
            raise PermissionDenied
        return {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": title,
            **extra,
        }

    def recent_view(self, request: HttpRequest) -> HttpResponse:
        """The newest events, each linking to its aggregate and correlation timelines."""
        context = self._context(request, "Audit trail")
        last = eventstore.last_position()
        events = eventstore.read_all(after_position=max(0, last - RECENT_EVENTS))
        context["events"] = [_row(event) for event in reversed(events)]
        context["stats"] = eventstore.stats()
        return TemplateResponse(request, "eventstore/recent.html", context)

    def aggregate_timeline_view(self, request: HttpRequest, aggregate_id: str) -> HttpResponse:
        """Each event of one aggregate with who, the change, and the state after it."""
        context = self._context(request, f"Timeline of {aggregate_id}")
        events = eventstore.read_aggregate(aggregate_id)
        if not events:
            raise Http404(f"Aggregate {aggregate_id!r} has no events.")
        aggregate_class = aggregate_types.get(events[0].aggregate_type)
        aggregate = aggregate_class(aggregate_id) if aggregate_class else None
        rows = []
        for event in events:
            row = _row(event)
            if aggregate is not None:
                aggregate.apply(event.to_event())
                aggregate.version = event.version
                row["state"] = aggregate.state()
            rows.append(row)
        context.update(
            aggregate_id=aggregate_id,
            aggregate_type=events[0].aggregate_type,
            rows=rows,
            api_url=reverse("payment-history", args=[aggregate_id])
            if events[0].aggregate_type == "Payment"
            else None,
        )
        return TemplateResponse(request, "eventstore/aggregate_timeline.html", context)

    def correlation_timeline_view(self, request: HttpRequest, correlation_id: str) -> HttpResponse:
        """Every event of one correlation id across aggregates, indented by causation."""
        context = self._context(request, f"Correlation {correlation_id}")
        if not is_valid_correlation_id(correlation_id):
            raise Http404("Invalid correlation id.")
        events = eventstore.read_by_correlation(correlation_id)
        if not events:
            raise Http404(f"No events with correlation id {correlation_id!r}.")
        rows = []
        for event, entry in zip(events, timeline_entries(events), strict=True):
            rows.append({**_row(event), "depth": entry["depth"], "indent": entry["depth"] * 2})
        context.update(
            correlation_id=correlation_id,
            rows=rows,
            api_url=reverse("correlation-timeline", args=[correlation_id]),
        )
        return TemplateResponse(request, "eventstore/correlation_timeline.html", context)


def _row(event: Any) -> dict[str, Any]:
    metadata = event.metadata
    return {
        "event": event,
        "data": event.data,
        "data_pretty": json.dumps(event.data, indent=2, ensure_ascii=False, sort_keys=True),
        "who": metadata.get("username") or metadata.get("user_id") or "system",
        "organization_id": metadata.get("organization_id"),
    }
