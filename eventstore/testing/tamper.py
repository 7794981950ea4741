"""Change stored events behind a store's back, as an intruder would (tests of the hash chain).

The contract suite (:mod:`eventstore.testing.contract`) tampers through one of
these per backend, then expects :func:`eventstore.integrity.verify_store` to
name the position. Each edits storage directly, never through the store's API:
the memory backend's lists, the database backend's rows by raw SQL.
"""

from __future__ import annotations

import dataclasses
from datetime import datetime
from typing import Any, cast

from django.db import connections
from django.db.models import Field

from ..backends.base import BaseEventStore

__all__ = ["DatabaseTamper", "MemoryTamper", "Tamper"]


class Tamper:
    """What a tamper hook does; a subclass per backend.

    ``changes`` name :class:`~eventstore.records.RecordedEvent` fields:
    ``data_json``, ``metadata_json`` (JSON text) or ``timestamp`` (aware datetime).
    """

    def update(self, store: BaseEventStore, position: int, **changes: Any) -> None:
        """Change fields of the stored event at ``position``, leaving its stored hash."""
        raise NotImplementedError

    def delete(self, store: BaseEventStore, position: int) -> None:
        """Remove the stored event at ``position`` (the head stays as it was)."""
        raise NotImplementedError

    def swap(self, store: BaseEventStore, first: int, second: int) -> None:
        """Exchange the positions of two stored events (each keeps its hash)."""
        raise NotImplementedError


class MemoryTamper(Tamper):
    """Edits the process-memory backend's list of events (position p at index p - 1)."""

    def update(self, store: BaseEventStore, position: int, **changes: Any) -> None:
        events = store._data.events  # type: ignore[attr-defined]
        events[position - 1] = dataclasses.replace(events[position - 1], **changes)

    def delete(self, store: BaseEventStore, position: int) -> None:
        del store._data.events[position - 1]  # type: ignore[attr-defined]

    def swap(self, store: BaseEventStore, first: int, second: int) -> None:
        events = store._data.events  # type: ignore[attr-defined]
        a, b = events[first - 1], events[second - 1]
        events[first - 1] = dataclasses.replace(b, position=first)
        events[second - 1] = dataclasses.replace(a, position=second)


class DatabaseTamper(Tamper):
    """Edits the database backend's rows with raw SQL ``UPDATE`` and ``DELETE`` statements."""

    @staticmethod
    def _run(store: BaseEventStore, sql: str, params: list[Any]) -> None:
        from ..models import StoredEvent

        connection = connections[store.using]  # type: ignore[attr-defined]
        table = connection.ops.quote_name(StoredEvent._meta.db_table)
        with connection.cursor() as cursor:
            cursor.execute(sql.format(table=table), params)

    def update(self, store: BaseEventStore, position: int, **changes: Any) -> None:
        from ..models import StoredEvent

        connection = connections[store.using]  # type: ignore[attr-defined]
        json_cast = "::jsonb" if connection.vendor == "postgresql" else ""
        for name, value in changes.items():
            column = {"data_json": "data", "metadata_json": "metadata"}.get(name, name)
            if isinstance(value, datetime):
                field = cast("Field[Any, Any]", StoredEvent._meta.get_field(column))
                value = field.get_db_prep_save(value, connection)
            suffix = json_cast if column in ("data", "metadata") else ""
            self._run(
                store,
                f"UPDATE {{table}} SET {column} = %s{suffix} WHERE position = %s",  # noqa: S608
                [value, position],
            )

    def update_column(self, store: BaseEventStore, position: int, column: str, value: Any) -> None:
        """Set one column of a row (an indexed copy such as ``user_id``) by raw SQL."""
        self._run(
            store,
            f"UPDATE {{table}} SET {column} = %s WHERE position = %s",  # noqa: S608
            [value, position],
        )

    def delete(self, store: BaseEventStore, position: int) -> None:
        self._run(store, "DELETE FROM {table} WHERE position = %s", [position])

    def swap(self, store: BaseEventStore, first: int, second: int) -> None:
        for old, new in ((first, -1), (second, first), (-1, second)):
            self._run(store, "UPDATE {table} SET position = %s WHERE position = %s", [new, old])
