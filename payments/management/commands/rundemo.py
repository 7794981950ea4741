"""``manage.py rundemo``: migrate, create the demo login, seed, and serve, in one process.

The process-memory store lives in this process only, so seeding and serving
must happen here together (``runserver`` runs without its autoreloader, which
would start a second process with an empty store). The command claims the
memory stores first (:func:`eventstore.serving.claim_serving`): a second demo
of this checkout refuses to start before it touches the shared SQLite file.
``manage.py`` runs it on :mod:`gyroscops.demo_settings` (its signing key,
``eventstore.W001`` silenced). Django's development server is the right server
for a demo on 127.0.0.1, so its warning against production use is not printed.
"""

from __future__ import annotations

import os
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser

from eventstore.projections import projections, rebuild
from eventstore.serving import ServingConflict, claim_serving
from payments.demo import seed_demo


class Command(BaseCommand):
    help = "Set up the demo (database, staff login, seeded history) and serve it on 127.0.0.1."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--port", default=os.environ.get("PORT", "8000"))
        parser.add_argument("--payments", type=int, default=300)

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            claim_serving()
        except ServingConflict as exc:
            raise CommandError(str(exc)) from exc
        call_command("migrate", interactive=False, verbosity=0)
        # The read models (SQLite) outlive the demo's memory store: start them afresh on
        # this one, so that seeding does not first find and rebuild a former history's.
        for projection in projections().values():
            rebuild(projection)
        username = os.environ.get("DEMO_USER", "admin")
        password = os.environ.get("DEMO_PASSWORD", "gyroscops-demo")
        user, _created = get_user_model().objects.get_or_create(username=username)
        user.is_staff = user.is_superuser = True
        if not user.check_password(password):
            user.set_password(password)  # kept otherwise: a login survives a restart
        user.save()
        report = seed_demo(payments=options["payments"])
        port = options["port"]
        self.stdout.write(
            self.style.SUCCESS(
                f"\nSeeded {report.events} events ({report.payments} processed payments).\n"
                f"Gyroscops audit trail: http://127.0.0.1:{port}/admin/eventstore/audittrail/\n"
                f"Login: {username} / {password}\n"
                f"API:   http://127.0.0.1:{port}/api/events/\n"
                "Served from this process by Django's development server, on this machine "
                "only; Ctrl-C stops it (the seeded history goes with it).\n"
            )
        )
        os.environ["DJANGO_RUNSERVER_HIDE_WARNING"] = "true"  # Django ≥ 5.2
        call_command("runserver", f"127.0.0.1:{port}", use_reloader=False, insecure_serving=True)
