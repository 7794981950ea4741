"""The audit-trail pages in the admin: event browser, event detail, timelines, analytics.

The unmanaged :class:`~eventstore.models.AuditTrail` model gives the pages an
entry on the admin index; every page is wrapped by the admin site's
``admin_view`` (anonymous users go to the login page), needs the
``eventstore.view_audit_trail`` permission (403 otherwise) and renders with the
admin site's ``each_context``. One module per page
(:mod:`.browser`, :mod:`.detail`, :mod:`.timelines`, :mod:`.dashboard` with its money
section in :mod:`.money`), the helpers they share in :mod:`.common`, the SVG charts in
:mod:`.charts`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import admin
from django.contrib.auth.models import Permission
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from django.http.response import HttpResponseBase
from django.template.response import TemplateResponse
from django.urls import URLPattern, path

from ..models import AuditTrail
from ..queries.scope import AUDIT_TRAIL_PERMISSION
from . import browser, dashboard, detail, erasure, export, timelines
from .projections import projection_status_page

#: A page view: the request, the admin's context, and the URL's keyword arguments.
View = Callable[..., HttpResponseBase]


@admin.register(AuditTrail)
class AuditTrailAdmin(admin.ModelAdmin):  # type: ignore[type-arg]  # not subscriptable at run time
    """Admin entry whose "change list" is the event browser.

    URLs, under ``admin/eventstore/audittrail/``:

    - ``""``: event browser (``admin:eventstore_audittrail_changelist``);
    - ``export.csv``: the browser's filter as a CSV download, every page
      (``admin:eventstore_event_export``);
    - ``event/<event_id>/``: one event (``admin:eventstore_event_detail``);
    - ``aggregate/<aggregate_id>/``: its timeline, ``?version=N`` for the state
      at a version (``admin:eventstore_aggregate_timeline``);
    - ``correlation/<correlation_id>/``: correlation timeline
      (``admin:eventstore_correlation_timeline``);
    - ``analytics/``: the analytics dashboard (``admin:eventstore_analytics``);
    - ``projections/``: status of each projection (``admin:eventstore_projections``).
    """

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

    def get_urls(self) -> list[URLPattern]:
        def page(view: View, title: str) -> View:
            return self.admin_site.admin_view(self._page(view, title))

        return [
            path(
                "",
                page(browser.event_browser, "Audit trail: events"),
                name="eventstore_audittrail_changelist",
            ),
            path(
                "export.csv",
                page(export.event_export, "Audit trail: events"),
                name="eventstore_event_export",
            ),
            path(
                "event/<str:event_id>/",
                page(detail.event_detail, "Event {event_id}"),
                name="eventstore_event_detail",
            ),
            path(
                "aggregate/<str:aggregate_id>/",
                page(timelines.aggregate_timeline, "Timeline of {aggregate_id}"),
                name="eventstore_aggregate_timeline",
            ),
            path(
                "correlation/<str:correlation_id>/",
                page(timelines.correlation_timeline, "Correlation {correlation_id}"),
                name="eventstore_correlation_timeline",
            ),
            path(
                "analytics/",
                page(dashboard.analytics_dashboard, "Audit trail: analytics"),
                name="eventstore_analytics",
            ),
            path(
                "projections/",
                page(projection_status_page, "Audit trail: projections"),
                name="eventstore_projections",
            ),
        ]

    def _page(self, view: View, title: str) -> View:
        """Wrap a page view: check the permission, then call it with the admin's context."""

        def wrapper(request: HttpRequest, **kwargs: Any) -> HttpResponseBase:
            request.current_app = self.admin_site.name  # links stay on this admin site
            if not self.has_module_permission(request):
                return self.permission_denied(request)
            return view(request, self._context(request, title.format(**kwargs)), **kwargs)

        wrapper.__name__ = wrapper.__qualname__ = view.__name__
        wrapper.__doc__ = view.__doc__
        return wrapper

    def permission_denied(self, request: HttpRequest) -> TemplateResponse:
        """Return the 403 page for staff without ``eventstore.view_audit_trail``.

        It renders in the admin's chrome (``admin/base_site.html``, the site's
        header and navigation sidebar), names the permission to ask for, and
        links back to the admin index.
        """
        context = {
            **self.admin_site.each_context(request),
            "title": "Permission needed",
            "permission": AUDIT_TRAIL_PERMISSION,
            "permission_name": _permission_name(),
        }
        return TemplateResponse(request, "eventstore/permission_denied.html", context, status=403)

    def _context(self, request: HttpRequest, title: str, **extra: Any) -> dict[str, Any]:
        if not self.has_module_permission(request):
            raise PermissionDenied
        return {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": title,
            **extra,
        }


def _permission_name() -> str:
    """Return the permission's human name ("Can view the audit trail"), as the admin lists it."""
    app_label, _, codename = AUDIT_TRAIL_PERMISSION.partition(".")
    permission = Permission.objects.filter(
        content_type__app_label=app_label, codename=codename
    ).first()
    return permission.name if permission is not None else codename


# The user admin gets the erase action (if the site registers one; apps.ready() tries
# again, for a user admin registered after this module is imported).
erasure.install_erase_action()
