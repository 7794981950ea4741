"""``manage.py rebuild_projections``: rebuild the payments read model from the event store."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from payments.projections import rebuild


class Command(BaseCommand):
    help = "Empty and rebuild the payments read model (PaymentSummary) from every event."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--batch-size", type=int, default=1000)

    def handle(self, *args: Any, **options: Any) -> None:
        def progress(position: int, last: int) -> None:
            if options["verbosity"] >= 1 and last:
                self.stderr.write(
                    f"\rposition {position}/{last} ({100 * position // last} %)", ending=""
                )

        position = rebuild(batch_size=options["batch_size"], progress=progress)
        if options["verbosity"] >= 1:
            self.stderr.write("")
        self.stdout.write(self.style.SUCCESS(f"Read model rebuilt up to position {position}."))
