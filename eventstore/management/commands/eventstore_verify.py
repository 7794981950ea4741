"""``manage.py eventstore_verify``: check the hash chain of a store, or of an export file."""

from __future__ import annotations

import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from eventstore.exceptions import EventStoreError
from eventstore.exportfile import ExportFileError, check_export
from eventstore.handler import eventstores
from eventstore.integrity import verify_store
from eventstore.signing import signing_key


class Command(BaseCommand):
    help = (
        "Verify the hash chain of a store (every event links to the one before it, positions "
        "have no gaps, the last event is the store's chain head, the database's indexed "
        "columns agree with the events), or with --file an export file (its chain and its "
        "signature), without any store. Exits non-zero naming the first bad position."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--alias", default="default", help="EVENTSTORES alias.")
        parser.add_argument(
            "--from-position",
            type=int,
            default=1,
            metavar="N",
            help="Trust the stored hash of position N-1 and check from N on.",
        )
        parser.add_argument("--file", metavar="EXPORT", help="Verify this export file instead.")
        parser.add_argument(
            "--unsigned",
            action="store_true",
            help="With --file: accept a file without a signature line (its chain links only).",
        )
        parser.add_argument("--no-progress", action="store_true", help="No progress bar.")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["file"]:
            self.stdout.write(self._verify_file(options["file"], options["unsigned"]))
            return
        if options["from_position"] < 1:
            raise CommandError("--from-position must be 1 or more.")
        from tqdm import tqdm

        store = eventstores[options["alias"]]
        stream = getattr(self.stderr, "_out", sys.stderr)
        show = not options["no_progress"] and options["verbosity"] >= 1 and stream.isatty()
        bar = tqdm(
            total=max(0, store.last_position() - options["from_position"] + 1),
            unit="ev",
            desc="verify",
            file=self.stderr,
            disable=not show,
            dynamic_ncols=True,
        )
        try:
            verified = verify_store(store, options["from_position"], on_page=bar.update)
        except EventStoreError as exc:
            raise CommandError(str(exc)) from exc
        finally:
            bar.close()
        self.stdout.write(self.style.SUCCESS(verified.summary()))

    def _verify_file(self, path: str, unsigned: bool) -> str:
        try:
            return check_export(path, signing_key(), unsigned=unsigned).summary()
        except ExportFileError as exc:
            raise CommandError(exc.where(path)) from exc
        except EventStoreError as exc:
            raise CommandError(str(exc)) from exc
        except OSError as exc:
            raise CommandError(f"Cannot read {path}: {exc}") from exc
