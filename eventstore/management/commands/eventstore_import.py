"""``manage.py eventstore_import FILE``: load a JSON Lines export into the configured store."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from eventstore.exceptions import EventStoreError
from eventstore.handler import eventstores
from eventstore.records import RecordedEvent
from eventstore.serialization import record_from_json
from eventstore.transfer import check_importable, import_records

BATCH = 5_000


class Command(BaseCommand):
    help = (
        "Load events exported by eventstore_export, keeping event ids and timestamps. "
        "The whole file is checked first: a malformed line, an event append would refuse "
        "(unregistered type, data that does not fit its class, text without a UTF-8 form), "
        "or an event id already stored (or repeated in the file) stops the import before "
        "anything is written."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help="A JSON Lines file from eventstore_export.")
        parser.add_argument("--alias", default="default", help="EVENTSTORES alias.")

    def handle(self, *args: Any, **options: Any) -> None:
        store = eventstores[options["alias"]]
        path = options["file"]
        seen: set[Any] = set()
        total = 0
        for number, record in self._records(path):
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
            total += 1
        done = 0
        batch: list[RecordedEvent] = []
        try:
            for _number, record in self._records(path):
                batch.append(record)
                if len(batch) >= BATCH:  # a stream cut here goes on in the next chunk
                    done += len(import_records(store, batch))
                    batch = []
                    self._progress(done, total)
            done += len(import_records(store, batch))
        except EventStoreError as exc:
            raise CommandError(f"Import stopped after {done} of {total} events: {exc}") from exc
        self._progress(done, total)
        self.stdout.write(self.style.SUCCESS(f"Imported {done} events from {path}."))

    def _progress(self, done: int, total: int) -> None:
        if total:
            self.stderr.write(f"\r{done}/{total} events ({100 * done // total} %)", ending="")
            if done == total:
                self.stderr.write("")

    def _records(self, path: str) -> Iterator[tuple[int, RecordedEvent]]:
        try:
            with open(path, encoding="utf-8") as source:
                for number, line in enumerate(source, start=1):
                    if line.strip():
                        try:
                            yield number, record_from_json(line)
                        except EventStoreError as exc:
                            raise CommandError(f"{path}:{number}: {exc}") from exc
        except OSError as exc:
            raise CommandError(f"Cannot read {path}: {exc}") from exc
