"""A test projection that is not idempotent: one row per event applied, in a plain table.

Applying an event twice leaves two rows, so "every event exactly once" is
checked by comparing the rows with the positions of a replay. Child processes
load it through ``tests.projection_settings``.
"""

import os
import time
from typing import ClassVar

from django.db import connections

from eventstore.projections import Projection

TABLE = "projection_test_log"


def create_table(using="default"):
    with connections[using].cursor() as cursor:
        cursor.execute(
            f"CREATE TABLE IF NOT EXISTS {TABLE} "
            "(position BIGINT NOT NULL, event_id VARCHAR(36) NOT NULL, aggregate_id VARCHAR(255))"
        )
        cursor.execute(f"DELETE FROM {TABLE}")  # noqa: S608


def logged(using="default"):
    """Positions applied, in order (with repeats if any were applied twice)."""
    with connections[using].cursor() as cursor:
        cursor.execute(f"SELECT position FROM {TABLE} ORDER BY position")  # noqa: S608
        return [row[0] for row in cursor.fetchall()]


class AppliedLog(Projection):
    """``tests.applied_log``: a row per event; raises on aggregates listed in ``fail_on``."""

    name = "tests.applied_log"
    event_types = None
    batch_size = 50
    fail_on: ClassVar[set[str]] = set()

    def apply(self, events, store):
        delay = float(os.environ.get("PROJECTION_TEST_DELAY", "0"))
        with connections[self.database].cursor() as cursor:
            for event in events:
                if event.aggregate_id in self.fail_on:
                    raise RuntimeError(f"refusing {event.aggregate_id}")
                cursor.execute(
                    f"INSERT INTO {TABLE} (position, event_id, aggregate_id) "  # noqa: S608
                    "VALUES (%s, %s, %s)",
                    [event.position, str(event.event_id), event.aggregate_id],
                )
                if delay:
                    time.sleep(delay)

    def reset(self):
        with connections[self.database].cursor() as cursor:
            cursor.execute(f"DELETE FROM {TABLE}")  # noqa: S608
