"""What only the database backend promises: commit-ordered positions and on-commit publishing.

Each test runs on SQLite here, and on PostgreSQL in test_postgresql.
"""

import threading
import time
import uuid

from django.db import connections, transaction
from django.test import TransactionTestCase

from eventstore.backends.database import DatabaseEventStore
from eventstore.exceptions import ConcurrencyError, DuplicateEventError
from eventstore.integrity import ChainError, verify_store
from eventstore.testing import EventRecorder
from eventstore.testing.contract import happened
from eventstore.testing.tamper import DatabaseTamper


def in_thread(target):
    def run():
        try:
            target()
        finally:
            connections.close_all()

    thread = threading.Thread(target=run)
    thread.start()
    return thread


class DatabaseBackendPromises:
    database = "default"

    def setUp(self):
        super().setUp()
        self.store = DatabaseEventStore("db-promises", {"DATABASE": self.database})
        self.store.clear()

    def hold_the_counter(self) -> tuple[threading.Thread, threading.Event]:
        """Start a thread whose transaction appended "slow" and stays open (holding the
        position counter) until the returned event is set."""
        appended, release = threading.Event(), threading.Event()

        def slow_writer():
            with transaction.atomic(using=self.database):
                self.store.append("slow", "Thing", [happened("slow")], 0)
                appended.set()
                release.wait(20)

        slow = in_thread(slow_writer)
        assert appended.wait(20)
        return slow, release

    def test_a_reader_never_skips_an_event_that_commits_late(self):
        slow, release = self.hold_the_counter()
        fast = in_thread(lambda: self.store.append("fast", "Thing", [happened("fast")], 0))
        time.sleep(0.5)
        # The fast writer waits for the open transaction: it cannot take position 2
        # while position 1 is uncommitted, so a reader cannot pass over position 1.
        self.assertTrue(fast.is_alive())
        self.assertEqual(self.store.read_all(), [])
        release.set()
        slow.join(20)
        fast.join(20)
        self.assertEqual(
            [(e.aggregate_id, e.position) for e in self.store.read_all()],
            [("slow", 1), ("fast", 2)],
        )
        # The fast append linked from position 1's hash, committed while it waited: it
        # takes the previous hash from the counter row it locked, never from the events
        # table (which its statement's snapshot, taken before it waited, does not show).
        self.assertEqual(verify_store(self.store).last, 2)

    def test_an_append_losing_the_race_after_its_check_reports_the_version_read_afterwards(self):
        # The stream's last event is read before the position counter is taken; an append
        # that commits in between takes the version first and the unique index refuses ours.
        from unittest import mock

        from eventstore.backends import database
        from eventstore.records import ANY

        self.store.append("a-1", "Thing", [happened("one"), happened("two")], 0)
        stale = mock.patch.object(database, "stream_head", return_value=(0, None, None))
        with stale, self.assertRaises(ConcurrencyError) as caught:
            self.store.append("a-1", "Thing", [happened("late")], 0)
        self.assertEqual(
            (caught.exception.aggregate_id, caught.exception.expected_version), ("a-1", 0)
        )
        self.assertEqual(caught.exception.actual_version, 2)
        # With ANY the append reads the stream again and goes after the last event.
        real = database.stream_head
        reads = iter([(0, None, None)])
        with mock.patch.object(
            database, "stream_head", side_effect=lambda *args: next(reads, None) or real(*args)
        ):
            added = self.store.append("a-1", "Thing", [happened("any")], ANY)
        self.assertEqual([(e.version, e.position) for e in added], [(3, 3)])
        self.assertEqual(
            [e.data["note"] for e in self.store.read_aggregate("a-1")], ["one", "two", "any"]
        )

    def test_the_bus_publishes_after_commit_and_never_for_a_rollback(self):
        recorder = EventRecorder().connect()
        self.addCleanup(recorder.disconnect)
        with transaction.atomic(using=self.database):
            self.store.append("a-1", "Thing", [happened()], 0)
            self.assertEqual(recorder.events, [])  # not yet committed
        self.assertEqual([e.aggregate_id for e in recorder.events], ["a-1"])
        with self.assertRaises(RuntimeError), transaction.atomic(using=self.database):
            self.store.append("b-1", "Thing", [happened()], 0)
            raise RuntimeError("roll back")
        self.assertEqual([e.aggregate_id for e in recorder.events], ["a-1"])
        self.assertEqual(self.store.aggregate_version("b-1"), 0)
        self.assertEqual(self.store.append("c-1", "Thing", [happened()], 0)[0].position, 2)

    def test_a_retry_inside_a_transaction_returns_the_original_and_keeps_the_transaction(self):
        # The write that finds the ids taken is undone alone (a savepoint), so the
        # transaction can still read the stored batch and go on.
        batch = [happened("1"), happened("2")]
        first = self.store.append("a-1", "Thing", batch, 0)
        with transaction.atomic(using=self.database):
            again = self.store.append("a-1", "Thing", batch, 0)
            later = self.store.append("a-1", "Thing", [happened("3")], 2)
        self.assertEqual(again, first)
        self.assertEqual([(e.version, e.position) for e in later], [(3, 3)])
        self.assertEqual(self.store.last_position(), 3)

    def test_database_errors_become_the_stores_errors_in_one_place(self):
        from eventstore.backends.database import translate_errors
        from eventstore.models import StoredEvent

        stored = self.store.append("a-1", "Thing", [happened()], 0)[0]
        fields = StoredEvent.objects.using(self.database).filter(pk=stored.position).values()[0]
        same_version = StoredEvent(**{**fields, "position": 50, "event_id": uuid.uuid4()})
        with self.assertRaises(ConcurrencyError), translate_errors("a-1"):
            with transaction.atomic(using=self.database):
                StoredEvent.objects.using(self.database).bulk_create([same_version])
        same_id = StoredEvent(**{**fields, "position": 51, "version": 2})
        with self.assertRaises(DuplicateEventError), translate_errors("a-1"):
            with transaction.atomic(using=self.database):
                StoredEvent.objects.using(self.database).bulk_create([same_id])
        self.assertEqual(self.store.count(), 1)

    def test_a_list_of_accepted_values_may_hold_none(self):
        # None matches no stored value (as in the memory backend); it used to raise TypeError.
        self.store.append("a-1", "Thing", [happened()], 0)
        self.store.append("b-1", "Thing", [happened(metadata={"organization_id": "acme"})], 0)
        found = self.store.search(organization_id=[None, "acme"])
        self.assertEqual([e.aggregate_id for e in found], ["b-1"])

    def test_a_batch_bigger_than_one_statement_takes_consecutive_positions(self):
        from eventstore.backends.database import CHUNK_ROWS

        self.assertEqual(CHUNK_ROWS, 500)  # written in chunks of 500 rows, in one transaction
        # The store's first append (setUp cleared it): the counter row is created first.
        batch = [happened(str(number)) for number in range(501)]
        stored = self.store.append("a-1", "Thing", batch, 0)
        self.assertEqual([e.position for e in stored], list(range(1, 502)))
        read = self.store.read_all()
        self.assertEqual([(e.position, e.version) for e in read], [(n, n) for n in range(1, 502)])
        self.assertEqual([e.data["note"] for e in read], [str(n) for n in range(501)])
        self.assertEqual(self.store.append("b-1", "Thing", [happened()], 0)[0].position, 502)

    def test_a_big_batch_refused_in_its_last_chunk_leaves_the_store_as_it_was(self):
        stored = happened("stored")
        self.store.append("a-1", "Thing", [stored], 0)
        batch = [happened(str(number)) for number in range(500)] + [stored]  # 501st: taken
        with self.assertRaises(DuplicateEventError) as caught:
            self.store.append("b-1", "Thing", batch, 0)
        self.assertEqual(caught.exception.event_id, stored.event_id)
        self.assertEqual(self.store.read_aggregate("b-1"), [])
        self.assertEqual(self.store.last_position(), 1)
        self.assertEqual(self.store.append("c-1", "Thing", [happened()], 0)[0].position, 2)

    def test_positions_continue_after_the_counter_row_is_lost(self):
        from eventstore.models import PositionCounter

        self.store.append("a-1", "Thing", [happened(), happened()], 0)
        PositionCounter.objects.using(self.database).all().delete()
        [third] = self.store.append("b-1", "Thing", [happened()], 0)
        self.assertEqual(third.position, 3)
        self.assertEqual(self.store.append("b-1", "Thing", [happened()], 1)[0].position, 4)

    def test_stats_count_events_and_streams(self):
        self.store.append("a-1", "Thing", [happened(), happened()], 0)
        self.store.append("b-1", "Thing", [happened()], 0)
        self.store.append("a-1", "Thing", [happened()], 2)
        stats = self.store.stats()
        self.assertEqual((stats["events"], stats["aggregates"]), (4, 2))

    # -- hash chain: what only this backend keeps ---------------------------------------------

    def test_an_append_that_waited_for_the_counter_links_from_the_append_it_waited_for(self):
        # The counter row exists already, so the fast append's one statement (PostgreSQL)
        # starts, then waits for the counter's row lock: the previous hash must come from
        # the counter row it then locks, not from the events its snapshot shows.
        self.store.append("first", "Thing", [happened("first")], 0)
        slow, release = self.hold_the_counter()
        fast = in_thread(
            lambda: self.store.append("fast", "Thing", [happened("a"), happened("b")], 0)
        )
        single = in_thread(lambda: self.store.append("single", "Thing", [happened("c")], 0))
        time.sleep(0.5)
        self.assertTrue(fast.is_alive() and single.is_alive())
        release.set()
        for thread in (slow, fast, single):
            thread.join(20)
        self.assertEqual(verify_store(self.store).last, 5)

    def test_verify_finds_an_indexed_column_changed_alone(self):
        self.store.append("a-1", "Thing", [happened("café", metadata={"user_id": "u-1"})], 0)
        self.store.append(
            "b-1", "Thing", [happened("tea", metadata={"organization_id": "acme"})], 0
        )
        self.assertEqual(verify_store(self.store).last, 2)
        tamper = DatabaseTamper()
        from eventstore.models import StoredEvent

        for position, column, value in (
            (1, "user_id", "u-2"),  # the column holds u-1's blind index token
            (2, "organization_id", "evil"),
            (1, "search_text", "coffee"),
        ):
            original = (
                StoredEvent.objects.using(self.store.using)
                .values_list(column, flat=True)
                .get(position=position)
            )
            tamper.update_column(self.store, position, column, value)
            with self.assertRaises(ChainError) as caught:
                verify_store(self.store)
            self.assertEqual(
                (caught.exception.position, caught.exception.kind), (position, "index")
            )
            self.assertIn(f"{column} column {value!r}", str(caught.exception))
            tamper.update_column(self.store, position, column, original)
        self.assertEqual(verify_store(self.store).last, 2)

    def test_verify_reports_the_lowest_position_when_a_page_has_two_problems(self):
        # A column edited at 2 and an event deleted at 4, in one page: 2 is the first.
        for number in range(5):
            self.store.append(f"a-{number}", "Thing", [happened(str(number))], 0)
        tamper = DatabaseTamper()
        tamper.update_column(self.store, 2, "search_text", "forged")
        tamper.delete(self.store, 4)
        with self.assertRaises(ChainError) as caught:
            verify_store(self.store)
        self.assertEqual((caught.exception.position, caught.exception.kind), (2, "index"))
        # The other way round: the chain's problem comes first.
        tamper.update_column(self.store, 2, "search_text", "1")
        tamper.update_column(self.store, 5, "search_text", "forged")
        with self.assertRaises(ChainError) as caught:
            verify_store(self.store)
        self.assertEqual((caught.exception.position, caught.exception.kind), (4, "gap"))

    def test_a_batch_past_one_statement_is_chained_in_its_transaction(self):
        from eventstore.backends.database import CHUNK_ROWS

        self.store.append("a-1", "Thing", [happened("first")], 0)
        big = self.store.append(
            "b-1", "Thing", [happened(str(n)) for n in range(CHUNK_ROWS + 2)], 0
        )
        self.assertEqual(self.store.chain_head(), (CHUNK_ROWS + 3, big[-1].chain_hash))
        self.assertEqual(
            [e.chain_hash for e in self.store.read_all()[1:]], [e.chain_hash for e in big]
        )
        self.store.append("a-1", "Thing", [happened("after"), happened("again")], 1)
        # The largest batch of one statement on PostgreSQL (its head: CHUNK_ROWS nested links).
        self.store.append("c-1", "Thing", [happened(str(n)) for n in range(CHUNK_ROWS)], 0)
        self.assertEqual(verify_store(self.store).last, 2 * CHUNK_ROWS + 5)

    def test_a_lost_counter_row_is_made_again_from_the_last_stored_event(self):
        from eventstore.models import PositionCounter

        self.store.append("a-1", "Thing", [happened("one"), happened("two")], 0)
        PositionCounter.objects.using(self.database).all().delete()
        self.store.append("a-1", "Thing", [happened("three")], 2)
        self.assertEqual(verify_store(self.store).last, 3)

    def test_the_migration_chains_events_stored_before_the_chain(self):
        import importlib
        from types import SimpleNamespace

        from django.apps import apps

        from eventstore.models import PositionCounter, StoredEvent

        self.store.append("a-1", "Thing", [happened("one"), happened("two")], 0)
        self.store.append("b-1", "Thing", [happened("three", metadata={"user_id": "u"})], 0)
        chained = [e.chain_hash for e in self.store.read_all()]
        StoredEvent.objects.using(self.database).update(chain_hash=b"")
        PositionCounter.objects.using(self.database).all().delete()
        migration = importlib.import_module("eventstore.migrations.0005_chain")
        migration.PAGE = 2  # several pages
        try:
            migration.chain_stored_events(
                apps, SimpleNamespace(connection=connections[self.database])
            )
        finally:
            migration.PAGE = 1_000
        self.assertEqual([e.chain_hash for e in self.store.read_all()], chained)
        self.assertEqual(self.store.chain_head(), (3, chained[-1]))
        self.assertEqual(verify_store(self.store).last, 3)


class SQLiteDatabaseBackendTests(DatabaseBackendPromises, TransactionTestCase):
    databases = {"default"}

    # SQLite keeps whatever a raw UPDATE writes, of any type: columns an intruder (or a
    # broken tool) filled with text the backend cannot decode, or the chain cannot hash.
    MALFORMED = (
        ("chain_hash", "abc", "Position 3 cannot be read: TypeError: "),
        ("timestamp", "garbage", "Position 3 cannot be checked: TypeError: "),
        ("version", "x", "Position 3 cannot be checked: AttributeError: "),
    )

    def raw_column(self, position, column):
        from eventstore.models import StoredEvent

        with connections[self.database].cursor() as cursor:
            cursor.execute(
                f'SELECT "{column}" FROM "{StoredEvent._meta.db_table}" WHERE position = %s',  # noqa: S608
                [position],
            )
            return cursor.fetchone()[0]

    def fill_four(self):
        if connections[self.database].vendor != "sqlite":
            self.skipTest("only SQLite stores a value of another type in a typed column")
        self.store.append("a-1", "Thing", [happened("1"), happened("2")], 0)
        self.store.append("b-1", "Thing", [happened("3")], 0)
        self.store.append("a-1", "Thing", [happened("4")], 2)
        self.assertEqual(verify_store(self.store).last, 4)

    def test_verify_names_the_position_of_a_malformed_stored_column(self):
        self.fill_four()
        tamper = DatabaseTamper()
        for column, value, message in self.MALFORMED:
            with self.subTest(column=column):
                original = self.raw_column(3, column)
                tamper.update_column(self.store, 3, column, value)
                with self.assertRaises(ChainError) as caught:
                    verify_store(self.store)
                self.assertEqual(
                    (caught.exception.position, caught.exception.kind), (3, "unreadable")
                )
                self.assertTrue(str(caught.exception).startswith(message), caught.exception)
                tamper.update_column(self.store, 3, column, original)
                self.assertEqual(verify_store(self.store).last, 4)

    def test_verify_command_names_the_position_of_a_malformed_stored_column(self):
        import io

        from django.core.management import CommandError, call_command

        self.fill_four()
        backend = "eventstore.backends.database.DatabaseEventStore"
        DatabaseTamper().update_column(self.store, 3, "chain_hash", "abc")
        with self.settings(EVENTSTORES={"default": {"BACKEND": backend}}):
            with self.assertRaises(CommandError) as caught:
                call_command("eventstore_verify", "--no-progress", stdout=io.StringIO())
            message = str(caught.exception)
            self.assertTrue(message.startswith("Position 3 cannot be read: TypeError: "))
            self.assertNotIn("\n", message)
            # --from-position trusts position 2's stored hash: the start itself is read.
            with self.assertRaises(CommandError) as caught:
                call_command("eventstore_verify", "--from-position", "4", stdout=io.StringIO())
            self.assertTrue(str(caught.exception).startswith("Position 3 cannot be read: "))
