from django.apps import AppConfig


class EventStoreConfig(AppConfig):
    """The eventstore app: registers its system checks and the scope cache's signals."""

    name = "eventstore"
    verbose_name = "Audit trail"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from . import checks  # noqa: F401  (registers the checks)
        from .queries.scope import connect_auth_signals

        connect_auth_signals()
        from django.apps import apps

        if apps.is_installed("django.contrib.admin"):
            from .admin.erasure import install_erase_action

            install_erase_action()  # the user admin, if the site registers one
