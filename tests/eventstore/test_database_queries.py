"""Details of the database backend the contract suite leaves open: errors, options, figures.

How database errors read once translated, the DATABASE option, ``stats()``,
reads by malformed ids, indexed metadata that is not a string, a retry's
records, the identity, and a guard refused outside the one-statement write.
Runs on SQLite.
"""

import uuid

from django.db import DatabaseError, DataError, IntegrityError, OperationalError
from django.test import SimpleTestCase, TransactionTestCase

from eventstore.backends.database import DatabaseEventStore, translate_errors
from eventstore.exceptions import (
    ConcurrencyError,
    DuplicateEventError,
    EventStoreError,
    InvalidBackendError,
    InvalidEventError,
)
from eventstore.records import NO_STREAM, NewEvent
from eventstore.testing.contract import happened


class TranslatedErrorsTests(SimpleTestCase):
    """What a caller catches, and reads, for each kind of database error."""

    def raised(self, error, aggregate_id=None):
        with self.assertRaises(EventStoreError) as caught, translate_errors(aggregate_id):
            raise error
        self.assertIs(caught.exception.__cause__, error)
        return caught.exception

    def test_a_unique_event_id_is_a_duplicate(self):
        error = self.raised(IntegrityError("UNIQUE constraint failed: x.event_id"), "a-1")
        self.assertIsInstance(error, DuplicateEventError)
        self.assertIsNone(error.event_id)
        self.assertEqual(
            str(error),
            "An event id of the batch is already stored: UNIQUE constraint failed: x.event_id",
        )

    def test_a_unique_version_is_a_conflict_on_the_aggregate(self):
        for text in ("UNIQUE constraint failed: x.version", "duplicate key x_aggregate_uniq"):
            error = self.raised(IntegrityError(text), "a-1")
            self.assertIsInstance(error, ConcurrencyError)
            self.assertEqual(
                (error.aggregate_id, error.expected_version, error.actual_version),
                ("a-1", "?", -1),
            )
        self.assertEqual(self.raised(IntegrityError("x.version")).aggregate_id, "?")

    def test_another_integrity_error_is_a_refused_append(self):
        error = self.raised(IntegrityError("NOT NULL constraint failed: x.data"))
        self.assertIs(type(error), EventStoreError)
        self.assertEqual(
            str(error), "Database refused the append: NOT NULL constraint failed: x.data"
        )

    def test_a_refused_value_is_an_invalid_event(self):
        error = self.raised(DataError("value too long"))
        self.assertIs(type(error), InvalidEventError)
        self.assertEqual(str(error), "Database refused a value: value too long")

    def test_any_other_database_error_is_a_store_error(self):
        for exc in (OperationalError("database is locked"), DatabaseError("database is locked")):
            error = self.raised(exc)
            self.assertIs(type(error), EventStoreError)
            self.assertEqual(str(error), "Database error: database is locked")

    def test_other_errors_pass_through(self):
        with self.assertRaises(KeyError), translate_errors():
            raise KeyError("x")


class DatabaseStoreDetailsTests(TransactionTestCase):
    databases = {"default"}

    def setUp(self):
        super().setUp()
        self.store = DatabaseEventStore("db-details", {"DATABASE": "default"})
        self.store.clear()

    def test_an_unknown_database_alias_is_refused_naming_it(self):
        with self.assertRaises(InvalidBackendError) as caught:
            DatabaseEventStore("db-bad", {"DATABASE": "nowhere"})
        self.assertEqual(
            str(caught.exception),
            "EVENTSTORES['db-bad']: OPTIONS['DATABASE'] 'nowhere' is not in settings.DATABASES.",
        )
        self.assertEqual(DatabaseEventStore("db-default").using, "default")

    def test_stats_name_the_backend_alias_database_and_vendor(self):
        self.store.append("a-1", "Thing", [happened(), happened()], NO_STREAM)
        self.store.append("b-1", "Thing", [happened()], NO_STREAM)
        self.assertEqual(
            self.store.stats(),
            {
                "backend": "DatabaseEventStore",
                "alias": "db-details",
                "database": "default",
                "vendor": "sqlite",
                "events": 3,
                "aggregates": 2,
            },
        )

    def test_an_empty_store_has_position_zero(self):
        self.assertEqual(self.store.last_position(), 0)
        self.assertEqual(self.store.aggregate_version("a-1"), 0)
        self.assertEqual(self.store.stats()["events"], 0)

    def test_get_event_by_id_string_uuid_or_malformed(self):
        [stored] = self.store.append(
            "a-1", "Thing", [happened("x")], NO_STREAM, correlation_id="c-1", causation_id="k-1"
        )
        self.assertEqual((stored.correlation_id, stored.causation_id), ("c-1", "k-1"))
        self.assertEqual(self.store.get_event(stored.event_id), stored)  # the ids too
        self.assertEqual(self.store.get_event(str(stored.event_id).upper()), stored)
        self.assertIsNone(self.store.get_event(uuid.uuid4()))
        self.assertIsNone(self.store.get_event("not-a-uuid"))

    def test_indexed_metadata_that_is_not_a_string_is_found_by_its_value(self):
        self.store.append(
            "n-1", "Thing", [happened(metadata={"organization_id": 42, "user_id": True})], 0
        )
        self.store.append(
            "d-1", "Thing", [happened(metadata={"organization_id": {"a": 1}, "user_id": [1]})], 0
        )
        self.store.append("s-1", "Thing", [happened(metadata={"organization_id": "acme"})], 0)
        self.store.append("n-7", "Thing", [happened(metadata={"organization_id": 7})], 0)
        found = self.store.search(organization_id=42)
        self.assertEqual([e.aggregate_id for e in found], ["n-1"])
        self.assertEqual([e.aggregate_id for e in self.store.search(organization_id=7)], ["n-7"])
        self.assertEqual([e.aggregate_id for e in self.store.search(user_id=True)], ["n-1"])
        self.assertEqual(self.store.count(organization_id="acme"), 1)
        self.assertEqual(self.store.search(organization_id=[None]), [])

    def test_a_retry_returns_the_stored_records_with_their_data(self):
        batch = [
            NewEvent("contract.Happened", {"note": "é"}, metadata={"user_id": "u"}),
            happened("2"),
        ]
        first = self.store.append("a-1", "Thing", batch, NO_STREAM, correlation_id="c-1")
        again = self.store.append("a-1", "Thing", batch, NO_STREAM, correlation_id="c-1")
        self.assertEqual(again, first)
        self.assertEqual([e.data for e in again], [{"note": "é"}, {"note": "2"}])
        self.assertEqual(again[0].metadata, {"user_id": "u"})
        self.assertEqual(self.store.last_position(), 2)
        # The retry's reserved positions were given back: no gap after it.
        self.assertEqual(self.store.append("b-1", "Thing", [happened()], NO_STREAM)[0].position, 3)

    def test_the_identity_is_shared_by_instances_and_renewed_by_clear(self):
        identity = self.store.identity()
        self.assertEqual(DatabaseEventStore("db-other").identity(), identity)
        self.assertEqual(self.store.identity(), identity)
        self.store.clear()
        self.assertNotEqual(self.store.identity(), identity)

    def test_a_guard_needs_the_one_statement_write(self):
        from datetime import UTC, datetime

        from eventstore.backends.database import Guard, write_rows

        guard = Guard("a-1", 1, "Thing", datetime(2024, 3, 1, tzinfo=UTC))
        with self.assertRaises(ValueError) as caught:
            write_rows("default", [], [], guard)  # SQLite: never one statement
        self.assertEqual(str(caught.exception), "write_rows: a guard needs the one-statement write")
        self.assertEqual(self.store.last_position(), 0)

    def test_positions_start_at_one_again_after_clear(self):
        self.store.append("a-1", "Thing", [happened(), happened()], NO_STREAM)
        self.store.clear()
        self.assertEqual(self.store.append("a-1", "Thing", [happened()], NO_STREAM)[0].position, 1)
        self.assertEqual(self.store.last_position(), 1)
