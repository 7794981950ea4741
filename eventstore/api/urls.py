"""URLs of the event store's read API; include them under ``api/``."""

from django.urls import path

from .analytics import StatisticsView, TrendsView
from .money import MoneyAnalyticsView
from .replay import CountsView, ReplayByCorrelationView, ReplayByTypeView
from .views import CorrelationTimelineView, EventDetailView, EventListView

urlpatterns = [
    path("events/", EventListView.as_view(), name="event-list"),
    path("events/<str:event_id>/", EventDetailView.as_view(), name="event-detail"),
    path(
        "correlations/<str:correlation_id>/timeline/",
        CorrelationTimelineView.as_view(),
        name="correlation-timeline",
    ),
    path("replay/by-type/", ReplayByTypeView.as_view(), name="replay-by-type"),
    path(
        "replay/by-correlation/<str:correlation_id>/",
        ReplayByCorrelationView.as_view(),
        name="replay-by-correlation",
    ),
    path("counts/", CountsView.as_view(), name="event-counts"),
    path("analytics/statistics/", StatisticsView.as_view(), name="analytics-statistics"),
    path("analytics/trends/", TrendsView.as_view(), name="analytics-trends"),
    path("analytics/money/", MoneyAnalyticsView.as_view(), name="analytics-money"),
]
