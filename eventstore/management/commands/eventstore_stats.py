"""``manage.py eventstore_stats``: print figures about each configured store."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from eventstore.handler import eventstores


class Command(BaseCommand):
    help = "Print events, aggregates, approximate bytes and bounds of each configured store."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--alias", help="Only this EVENTSTORES alias.")
        parser.add_argument("--json", action="store_true", help="Print JSON.")

    def handle(self, *args: Any, **options: Any) -> None:
        aliases = [options["alias"]] if options["alias"] else list(eventstores)
        stats = {alias: eventstores[alias].stats() for alias in aliases}
        if options["json"]:
            self.stdout.write(json.dumps(stats, indent=2))
            return
        for alias, figures in stats.items():
            self.stdout.write(f"[{alias}]")
            for key, value in figures.items():
                self.stdout.write(f"  {key}: {value}")
