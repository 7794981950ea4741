"""``manage.py eventstore_import FILE``: load a signed JSON Lines export into a store."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from eventstore.exceptions import EventStoreError
from eventstore.exportfile import ExportFileError, check_export, export_records
from eventstore.handler import eventstores
from eventstore.privacy.sealing import sealing_key_ids
from eventstore.records import RecordedEvent
from eventstore.signing import signing_key
from eventstore.transfer import check_importable, import_records

BATCH = 5_000


class Command(BaseCommand):
    help = (
        "Load events exported by eventstore_export, keeping event ids and timestamps. "
        "Two passes over the file: the first checks everything and writes nothing (the "
        "signature line: made with this server's key, its MAC, event count and chain ends; "
        "each event's hash link; a malformed line; an event append would refuse; an event id "
        "already stored or repeated in the file), the second imports. The store re-chains the "
        "events at its own positions (into an empty store: the same hashes). A file without "
        "a signature line is refused unless --unsigned is given; a bad signature line always is."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help="A JSON Lines file from eventstore_export.")
        parser.add_argument("--alias", default="default", help="EVENTSTORES alias.")
        parser.add_argument(
            "--unsigned",
            action="store_true",
            help="Accept a file without a signature line (other systems, older versions).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        store = eventstores[options["alias"]]
        path = options["file"]
        seen: set[Any] = set()

        def check(number: int, record: RecordedEvent) -> None:
            if record.event_id in seen:
                raise CommandError(f"{path}:{number}: event {record.event_id} appears twice.")
            if store.get_event(record.event_id) is not None:
                raise CommandError(
                    f"{path}:{number}: event {record.event_id} is already stored; nothing imported."
                )
            try:
                check_importable(store, record)
            except EventStoreError as exc:
                raise CommandError(f"{path}:{number}: {exc}; nothing imported.") from exc
            seen.add(record.event_id)

        try:
            checked = check_export(
                path, signing_key(), unsigned=options["unsigned"], on_record=check
            )
        except ExportFileError as exc:
            raise CommandError(f"{exc.where(path)} Nothing imported.") from exc
        except EventStoreError as exc:
            raise CommandError(f"{exc}; nothing imported.") from exc
        except OSError as exc:
            raise CommandError(f"Cannot read {path}: {exc}") from exc
        total, done = checked.events, 0
        batch: list[RecordedEvent] = []
        held: dict[str, bool] = {}  # key id: whether this store has it (one look-up a key)
        unreadable = 0

        def has(key_id: str) -> bool:
            if key_id not in held:
                held[key_id] = store.keys is not None and store.keys.get(key_id) is not None
            return held[key_id]

        try:
            for _number, record in export_records(path):
                if not all(has(key_id) for key_id in sealing_key_ids(record.metadata_json)):
                    unreadable += 1
                batch.append(record)
                if len(batch) >= BATCH:  # a stream cut here goes on in the next chunk
                    done += len(import_records(store, batch))
                    batch = []
                    self._progress(done, total)
            done += len(import_records(store, batch))
        except ExportFileError as exc:
            raise CommandError(f"{exc.where(path)} Import stopped after {done} events.") from exc
        except EventStoreError as exc:
            raise CommandError(f"Import stopped after {done} of {total} events: {exc}") from exc
        except OSError as exc:
            raise CommandError(f"Cannot read {path}: {exc}") from exc
        self._progress(done, total)
        signed = "signed" if checked.signed else "UNSIGNED"
        self.stdout.write(self.style.SUCCESS(f"Imported {done} events from {path} ({signed})."))
        if unreadable:
            self.stderr.write(
                f"{unreadable} of the imported events hold personal data sealed with keys this "
                "store does not have: it reads as [erased] here (keys are not part of an export)."
            )

    def _progress(self, done: int, total: int) -> None:
        if total:
            self.stderr.write(f"\r{done}/{total} events ({100 * done // total} %)", ending="")
            if done == total:
                self.stderr.write("")
