"""Aggregate loading with snapshots (equal to a full replay) and the scenario helpers."""

import pytest

from eventstore.aggregates import Aggregate, AggregateRepository, applies
from eventstore.snapshots import InMemorySnapshotStore
from eventstore.testing import AggregateScenario
from eventstore.testing.contract import ContractCounted, ContractHappened


class Tally(Aggregate):
    aggregate_type = "Tally"

    def __init__(self, aggregate_id):
        super().__init__(aggregate_id)
        self.total = 0
        self.notes = []

    def add(self, count):
        if count <= 0:
            raise ValueError("count must be positive")
        self.record(ContractCounted(count=count))

    @applies(ContractCounted)
    def _counted(self, event):
        self.total += event.count

    @applies(ContractHappened)
    def _happened(self, event):
        self.notes.append(event.note)


class CountingStore:
    """Wraps a store and counts the events each read returns."""

    def __init__(self, store):
        self.store = store
        self.events_read = 0

    def read_aggregate(self, *args, **kwargs):
        events = self.store.read_aggregate(*args, **kwargs)
        self.events_read += len(events)
        return events

    def __getattr__(self, name):
        return getattr(self.store, name)


def test_snapshots_load_only_later_events_and_equal_a_full_replay(event_store):
    counting = CountingStore(event_store)
    snapshots = InMemorySnapshotStore()
    repository = AggregateRepository(counting, Tally, snapshots=snapshots, snapshot_every=10)
    for count in range(1, 26):  # 25 saves of one event: snapshots at versions 10 and 20
        tally = repository.load("t-1")
        tally.add(count)
        repository.save(tally)
    assert snapshots.get("Tally", "t-1").version == 20
    counting.events_read = 0
    from_snapshot = repository.load("t-1")
    assert counting.events_read == 5
    full = AggregateRepository(event_store, Tally).load("t-1")
    assert (from_snapshot.total, from_snapshot.version) == (full.total, full.version) == (325, 25)
    assert vars(from_snapshot) == vars(full)
    old = repository.load("t-1", to_version=15)
    assert (old.total, old.version) == (120, 15)  # 1 + ... + 15, snapshot at 20 skipped


def test_a_snapshot_is_a_copy(event_store):
    snapshots = InMemorySnapshotStore()
    repository = AggregateRepository(event_store, Tally, snapshots=snapshots, snapshot_every=1)
    tally = repository.load("t-2")
    tally.record(ContractHappened(note="a"))
    repository.save(tally)
    tally.notes.append("mutated after save")
    assert repository.load("t-2").notes == ["a"]


def test_snapshot_every_needs_a_store():
    with pytest.raises(ValueError):
        AggregateRepository(object(), Tally, snapshot_every=5)


def test_scenario_then_checks_exact_new_events():
    scenario = (
        AggregateScenario(Tally, "t").given(ContractCounted(count=2)).when(lambda t: t.add(3))
    )
    tally = scenario.then(ContractCounted(count=3))
    assert (tally.total, tally.version) == (5, 1)
    with pytest.raises(AssertionError):
        scenario.then(ContractCounted(count=4))


def test_scenario_then_raises():
    scenario = AggregateScenario(Tally).when(lambda t: t.add(0))
    scenario.then_raises(ValueError, match="positive")
    with pytest.raises(AssertionError):
        scenario.then()
    with pytest.raises(AssertionError):
        AggregateScenario(Tally).when(lambda t: t.add(1)).then_raises(ValueError)
