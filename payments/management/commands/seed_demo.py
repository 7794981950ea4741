"""``manage.py seed_demo``: append a demo payments history to the configured store.

With the process-memory store the events live only in this process: use
``manage.py rundemo`` to seed and serve in one process.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from payments.demo import seed_demo


class Command(BaseCommand):
    help = "Append a reproducible demo history of payments (organizations, users, 90 days)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--payments", type=int, default=300, help="How many payments.")
        parser.add_argument("--days", type=int, default=90, help="Spread over the last N days.")
        parser.add_argument("--seed", type=int, default=2024, help="Random seed.")

    def handle(self, *args: Any, **options: Any) -> None:
        report = seed_demo(payments=options["payments"], days=options["days"], seed=options["seed"])
        self.stdout.write(
            self.style.SUCCESS(
                f"Seeded {report.payments} processed payments, {report.events} events, "
                f"{report.organizations} organizations, {report.users} users."
            )
        )
