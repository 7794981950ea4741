"""The backend contract suite on the database backend with SQLite (PostgreSQL: test_postgresql)."""

from django.test import TransactionTestCase

from eventstore.backends.database import DatabaseEventStore
from eventstore.testing.contract import EventStoreContract
from eventstore.testing.tamper import DatabaseTamper


class SQLiteContractTests(EventStoreContract, TransactionTestCase):
    tamper = DatabaseTamper()
    databases = {"default"}

    def create_store(self) -> DatabaseEventStore:
        store = DatabaseEventStore("db-contract", {"DATABASE": "default"})
        store.clear()
        return store
