"""The database backend on a real PostgreSQL server: the contract suite and its own promises.

Runs when ``EVENTSTORE_TEST_POSTGRES_URL`` names a server (``.ci/run`` sets it to
the local one); otherwise the module is skipped as a whole, with that reason.
"""

import itertools
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connections
from django.test import TransactionTestCase

if not os.environ.get("EVENTSTORE_TEST_POSTGRES_URL"):
    pytest.skip(
        "set EVENTSTORE_TEST_POSTGRES_URL (e.g. postgres://postgres@127.0.0.1:5432/postgres) "
        "to run the PostgreSQL part",
        allow_module_level=True,
    )

from eventstore.backends.database import DatabaseEventStore  # noqa: E402
from eventstore.testing.contract import EventStoreContract  # noqa: E402
from eventstore.testing.tamper import DatabaseTamper  # noqa: E402

from .test_database_backend import DatabaseBackendPromises  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]


class PostgreSQLContractTests(EventStoreContract, TransactionTestCase):
    tamper = DatabaseTamper()
    databases = {"default", "postgres"}

    def create_store(self) -> DatabaseEventStore:
        store = DatabaseEventStore("pg-contract", {"DATABASE": "postgres"})
        store.clear()
        return store


class PostgreSQLDatabaseBackendTests(DatabaseBackendPromises, TransactionTestCase):
    databases = {"default", "postgres"}
    database = "postgres"


class PostgreSQLRoundTripTests(TransactionTestCase):
    """An append with an int expected version is one statement: check, counter, insert, NOTIFY."""

    databases = {"default", "postgres"}

    def test_an_append_with_an_expected_version_is_one_statement(self):
        from django.test.utils import CaptureQueriesContext

        from eventstore.records import ANY
        from eventstore.testing.contract import happened

        store = DatabaseEventStore("pg-round-trips", {"DATABASE": "postgres"})
        store.clear()
        store.append("a-0", "Thing", [happened()], 0)  # creates the position counter
        connection = connections["postgres"]
        batches = [(0, [happened()]), (1, [happened()]), (2, [happened("b"), happened("c")])]
        for expected, events in batches:
            with CaptureQueriesContext(connection) as queries:
                store.append("a-1", "Thing", events, expected)
            self.assertEqual(len(queries), 1, [q["sql"][:60] for q in queries])
        with CaptureQueriesContext(connection) as queries:
            store.append("a-1", "Thing", [happened("any")], ANY)
        self.assertEqual(len(queries), 2)  # ANY reads the stream's last event first
        self.assertEqual([e.version for e in store.read_aggregate("a-1")], [1, 2, 3, 4, 5])
        self.assertEqual(store.last_position(), 6)


class PostgreSQLWriterProcessesTests(TransactionTestCase):
    """Writers in other OS processes (their own connections) against a reader paging by position."""

    databases = {"default", "postgres"}
    writers, aggregates, events_each = 4, 6, 25

    def start_writer(self, prefix: str) -> subprocess.Popen[str]:
        name = connections["postgres"].settings_dict["NAME"]
        url = os.environ["EVENTSTORE_TEST_POSTGRES_URL"].rsplit("/", 1)[0] + "/" + name
        # The settings module of this test run (pytest-django puts it in the environment).
        env = {**os.environ, "DATABASE_URL": url}
        env.pop("EVENTSTORE_TEST_POSTGRES_URL")
        process = subprocess.Popen(
            [sys.executable, "-m", "tests.eventstore.pg_writer", prefix]
            + [str(self.aggregates), str(self.events_each)],
            cwd=ROOT,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self.addCleanup(process.kill)
        return process

    def test_a_reader_catching_up_sees_every_event_of_4_writer_processes_once_in_order(self):
        store = DatabaseEventStore("pg-readers", {"DATABASE": "postgres"})
        store.clear()
        processes = [self.start_writer(f"w{number}") for number in range(self.writers)]
        for process in processes:
            line = process.stdout.readline()
            if line.strip() != "ready":
                self.fail(f"a writer did not start: {line}{process.stdout.read()}")
        for process in processes:
            process.stdin.write("go\n")
            process.stdin.flush()
        seen: list = []
        pages = 0
        limits = itertools.cycle([1, 3, 7, 50, 2, 500])

        def catch_up() -> None:
            nonlocal pages
            page = store.read_all(
                after_position=seen[-1].position if seen else 0, limit=next(limits)
            )
            start = seen[-1].position + 1 if seen else 1
            # Positions are gapless: a page that does not go on from the last position seen
            # means a position was passed over while it was not committed yet.
            self.assertEqual(
                [e.position for e in page], list(range(start, start + len(page))), "skipped"
            )
            seen.extend(page)
            pages += 1

        while any(process.poll() is None for process in processes):
            catch_up()
        for process in processes:
            if process.wait(60) != 0:
                self.fail(f"a writer failed: {process.stdout.read()}")
        for _ in range(3):
            catch_up()  # what committed after the last page read while the writers ran
        total = self.writers * self.aggregates * self.events_each
        self.assertEqual(len(seen), total)
        self.assertEqual(len({e.event_id for e in seen}), total)
        self.assertEqual([e.position for e in seen], list(range(1, total + 1)))
        self.assertEqual(store.last_position(), total)
        for number in range(self.writers):
            for aggregate in range(self.aggregates):
                stream = [e for e in seen if e.aggregate_id == f"w{number}-{aggregate}"]
                self.assertEqual([e.version for e in stream], list(range(1, self.events_each + 1)))
                self.assertEqual([e.data["count"] for e in stream], list(range(self.events_each)))
        self.assertGreater(pages, 10)  # the reader did page while the writers ran


class PostgreSQLOwnDatabaseTests(TransactionTestCase):
    """A store on the ``postgres`` alias keeps everything there, not in ``default``."""

    databases = {"default", "postgres"}

    def test_identity_counter_and_events_live_in_the_store_s_own_database(self):
        from eventstore.testing.contract import happened

        store = DatabaseEventStore("pg-own", {"DATABASE": "postgres"})
        local = DatabaseEventStore("sqlite-own", {"DATABASE": "default"})
        store.clear()
        local.clear()
        identity = store.identity()
        self.assertNotEqual(identity, local.identity())
        store.append("a-1", "Thing", [happened(), happened()], 0)
        local.clear()  # clearing another database changes nothing here
        self.assertEqual(store.identity(), identity)
        self.assertEqual(store.last_position(), 2)
        store.clear()
        self.assertNotEqual(store.identity(), identity)
        self.assertEqual(store.read_all(), [])
        self.assertEqual(store.append("b-1", "Thing", [happened()], 0)[0].position, 1)
        self.assertEqual(local.read_all(), [])

    def test_a_value_too_long_for_its_column_is_refused_not_cut(self):
        from eventstore.exceptions import InvalidEventError
        from eventstore.records import ANY
        from eventstore.testing.contract import happened

        store = DatabaseEventStore("pg-long", {"DATABASE": "postgres"})
        store.clear()
        store.append("a-1", "Thing", [happened()], 0)
        too_long = {"organization_id": "o" * 256}  # the indexed copy's column holds 255
        for aggregate_id, expected in (("b-1", 0), ("a-1", 1), ("a-1", ANY)):
            with self.subTest(expected=expected), self.assertRaises(InvalidEventError) as caught:
                store.append(aggregate_id, "Thing", [happened(metadata=too_long)], expected)
            self.assertIn("value too long", str(caught.exception))
        self.assertEqual(store.last_position(), 1)
        self.assertEqual(store.search(organization_id="o" * 255), [])
