"""``manage.py eventstore_export [FILE] [--from-position N]``: write events as signed JSON Lines."""

from __future__ import annotations

import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from eventstore.exceptions import EventStoreError
from eventstore.exportfile import write_export
from eventstore.handler import eventstores
from eventstore.signing import signing_key


class Command(BaseCommand):
    help = (
        "Write the events of a store, in position order, as JSON Lines (ids, positions, "
        "timestamps, metadata, data, schema versions, chain hashes) to FILE or standard "
        "output, then a signature line (HMAC-SHA256 with EVENTSTORE_SIGNING_KEY, or a key "
        "derived from SECRET_KEY) covering every line and the chain's ends."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", nargs="?", help="Output file; standard output when omitted.")
        parser.add_argument("--alias", default="default", help="EVENTSTORES alias.")
        parser.add_argument(
            "--from-position",
            type=int,
            default=1,
            metavar="N",
            help="Export from position N on (the signature's previous_hash is the hash of N-1).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        store = eventstores[options["alias"]]
        if options["from_position"] < 1:
            raise CommandError("--from-position must be 1 or more.")
        try:
            key = signing_key()
        except EventStoreError as exc:
            raise CommandError(str(exc)) from exc
        path = options["file"]
        try:
            target = open(path, "w", encoding="utf-8", newline="\n") if path else sys.stdout  # noqa: SIM115
        except OSError as exc:
            raise CommandError(f"Cannot write {path}: {exc}") from exc
        try:
            fields = write_export(store, target, key, options["from_position"])
        except EventStoreError as exc:
            raise CommandError(str(exc)) from exc
        finally:
            if target is not sys.stdout:
                target.close()
        if path:
            self.stdout.write(
                f"Exported {fields['events']} events to {path}, signed (key "
                f"{fields['key_id']}), head {fields['head_hash']}."
            )
