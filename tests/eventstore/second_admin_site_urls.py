"""A URLconf with a second admin site ("audit") that also serves the audit-trail pages."""

from django.contrib import admin
from django.urls import path

from eventstore.admin import AuditTrailAdmin
from eventstore.models import AuditTrail

audit_site = admin.AdminSite(name="audit")
audit_site.register(AuditTrail, AuditTrailAdmin)

urlpatterns = [
    path("audit/", audit_site.urls),
    path("admin/", admin.site.urls),
]
