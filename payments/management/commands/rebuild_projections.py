"""``manage.py rebuild_projections``: the same as ``eventstore_projections rebuild
payments.summary`` (kept for existing scripts)."""

from __future__ import annotations

from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser


class Command(BaseCommand):
    help = (
        "Rebuild the payments read model "
        "(same as: eventstore_projections rebuild payments.summary)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--batch-size", type=int, default=None)

    def handle(self, *args: Any, **options: Any) -> None:
        call_command(
            "eventstore_projections",
            "rebuild",
            "payments.summary",
            batch_size=options["batch_size"],
            verbosity=options["verbosity"],
            stdout=self.stdout._out,
            stderr=self.stderr._out,
        )
