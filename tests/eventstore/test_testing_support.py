"""The testing support other projects use: fixtures, mixin, automatic emptying."""

from django.test import SimpleTestCase, override_settings

from eventstore import eventstore, eventstores
from eventstore.backends.memory import InMemoryEventStore, forget
from eventstore.testing import EventStoreTestMixin, ManualClock, reset_memory_stores
from eventstore.testing.contract import happened


def test_event_store_fixture_is_the_accessors_store_and_empty(event_store):
    assert event_store.count() == 0
    eventstore.append("a", "Thing", [happened()], 0)
    assert event_store.count() == 1


def test_recorded_events_lists_what_the_test_appended(event_store, recorded_events):
    records = event_store.append("a", "Thing", [happened("1"), happened("2")], 0)
    assert recorded_events == records


def test_event_clock_sets_timestamps(event_store, event_clock):
    event_clock.advance(days=3)
    record = event_store.append("a", "Thing", [happened()], 0)[0]
    assert record.timestamp.isoformat() == "2024-01-04T00:00:00+00:00"


def test_stores_are_emptied_between_tests_part_one():
    eventstore.append("leftover", "Thing", [happened()], 0)
    assert eventstore.aggregate_version("leftover") == 1


def test_stores_are_emptied_between_tests_part_two():
    assert eventstore.aggregate_version("leftover") == 0


def test_manual_clock_refuses_naive_times():
    import datetime

    import pytest

    with pytest.raises(ValueError):
        ManualClock(datetime.datetime(2024, 1, 1))  # noqa: DTZ001


class MixinTests(EventStoreTestMixin, SimpleTestCase):
    def test_gives_an_empty_store_and_its_events(self):
        self.assertEqual(self.event_store.count(), 0)
        records = eventstore.append("a", "Thing", [happened()], 0)
        self.assertEqual(self.recorded_events, records)


class MixinOnADatabaseProjectTests(EventStoreTestMixin, SimpleTestCase):
    """A project whose default store is the database still gets a memory store per test."""

    @classmethod
    def setUpClass(cls):
        cls._database_settings = override_settings(
            EVENTSTORES={"default": {"BACKEND": "eventstore.backends.database.DatabaseEventStore"}}
        )
        cls._database_settings.enable()
        super().setUpClass()

    @classmethod
    def tearDownClass(cls):
        super().tearDownClass()
        cls._database_settings.disable()

    def test_the_store_is_in_memory(self):
        self.assertIsInstance(self.event_store, InMemoryEventStore)
        self.assertIs(eventstores["default"], self.event_store)


def test_emptying_between_tests_leaves_journaled_stores_usable(tmp_path):
    alias = "journaled-between-tests"
    options = {"JOURNAL": str(tmp_path / "journal")}
    store = InMemoryEventStore(alias, options)
    try:
        store.append("a", "Thing", [happened()], 0)
        reset_memory_stores()  # what the plugin does after every test
        assert store.count() == 0
        assert InMemoryEventStore(alias, options).append("b", "Thing", [happened()], 0)
    finally:
        forget(alias)
