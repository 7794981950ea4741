"""The backend contract suite, run against the process-memory backend."""

from django.test import SimpleTestCase

from eventstore.backends.memory import InMemoryEventStore
from eventstore.testing.contract import EventStoreContract
from eventstore.testing.tamper import MemoryTamper


class InMemoryContractTests(EventStoreContract, SimpleTestCase):
    tamper = MemoryTamper()

    def create_store(self) -> InMemoryEventStore:
        store = InMemoryEventStore("contract-tests")
        store.clear()
        self.addCleanup(store.clear)
        return store
