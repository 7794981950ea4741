"""``manage.py eventstore_export [FILE]``: write every event as JSON Lines."""

from __future__ import annotations

import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from eventstore.handler import eventstores
from eventstore.serialization import record_to_json

PAGE = 10_000


class Command(BaseCommand):
    help = (
        "Write every event of a store, in position order, as JSON Lines (ids, positions, "
        "timestamps, metadata, data, schema versions) to FILE or standard output."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", nargs="?", help="Output file; standard output when omitted.")
        parser.add_argument("--alias", default="default", help="EVENTSTORES alias.")

    def handle(self, *args: Any, **options: Any) -> None:
        store = eventstores[options["alias"]]
        target = open(options["file"], "w", encoding="utf-8") if options["file"] else sys.stdout  # noqa: SIM115
        count, position = 0, 0
        try:
            while page := store.read_all(after_position=position, limit=PAGE):
                target.write("".join(record_to_json(record) + "\n" for record in page))
                count += len(page)
                position = page[-1].position
        finally:
            if target is not sys.stdout:
                target.close()
        if options["file"]:
            self.stdout.write(f"Exported {count} events to {options['file']}.")
