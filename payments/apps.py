from django.apps import AppConfig


class PaymentsConfig(AppConfig):
    """The payments domain: registers its event types and aggregate on start-up."""

    name = "payments"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Register the event types and the aggregate, and connect the read model.
        from . import aggregate, events, projections  # noqa: F401
        from .models import connect_scope_signals

        connect_scope_signals()
