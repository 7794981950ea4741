"""URLs of the event store's read API; include them under ``api/``."""

from django.urls import path

from .views import CorrelationTimelineView, EventListView

urlpatterns = [
    path("events/", EventListView.as_view(), name="event-list"),
    path(
        "correlations/<str:correlation_id>/timeline/",
        CorrelationTimelineView.as_view(),
        name="correlation-timeline",
    ),
]
