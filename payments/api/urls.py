"""URLs of the REST API (included under ``api/``)."""

from django.urls import include, path
from rest_framework.authtoken.views import obtain_auth_token

from . import views

urlpatterns = [
    path("auth/token/", obtain_auth_token, name="api-token"),
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
