"""The admin (with the audit-trail pages) and the event store's read API under /api/."""

import shop  # noqa: F401  (registers the project's events and aggregate)
from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/", include("eventstore.api.urls")),
]
