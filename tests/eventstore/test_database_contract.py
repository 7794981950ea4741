"""The backend contract suite on the database backend: SQLite always, PostgreSQL when configured.

The PostgreSQL part needs ``EVENTSTORE_TEST_POSTGRES_URL`` (``.ci/run`` sets it);
without it those tests are reported as skipped with that reason.
"""

import os
import unittest

from django.test import TransactionTestCase

from eventstore.backends.database import DatabaseEventStore
from eventstore.contract import EventStoreContract

POSTGRES = bool(os.environ.get("EVENTSTORE_TEST_POSTGRES_URL"))


class SQLiteContractTests(EventStoreContract, TransactionTestCase):
    databases = {"default"}

    def create_store(self) -> DatabaseEventStore:
        store = DatabaseEventStore("db-contract", {"DATABASE": "default"})
        store.clear()
        return store


@unittest.skipUnless(POSTGRES, "set EVENTSTORE_TEST_POSTGRES_URL to run the PostgreSQL part")
class PostgreSQLContractTests(EventStoreContract, TransactionTestCase):
    databases = {"default", "postgres"}

    def create_store(self) -> DatabaseEventStore:
        store = DatabaseEventStore("pg-contract", {"DATABASE": "postgres"})
        store.clear()
        return store
