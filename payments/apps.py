from django.apps import AppConfig


class PaymentsConfig(AppConfig):
    """The payments domain: registers its event types and aggregate on start-up."""

    name = "payments"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from . import aggregate, events  # noqa: F401  (register event types and aggregate)
