"""URLs of the REST API (included under ``api/``)."""

from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from . import views

urlpatterns = [
    path("", views.ApiRootView.as_view(), name="api-root"),
    path("auth/token/", views.AuthTokenView.as_view(), name="api-token"),
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("payments/", views.PaymentListCreateView.as_view(), name="payment-list"),
    path("payments/<str:payment_id>/", views.PaymentDetailView.as_view(), name="payment-detail"),
    path(
        "payments/<str:payment_id>/history/",
        views.PaymentHistoryView.as_view(),
        name="payment-history",
    ),
    path(
        "payments/<str:payment_id>/replay/",
        views.PaymentReplayView.as_view(),
        name="payment-replay",
    ),
    path(
        "payments/<str:payment_id>/refunds/",
        views.PaymentRefundView.as_view(),
        name="payment-refunds",
    ),
    path(
        "payments/<str:payment_id>/failed-attempts/",
        views.PaymentFailedAttemptView.as_view(),
        name="payment-failed-attempts",
    ),
    path("", include("eventstore.api.urls")),
]
