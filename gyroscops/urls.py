"""URL configuration: the admin (with the audit-trail pages) and the REST API under /api/."""

from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="admin:index", permanent=False)),
    path("admin/", admin.site.urls),
    path("api/", include("payments.api.urls")),
]

handler404 = "gyroscops.views.not_found"
handler500 = "gyroscops.views.server_error"
