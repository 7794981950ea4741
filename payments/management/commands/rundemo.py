"""``manage.py rundemo``: migrate, create the demo login, seed, and serve, in one process.

The process-memory store lives in this process only, so seeding and serving
must happen here together (``runserver`` runs without its autoreloader, which
would start a second process with an empty store).
"""

from __future__ import annotations

import os
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser

from payments.demo import seed_demo


class Command(BaseCommand):
    help = "Set up the demo (database, staff login, seeded history) and serve it on 127.0.0.1."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--port", default=os.environ.get("PORT", "8000"))
        parser.add_argument("--payments", type=int, default=300)

    def handle(self, *args: Any, **options: Any) -> None:
        call_command("migrate", interactive=False, verbosity=0)
        username = os.environ.get("DEMO_USER", "admin")
        password = os.environ.get("DEMO_PASSWORD", "gyroscops-demo")
        user, _created = get_user_model().objects.get_or_create(username=username)
        user.is_staff = user.is_superuser = True
        user.set_password(password)
        user.save()
        report = seed_demo(payments=options["payments"])
        port = options["port"]
        self.stdout.write(
            self.style.SUCCESS(
                f"\nSeeded {report.events} events ({report.payments} processed payments).\n"
                f"Gyroscops audit trail: http://127.0.0.1:{port}/admin/eventstore/audittrail/\n"
                f"Login: {username} / {password}\n"
                f"API:   http://127.0.0.1:{port}/api/events/\n"
            )
        )
        call_command("runserver", f"127.0.0.1:{port}", use_reloader=False, insecure_serving=True)
