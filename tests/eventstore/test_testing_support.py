"""The testing support other projects use: fixtures, mixin, automatic emptying."""

from pathlib import Path

import pytest
from django.test import SimpleTestCase, TestCase, override_settings

from eventstore import eventstore, eventstores
from eventstore.backends.memory import InMemoryEventStore, forget
from eventstore.projections import Projection
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


def test_stores_are_emptied_between_tests_part_one(event_store):
    eventstore.append("leftover", "Thing", [happened()], 0)
    assert eventstore.aggregate_version("leftover") == 1


def test_stores_are_emptied_between_tests_part_two(event_store):
    assert eventstore.aggregate_version("leftover") == 0


def test_manual_clock_refuses_naive_times():
    import datetime

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


class MixinSeededInSetUpTestDataTests(EventStoreTestMixin, TestCase):
    """Events seeded for the class are there for every test; a test's own appends are not."""

    @classmethod
    def setUpTestData(cls):
        cls.seeded = eventstore.append("seeded", "Thing", [happened("1"), happened("2")], 0)

    def check_seeded_then_append(self):
        self.assertEqual(self.event_store.read_all(), self.seeded)
        self.assertEqual(self.recorded_events, [])
        eventstore.append("in-test", "Thing", [happened("3")], 0)
        self.assertEqual(self.event_store.count(), 3)

    def test_one(self):
        self.check_seeded_then_append()

    def test_two(self):
        self.check_seeded_then_append()


def run_unittest(test_class):
    """Run a unittest class here; return the result."""
    import unittest

    result = unittest.TestResult()
    unittest.defaultTestLoader.loadTestsFromTestCase(test_class).run(result)
    return result


def test_the_mixin_undoes_its_settings_in_order_around_a_class_decorator():
    from django.conf import settings

    before = settings.EVENTSTORES

    @override_settings(DEBUG=True)
    class Decorated(EventStoreTestMixin, SimpleTestCase):
        def test_it(self):
            self.assertIsInstance(self.event_store, InMemoryEventStore)

    result = run_unittest(Decorated)
    assert result.wasSuccessful(), result.errors + result.failures
    assert settings.EVENTSTORES is before


def test_the_mixin_says_when_a_class_decorator_replaced_its_store():
    @override_settings(EVENTSTORES=TWO_ALIASES)
    class Decorated(EventStoreTestMixin, SimpleTestCase):
        def test_it(self):
            pass

    result = run_unittest(Decorated)
    assert "overridden since" in result.failures[0][1]


DATABASE = "eventstore.backends.database.DatabaseEventStore"
MEMORY = "eventstore.backends.memory.InMemoryEventStore"
TWO_ALIASES = {
    "default": {"BACKEND": DATABASE},
    "audit": {"BACKEND": MEMORY, "OPTIONS": {"MAX_EVENTS": 7}},
}


@pytest.fixture
def two_aliases(settings):
    settings.EVENTSTORES = TWO_ALIASES


def test_the_fixture_keeps_the_other_aliases(two_aliases, event_store):
    from django.conf import settings

    assert isinstance(event_store, InMemoryEventStore)
    assert eventstores["default"] is event_store
    assert eventstores["audit"].options["MAX_EVENTS"] == 7
    assert settings.EVENTSTORES["audit"] == TWO_ALIASES["audit"]


@pytest.mark.eventstore_aliases("audit")
def test_the_fixture_takes_over_the_marked_aliases_only(two_aliases, event_store):
    assert eventstores["audit"] is event_store
    assert event_store.options["MAX_EVENTS"] is None
    assert type(eventstores["default"]).__name__ == "DatabaseEventStore"


class MixinOnAProjectWithTwoAliasesTests(EventStoreTestMixin, SimpleTestCase):
    @classmethod
    def setUpClass(cls):
        cls._two_aliases = override_settings(EVENTSTORES=TWO_ALIASES)
        cls._two_aliases.enable()
        super().setUpClass()

    @classmethod
    def tearDownClass(cls):
        super().tearDownClass()
        cls._two_aliases.disable()

    def test_the_other_aliases_keep_their_settings(self):
        self.assertIsInstance(self.event_store, InMemoryEventStore)
        self.assertEqual(eventstores["audit"].options["MAX_EVENTS"], 7)


class MixinTakingOverTheAuditAliasTests(MixinOnAProjectWithTwoAliasesTests):
    eventstore_aliases = ("audit",)

    def test_the_other_aliases_keep_their_settings(self):
        self.assertIs(eventstores["audit"], self.event_store)
        self.assertIsNone(self.event_store.options["MAX_EVENTS"])
        self.assertEqual(type(eventstores["default"]).__name__, "DatabaseEventStore")


def test_the_reset_leaves_stores_it_did_not_take_over_and_their_journals_alone(tmp_path):
    alias = "journaled-between-tests"
    journal = tmp_path / "journal"
    options = {"JOURNAL": str(journal)}
    store = InMemoryEventStore(alias, options)
    try:
        store.append("a", "Thing", [happened(), happened()], 0)
        before = journal.read_bytes()
        reset_memory_stores()  # what the plugin does after every test
        assert journal.read_bytes() == before
        assert store.count() == 2
        assert InMemoryEventStore(alias, options).append("b", "Thing", [happened()], 0)
    finally:
        forget(alias)


def run_pytest(tmp_path, source):
    """Run ``source`` as a test file in a new pytest process; return its exit code and output."""
    import os
    import subprocess
    import sys

    (tmp_path / "test_inner.py").write_text(source)
    env = {k: v for k, v in os.environ.items() if k != "EVENTSTORE_TEST_POSTGRES_URL"}
    # The running settings module lives in the checkout (not installed): put it on the path.
    root = str(Path(__file__).resolve().parents[2])
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [root, env.get("PYTHONPATH")]))
    completed = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider"]
        + ["--ds=" + os.environ["DJANGO_SETTINGS_MODULE"]]
        # Plugins this run does not use, and slow to load.
        + ["-p", "no:schemathesis", "-p", "no:hypothesispytest", "-p", "no:anyio"]
        + ["-W", "error::DeprecationWarning", "-rA", "test_inner.py"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    return completed.returncode, completed.stdout + completed.stderr


JOURNALED_PROJECT = """
import pytest

from eventstore import eventstores
from eventstore.testing.contract import happened


@pytest.fixture
def journaled(settings):
    settings.EVENTSTORES = {
        "default": {
            "BACKEND": "eventstore.backends.memory.InMemoryEventStore",
            "OPTIONS": {"JOURNAL": JOURNAL},
        }
    }


def test_the_project_store_holds_its_journal(journaled):
    assert eventstores["default"].count() == 2


def test_the_fixture_gives_an_empty_store(journaled, event_store):
    assert event_store.count() == 0
    event_store.append("in-test", "Thing", [happened()], 0)


def test_the_project_store_is_as_it_was(journaled):
    assert eventstores["default"].count() == 2
    assert eventstores["default"].aggregate_version("in-test") == 0
"""


def test_a_test_using_the_fixture_leaves_a_journaled_store_on_disk_unchanged(tmp_path):
    journal = tmp_path / "journal"
    alias = "journaled-for-an-inner-run"
    try:
        InMemoryEventStore(alias, {"JOURNAL": str(journal)}).append(
            "a", "Thing", [happened(), happened()], 0
        )
    finally:
        forget(alias)  # closes the journal, so the inner run may lock it
    before = journal.read_bytes()
    code, output = run_pytest(tmp_path, f"JOURNAL = {str(journal)!r}\n" + JOURNALED_PROJECT)
    assert journal.read_bytes() == before
    assert code == 0, output
    assert "3 passed" in output, output


def test_a_memory_snapshot_restores_in_place_and_stays_reusable():
    alias = "snapshot-and-restore"
    store = InMemoryEventStore(alias)
    try:
        store.append("a", "Thing", [happened("1")], 0)
        snapshot = store.snapshot()
        expected = (
            store.read_all(),
            store.stats(),
            store.search(aggregate_id="a", event_type="Thing"),
        )
        for _ in range(2):
            store.append("a", "Thing", [happened("2")], 1)
            store.append("b", "Other", [happened("3")], 0)
            store.restore(snapshot)
            assert (
                store.read_all(),
                store.stats(),
                store.search(aggregate_id="a", event_type="Thing"),
            ) == expected
            assert store.aggregate_version("b") == 0
            assert InMemoryEventStore(alias).last_position() == 1
    finally:
        forget(alias)


def test_a_journaled_store_refuses_a_restore(tmp_path):
    from eventstore.exceptions import InvalidBackendError

    alias = "journaled-restore"
    store = InMemoryEventStore(alias, {"JOURNAL": str(tmp_path / "journal")})
    try:
        snapshot = store.snapshot()
        store.append("a", "Thing", [happened()], 0)
        with pytest.raises(InvalidBackendError):
            store.restore(snapshot)
        assert store.count() == 1
    finally:
        forget(alias)


def failing_receiver(sender, events, **kwargs):
    raise ValueError("the projection broke")


class connected_failing_receiver:  # noqa: N801 - used as a context manager
    def __enter__(self):
        from eventstore.bus import events_appended

        events_appended.connect(failing_receiver, weak=False, dispatch_uid="failing-receiver")

    def __exit__(self, *exc_info):
        from eventstore.bus import events_appended

        events_appended.disconnect(dispatch_uid="failing-receiver")


def test_strict_mode_names_the_receiver_and_the_events():
    from eventstore.testing import ReceiverFailed, ReceiverFailures

    failures = ReceiverFailures().connect()
    try:
        with connected_failing_receiver():
            records = InMemoryEventStore("strict-direct").append("a", "Thing", [happened()], 0)
    finally:
        failures.disconnect()
        forget("strict-direct")
    with pytest.raises(ReceiverFailed) as caught:
        failures.check()
    assert "test_testing_support.failing_receiver raised ValueError" in str(caught.value)
    assert str(records[0].event_id) in str(caught.value)
    assert isinstance(caught.value.__cause__, ValueError)
    failures.check()  # reported once


@pytest.mark.eventstore_lenient
def test_lenient_mode_only_logs_a_failing_receiver(event_store, caplog):
    with connected_failing_receiver():
        records = event_store.append("a", "Thing", [happened()], 0)
    assert event_store.read_all() == records
    assert str(records[0].event_id) in caplog.text
    assert "the projection broke" in caplog.text


STRICT_AND_LENIENT = """
import pytest

from eventstore.bus import events_appended
from eventstore.testing.contract import happened


def failing_receiver(sender, events, **kwargs):
    raise ValueError("the projection broke")


@pytest.fixture
def failing():
    events_appended.connect(failing_receiver, weak=False, dispatch_uid="failing")
    yield
    events_appended.disconnect(dispatch_uid="failing")


def test_strict_by_default(failing, event_store):
    event_store.append("strict", "Thing", [happened()], 0)


def test_strict_with_recorded_events_alone(failing, recorded_events):
    from eventstore import eventstore

    eventstore.append("recorded-alone", "Thing", [happened()], 0)
    assert len(recorded_events) == 1


@pytest.mark.eventstore_lenient
def test_lenient_when_marked(failing, event_store):
    event_store.append("lenient", "Thing", [happened()], 0)


def test_without_the_fixtures_nothing_changes(failing):
    from eventstore.backends.memory import InMemoryEventStore, forget

    InMemoryEventStore("unmanaged").append("plain", "Thing", [happened()], 0)
    forget("unmanaged")
"""


def test_a_failing_receiver_fails_the_test_using_the_fixtures(tmp_path):
    code, output = run_pytest(tmp_path, STRICT_AND_LENIENT)
    assert code == 1, output
    assert "2 failed, 2 passed" in output, output
    assert "FAILED test_inner.py::test_strict_by_default" in output, output
    assert "FAILED test_inner.py::test_strict_with_recorded_events_alone" in output, output
    assert "test_inner.failing_receiver raised ValueError('the projection broke')" in output
    assert "ReceiverFailed" in output


def test_a_failing_receiver_fails_a_mixin_test_unless_the_class_is_lenient():
    class Strict(EventStoreTestMixin, SimpleTestCase):
        def test_appends(self):
            with connected_failing_receiver():
                eventstore.append("a", "Thing", [happened()], 0)

    class Lenient(Strict):
        eventstore_lenient = True

    result = run_unittest(Strict)
    assert len(result.errors + result.failures) == 1, result.errors
    assert "failing_receiver raised ValueError" in (result.errors + result.failures)[0][1]
    result = run_unittest(Lenient)
    assert result.wasSuccessful(), result.errors + result.failures


class BrokenProjection(Projection):
    """A projection that raises on every batch (named in EVENTSTORE_PROJECTIONS below)."""

    name = "tests.broken"

    def apply(self, events, store):
        raise RuntimeError("the view broke")

    def reset(self):
        pass


@pytest.mark.django_db(transaction=True)
def test_a_stalled_projection_fails_a_mixin_test_in_strict_mode(settings):
    settings.EVENTSTORE_PROJECTIONS = [f"{__name__}.BrokenProjection"]
    settings.EVENTSTORE_PROJECTIONS_RAISE = False  # what a project's tests have by default

    class Strict(EventStoreTestMixin, SimpleTestCase):
        databases = {"default"}

        def test_appends(self):
            eventstore.append("a", "Thing", [happened()], 0)

    result = run_unittest(Strict)
    problems = result.errors + result.failures
    assert len(problems) == 1, problems
    assert "tests.broken" in problems[0][1] and "the view broke" in problems[0][1]
