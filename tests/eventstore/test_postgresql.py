"""The database backend on a real PostgreSQL server: the contract suite and its own promises.

Runs when ``EVENTSTORE_TEST_POSTGRES_URL`` names a server (``.ci/run`` sets it to
the local one); otherwise the module is skipped as a whole, with that reason.
"""

import os

import pytest
from django.test import TransactionTestCase

if not os.environ.get("EVENTSTORE_TEST_POSTGRES_URL"):
    pytest.skip(
        "set EVENTSTORE_TEST_POSTGRES_URL (e.g. postgres://postgres@127.0.0.1:5432/postgres) "
        "to run the PostgreSQL part",
        allow_module_level=True,
    )

from eventstore.backends.database import DatabaseEventStore  # noqa: E402
from eventstore.testing.contract import EventStoreContract  # noqa: E402

from .test_database_backend import DatabaseBackendPromises  # noqa: E402


class PostgreSQLContractTests(EventStoreContract, TransactionTestCase):
    databases = {"default", "postgres"}

    def create_store(self) -> DatabaseEventStore:
        store = DatabaseEventStore("pg-contract", {"DATABASE": "postgres"})
        store.clear()
        return store


class PostgreSQLDatabaseBackendTests(DatabaseBackendPromises, TransactionTestCase):
    databases = {"default", "postgres"}
    database = "postgres"
