"""The benchmark's workloads: our in-memory store against eventsourcing's POPO recorder.

Imported by ``run.py`` once Django is set up (importing ``eventstore`` needs it).

Both sides get the same seeded events, each shaped for its store before any
timer starts: ours as :class:`~eventstore.records.NewEvent` records, the
peer's as ``StoredEvent`` objects whose ``state`` is the JSON text (bytes) of
the event's id, timestamp, correlation and causation ids, metadata and data
(or, for the rows that time the peer's encoding, as the same fields to encode
inside the timer). Aggregate ids are strings on both sides (the product's
ids are strings). Ids reach both stores as fresh objects per event, as they
would from requests. The append rows also run the floor
(:mod:`benchmarks.floor`): a locked, indexed list store fed pre-encoded JSON.

Each workload function takes a :class:`Config` and the shared
:class:`Fixtures` and returns :class:`Row` objects for the result table.
Only "our" timed sections run under the profiler (``--profile``).
"""

from __future__ import annotations

import dataclasses
import gc
import json
import random
import statistics
import sys
import threading
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from time import perf_counter
from types import FunctionType, ModuleType
from typing import Any

from eventsourcing.persistence import Notification, StoredEvent
from eventsourcing.popo import POPOApplicationRecorder

from benchmarks.floor import FloorEvent, FloorStore
from eventstore.backends.memory import InMemoryEventStore
from eventstore.events import DomainEvent, event
from eventstore.records import NewEvent, RecordedEvent
from payments.commands import CommandContext, PaymentCommandHandler, ProcessPayment, RefundPayment

# -- configuration and results -----------------------------------------------------------


@dataclass(frozen=True)
class Config:
    """Sizes of one run. ``quick()`` is the small run; the defaults are the full one."""

    seed: int = 42
    #: Aggregates (of 10 events) of the main store: append, type/time, correlation, catch-up.
    main_aggregates: int = 10_000
    #: Aggregates of the small store read at 10k events.
    small_aggregates: int = 1_000
    #: Aggregates of the big store read (and measured) at 1M events; 0 skips it.
    big_aggregates: int = 100_000
    #: Aggregates built in a fresh process (tracemalloc, RSS) for the memory workload.
    traced_aggregates: int = 10_000
    #: Interleaved runs of each append side (and of the thread rows); medians reported.
    append_repeats: int = 5
    latency_runs: int = 9
    thread_count: int = 4
    aggregates_per_thread: int = 2_500
    payments: int = 10_000
    command_repeats: int = 3
    http_requests: int = 2_000
    #: PostgreSQL (``benchmarks.pg_workloads``): aggregates appended one event per call.
    pg_append_aggregates: int = 1_000
    #: PostgreSQL: aggregates stored (10 events per call) for the read and catch-up rows.
    pg_stored_aggregates: int = 10_000
    #: PostgreSQL: aggregates read per latency run; catch-up pages per run.
    pg_read_samples: int = 500
    pg_catch_up_pages: int = 20
    #: Projections (``benchmarks.projection_workloads``): payment events in the history
    #: that ``payments.summary`` catches up over and rebuilds from.
    projection_events: int = 100_000
    #: Timed runs of the memory + SQLite catch-up and rebuild (median); PostgreSQL runs once.
    projection_runs: int = 3
    #: Daemon lag: appends followed, and the time between two appends (seconds).
    lag_appends: int = 200
    lag_spacing: float = 0.005
    #: True under ``--profile``: read workloads loop longer so the profiler gets samples.
    profiling: bool = False

    @classmethod
    def quick(cls, **changes: Any) -> Config:
        """Return the configuration of ``--quick`` (well under a minute on two cores)."""
        sizes = {
            "big_aggregates": 0,
            "traced_aggregates": 2_000,
            "append_repeats": 3,
            "latency_runs": 7,
            "aggregates_per_thread": 500,
            "payments": 2_000,
            "command_repeats": 1,
            "http_requests": 300,
            "pg_append_aggregates": 200,
            "pg_stored_aggregates": 2_000,
            "pg_read_samples": 200,
            "pg_catch_up_pages": 10,
            "projection_events": 10_000,
            "projection_runs": 1,
            "lag_appends": 50,
        }
        return cls(**{**sizes, **changes})


@dataclass
class Row:
    """One line of the result table.

    ``unit`` is ``"/s"`` (higher is better), ``"s"`` (a latency), ``"B"`` (bytes per
    event) or ``"x"`` (a plain factor); the last three are better lower.
    """

    workload: str
    ours: float
    peer: float | None
    unit: str
    target: str
    met: bool | None

    @property
    def ratio(self) -> float | None:
        """How many times better ours is (>1: ours better), or None without a peer."""
        if self.peer is None or not self.ours or not self.peer:
            return None
        return self.ours / self.peer if self.unit == "/s" else self.peer / self.ours


class Failure(RuntimeError):
    """A workload's result check failed (lost, duplicated or wrong events)."""


def check(condition: bool, message: str) -> None:
    """Raise :class:`Failure` with ``message`` unless ``condition`` holds."""
    if not condition:
        raise Failure(message)


def progress(message: str) -> None:
    """Tell the user what is running (on stderr, so stdout keeps only the table)."""
    print(f"  … {message}", file=sys.stderr, flush=True)


# -- profiling -----------------------------------------------------------------------------

#: The pyinstrument profiler of ``--profile``, or None; started around our timed code only.
PROFILER: Any = None


@contextmanager
def ours_timed() -> Iterator[None]:
    """Mark a timed section of our code: the profiler, if any, runs during it only."""
    if PROFILER is None:
        yield
        return
    PROFILER.start()
    try:
        yield
    finally:
        PROFILER.stop()


# -- the seeded events ---------------------------------------------------------------------

AGGREGATE_TYPE = "Payment"
EVENTS_PER_AGGREGATE = 10
CORRELATION_SIZE = 4
START = datetime(2025, 1, 1, tzinfo=UTC)
STEP = timedelta(milliseconds=10)
CURRENCIES = ("EUR", "USD", "GBP", "CHF")
ORGANIZATIONS = tuple(f"org-{number:02d}" for number in range(1, 21))
USERS = tuple(str(number) for number in range(1, 201))
EVENT_NAMES = (
    "PaymentInitiated",
    "PaymentAuthorized",
    "PaymentCaptured",
    "PaymentProcessed",
    "PaymentSettled",
    "PaymentRefunded",
    "PaymentFailed",
    "PaymentDisputed",
    "PaymentChargedBack",
    "PaymentReversed",
)


def _define_event(name: str) -> type[DomainEvent]:
    """Define and register ``Bench<name>`` (type ``bench.<name>``, fields amount and currency)."""
    namespace = {
        "__module__": __name__,
        "__qualname__": f"Bench{name}",
        "__doc__": f"Benchmark event {name}: ``amount`` (decimal string) ``currency``.",
        "__annotations__": {"amount": "str", "currency": "str"},
    }
    return event(type(f"Bench{name}", (DomainEvent,), namespace, event_type=f"bench.{name}"))


EVENT_CLASSES = [_define_event(name) for name in EVENT_NAMES]
EVENT_TYPES = [cls.event_type for cls in EVENT_CLASSES]
#: The peer names event classes by topic ("module:qualname").
TOPICS = {cls.event_type: f"{cls.__module__}:{cls.__qualname__}" for cls in EVENT_CLASSES}


@dataclass(frozen=True, slots=True)
class EventSpec:
    """One generated event, before it is shaped for either store."""

    aggregate_id: uuid.UUID
    version: int
    event_id: uuid.UUID
    event_type: str
    timestamp: datetime
    correlation_id: str
    causation_id: str
    metadata: dict[str, str]
    data: dict[str, str]


def generate(aggregates: int, seed: int) -> Iterator[EventSpec]:
    """Yield ``aggregates`` × 10 payment-like events, deterministic for ``seed``.

    Aggregates are interleaved at random (each one's versions 1..10 stay in
    order); timestamps rise by 10 ms per event. Events 1–4, 5–8 and 9–10 of an
    aggregate share a correlation id; an event's causation id is the previous
    event of its correlation (the correlation id for the first). Event types
    are drawn uniformly from the 10 ``bench.*`` types.
    """
    rng = random.Random(seed)  # noqa: S311  (benchmark data, not cryptography)

    def new_uuid() -> uuid.UUID:
        return uuid.UUID(int=rng.getrandbits(128), version=4)

    ids = [new_uuid() for _ in range(aggregates)]
    organizations = [rng.choice(ORGANIZATIONS) for _ in range(aggregates)]
    currencies = [rng.choice(CURRENCIES) for _ in range(aggregates)]
    order = [index for index in range(aggregates) for _ in range(EVENTS_PER_AGGREGATE)]
    rng.shuffle(order)
    versions = [0] * aggregates
    correlation = [""] * aggregates
    previous = [""] * aggregates
    for position, index in enumerate(order):
        version = versions[index] = versions[index] + 1
        if (version - 1) % CORRELATION_SIZE == 0:
            correlation[index] = causation = str(new_uuid())
        else:
            causation = previous[index]
        event_id = new_uuid()
        previous[index] = str(event_id)
        yield EventSpec(
            aggregate_id=ids[index],
            version=version,
            event_id=event_id,
            event_type=rng.choice(EVENT_TYPES),
            timestamp=START + STEP * position,
            correlation_id=correlation[index],
            causation_id=causation,
            metadata={"organization_id": organizations[index], "user_id": rng.choice(USERS)},
            data={
                "amount": str(Decimal(rng.randint(100, 999_999)).scaleb(-2)),
                "currency": currencies[index],
            },
        )


def to_ours(spec: EventSpec) -> tuple[str, NewEvent, int]:
    """Return ``(aggregate_id, event, expected_version)`` for our ``append``."""
    new_event = NewEvent(
        event_type=spec.event_type,
        data=spec.data,
        event_id=spec.event_id,
        metadata=spec.metadata,
        correlation_id=spec.correlation_id,
        causation_id=spec.causation_id,
        timestamp=spec.timestamp,
    )
    return str(spec.aggregate_id), new_event, spec.version - 1


def to_peer(spec: EventSpec) -> StoredEvent:
    """Return the peer's ``StoredEvent``: the same event as JSON bytes in ``state``."""
    state = {
        "event_id": str(spec.event_id),
        "timestamp": spec.timestamp.isoformat(),
        "correlation_id": spec.correlation_id,
        "causation_id": spec.causation_id,
        "metadata": spec.metadata,
        "data": spec.data,
    }
    return StoredEvent(
        originator_id=str(spec.aggregate_id),
        originator_version=spec.version,
        topic=TOPICS[spec.event_type],
        state=json.dumps(state, separators=(",", ":")).encode(),
    )


#: The peer's input when its encoding is timed: what ``to_peer`` starts from.
PeerFields = tuple[str, int, str, uuid.UUID, datetime, str, str, dict[str, str], dict[str, str]]


def peer_fields(spec: EventSpec) -> PeerFields:
    """Return the fields the peer encodes inside the timer (fresh id objects, as ours get)."""
    return (
        str(spec.aggregate_id),
        spec.version,
        TOPICS[spec.event_type],
        uuid.UUID(int=spec.event_id.int),
        spec.timestamp,
        spec.correlation_id,
        spec.causation_id,
        spec.metadata,
        spec.data,
    )


def encode_for_peer(fields: PeerFields) -> StoredEvent:
    """What the peer's side does before storing: the state's JSON and the ``StoredEvent``."""
    aggregate_id, version, topic, event_id, timestamp, correlation, causation, metadata, data = (
        fields
    )
    state = {
        "event_id": str(event_id),
        "timestamp": timestamp.isoformat(),
        "correlation_id": correlation,
        "causation_id": causation,
        "metadata": metadata,
        "data": data,
    }
    return StoredEvent(
        originator_id=aggregate_id,
        originator_version=version,
        topic=topic,
        state=json.dumps(state, separators=(",", ":")).encode(),
    )


def to_floor(spec: EventSpec) -> tuple[str, FloorEvent, int]:
    """Return ``(aggregate_id, event, expected_version)`` for the floor, its JSON made here."""
    floor_event = FloorEvent(
        event_id=uuid.UUID(int=spec.event_id.int),
        event_type=spec.event_type,
        timestamp=spec.timestamp,
        correlation_id=spec.correlation_id,
        causation_id=spec.causation_id,
        organization_id=spec.metadata["organization_id"],
        user_id=spec.metadata["user_id"],
        data_json=json.dumps(spec.data, separators=(",", ":"), sort_keys=True),
        metadata_json=json.dumps(spec.metadata, separators=(",", ":"), sort_keys=True),
    )
    return str(spec.aggregate_id), floor_event, spec.version - 1


def fresh_store(alias: str) -> InMemoryEventStore:
    """Return our store for ``alias``, emptied."""
    store = InMemoryEventStore(alias)
    store.clear()
    return store


def fill_ours(store: InMemoryEventStore, specs: Iterable[EventSpec]) -> None:
    """Append each event alone, with the version before it as expected version."""
    for spec in specs:
        aggregate_id, new_event, expected = to_ours(spec)
        store.append(aggregate_id, AGGREGATE_TYPE, [new_event], expected)


def fill_peer(recorder: POPOApplicationRecorder, specs: Iterable[EventSpec]) -> None:
    """Insert each event alone into the peer's recorder."""
    for spec in specs:
        recorder.insert_events([to_peer(spec)])


@dataclass
class Pair:
    """Our store and the peer's recorder holding the same events."""

    store: InMemoryEventStore
    recorder: POPOApplicationRecorder
    events: int

    def release(self) -> None:
        """Empty both sides so their memory can be freed."""
        self.store.clear()
        self.recorder = POPOApplicationRecorder()


def build_pair(alias: str, aggregates: int, seed: int) -> Pair:
    """Fill a fresh store and recorder with the same ``aggregates`` × 10 events (untimed)."""
    store = fresh_store(alias)
    fill_ours(store, generate(aggregates, seed))
    recorder = POPOApplicationRecorder()
    fill_peer(recorder, generate(aggregates, seed))
    return Pair(store, recorder, aggregates * EVENTS_PER_AGGREGATE)


class Fixtures:
    """Stores shared by several workloads, built on first use and released when asked.

    ``postgres`` holds the PostgreSQL stores of ``benchmarks.pg_workloads``
    (a ``PgStores``), or None when PostgreSQL is skipped.
    """

    def __init__(self, config: Config, postgres: Any = None) -> None:
        self.config = config
        self.pairs: dict[str, Pair] = {}
        self.postgres = postgres

    def main(self) -> Pair:
        """The main store: ``main_aggregates`` × 10 events (100k by default)."""
        if "main" not in self.pairs:
            count = self.config.main_aggregates * EVENTS_PER_AGGREGATE
            progress(f"building the {count:,}-event stores")
            self.pairs["main"] = build_pair(
                "bench-main", self.config.main_aggregates, self.config.seed
            )
        return self.pairs["main"]

    def adopt_main(self, pair: Pair) -> None:
        """Use ``pair`` (built by the append workload) as the main store."""
        self.pairs["main"] = pair

    def big(self) -> Pair | None:
        """The 1M-event store (``big_aggregates`` × 10), or None in quick mode."""
        if not self.config.big_aggregates:
            return None
        if "big" not in self.pairs:
            count = self.config.big_aggregates * EVENTS_PER_AGGREGATE
            progress(f"building the {count:,}-event stores (about a minute)")
            self.pairs["big"] = build_pair("bench-1m", self.config.big_aggregates, self.config.seed)
        return self.pairs["big"]

    def release(self, name: str) -> None:
        """Free the fixture ``name`` if it was built."""
        pair = self.pairs.pop(name, None)
        if pair is not None:
            pair.release()
            gc.collect()


# -- timing helpers ------------------------------------------------------------------------


def interleaved_medians(sides: dict[str, Callable[[], float]], repeats: int) -> dict[str, float]:
    """Run every side ``repeats`` times, interleaved, and return each side's median.

    Each repeat runs the sides once in their order rotated by one more place, so
    no side always runs first (or right after another's garbage): a busy machine
    slows each alike.
    """
    names = list(sides)
    results: dict[str, list[float]] = {name: [] for name in names}
    for repeat in range(repeats):
        shift = repeat % len(names)
        for name in names[shift:] + names[:shift]:
            results[name].append(sides[name]())
    return {name: statistics.median(values) for name, values in results.items()}


def median_latency(
    call: Callable[[Any], object],
    args: Sequence[Any],
    runs: int,
    *,
    ours: bool = False,
) -> float:
    """Return the median over ``runs`` of the mean seconds of ``call(arg)`` over ``args``.

    One untimed pass warms up first. ``ours=True`` puts the runs under the profiler.
    """
    for arg in args:
        call(arg)
    samples = []
    gc.collect()
    for _ in range(runs):
        with ours_timed() if ours else _nothing():
            start = perf_counter()
            for arg in args:
                call(arg)
            samples.append((perf_counter() - start) / len(args))
    return statistics.median(samples)


@contextmanager
def _nothing() -> Iterator[None]:
    yield


def runs(config: Config) -> int:
    """Latency runs: longer under the profiler so it collects enough samples."""
    return config.latency_runs * (20 if config.profiling else 1)


# -- 1. append ------------------------------------------------------------------------------


def _batched(items: Sequence[Any], key: Callable[[Any], str]) -> list[list[Any]]:
    """Group ``items`` by ``key`` (an aggregate id), in order of first appearance."""
    groups: dict[str, list[Any]] = {}
    for item in items:
        groups.setdefault(key(item), []).append(item)
    return list(groups.values())


def append(config: Config, fixtures: Fixtures) -> list[Row]:
    """Append aggregates × 10 events one per call (and 10 per call), with the right version.

    Sides, each into an emptied store or a new recorder, interleaved (the order
    rotates every run) for ``append_repeats`` runs; the medians are reported:

    - ours: ``InMemoryEventStore.append`` through the public API, from
      ``NewEvent`` records: validation, canonical JSON, version check, every
      index, publishing;
    - peer: ``POPOApplicationRecorder.insert_events`` of ``StoredEvent`` objects
      whose JSON was made before the timer;
    - peer, encoding timed: the same, its state's JSON and ``StoredEvent`` made
      inside the timer from the same fields ours gets;
    - floor: :class:`benchmarks.floor.FloorStore`, a locked list with the same
      indexes, fed pre-encoded JSON.

    The last run's ``ours`` and ``peer`` stores become the main fixture.
    """
    specs = list(generate(config.main_aggregates, config.seed))
    ours_inputs = [to_ours(spec) for spec in specs]
    peer_inputs = [to_peer(spec) for spec in specs]
    peer_raw = [peer_fields(spec) for spec in specs]
    floor_inputs = [to_floor(spec) for spec in specs]
    # The batches: each aggregate's 10 events in one append, stamped in append order
    # (a batch is appended at one time; the generated times interleave aggregates).
    batched = [
        dataclasses.replace(spec, timestamp=START + STEP * position)
        for position, spec in enumerate(
            spec for batch in _batched(specs, lambda spec: str(spec.aggregate_id)) for spec in batch
        )
    ]
    del specs
    ours_batches = [
        (batch[0][0], [item[1] for item in batch], 0)
        for batch in _batched([to_ours(spec) for spec in batched], lambda item: item[0])
    ]
    peer_raw_batches = _batched([peer_fields(spec) for spec in batched], lambda item: item[0])
    floor_batches = [
        (batch[0][0], [item[1] for item in batch], 0)
        for batch in _batched([to_floor(spec) for spec in batched], lambda item: item[0])
    ]
    del batched
    total = len(ours_inputs)
    kept: dict[str, Any] = {}

    def run_ours() -> float:
        fixtures.release("main")
        store = fresh_store("bench-append")
        gc.collect()
        with ours_timed():
            start = perf_counter()
            for aggregate_id, new_event, expected in ours_inputs:
                store.append(aggregate_id, AGGREGATE_TYPE, [new_event], expected)
            elapsed = perf_counter() - start
        check(store.last_position() == total, "append: events missing (ours)")
        kept["ours"] = store
        return total / elapsed

    def run_ours_batches() -> float:
        store = fresh_store("bench-append-batches")
        gc.collect()
        with ours_timed():
            start = perf_counter()
            for aggregate_id, new_events, expected in ours_batches:
                store.append(aggregate_id, AGGREGATE_TYPE, new_events, expected)
            elapsed = perf_counter() - start
        check(store.last_position() == total, "append batches: events missing (ours)")
        store.clear()
        return total / elapsed

    def run_peer() -> float:
        recorder = POPOApplicationRecorder()
        gc.collect()
        start = perf_counter()
        for stored in peer_inputs:
            recorder.insert_events([stored])
        elapsed = perf_counter() - start
        check(recorder.max_notification_id() == total, "append: events missing (peer)")
        kept["peer"] = recorder
        return total / elapsed

    def run_peer_encoding() -> float:
        recorder = POPOApplicationRecorder()
        gc.collect()
        start = perf_counter()
        for fields in peer_raw:
            recorder.insert_events([encode_for_peer(fields)])
        elapsed = perf_counter() - start
        check(recorder.max_notification_id() == total, "append: events missing (peer, enc.)")
        return total / elapsed

    def run_peer_encoding_batches() -> float:
        recorder = POPOApplicationRecorder()
        gc.collect()
        start = perf_counter()
        for batch in peer_raw_batches:
            recorder.insert_events([encode_for_peer(fields) for fields in batch])
        elapsed = perf_counter() - start
        check(recorder.max_notification_id() == total, "append batches: events missing (peer)")
        return total / elapsed

    def run_floor() -> float:
        floor = FloorStore()
        gc.collect()
        start = perf_counter()
        for aggregate_id, floor_event, expected in floor_inputs:
            floor.append(aggregate_id, AGGREGATE_TYPE, [floor_event], expected)
        elapsed = perf_counter() - start
        check(len(floor) == total, "append: events missing (floor)")
        return total / elapsed

    def run_floor_batches() -> float:
        floor = FloorStore()
        gc.collect()
        start = perf_counter()
        for aggregate_id, floor_events, expected in floor_batches:
            floor.append(aggregate_id, AGGREGATE_TYPE, floor_events, expected)
        elapsed = perf_counter() - start
        check(len(floor) == total, "append batches: events missing (floor)")
        return total / elapsed

    sides: dict[str, Callable[[], float]] = {
        "ours": run_ours,
        "peer": run_peer,
        "peer_encoding": run_peer_encoding,
        "floor": run_floor,
        "ours_batches": run_ours_batches,
        "peer_encoding_batches": run_peer_encoding_batches,
        "floor_batches": run_floor_batches,
    }
    warm = fresh_store("bench-append-warmup")
    for aggregate_id, new_event, expected in ours_inputs[:2_000]:
        warm.append(aggregate_id, AGGREGATE_TYPE, [new_event], expected)
    warm.clear()
    warm_recorder = POPOApplicationRecorder()
    for stored in peer_inputs[:2_000]:
        warm_recorder.insert_events([stored])
    median = interleaved_medians(sides, config.append_repeats)
    fixtures.adopt_main(Pair(kept["ours"], kept["peer"], total))
    ours, batches = median["ours"], median["ours_batches"]
    per_call = f"({total:,} events, events/s"
    return [
        Row(
            f"append, 1 event/call {per_call}; peer's JSON made before its timer)",
            ours,
            median["peer"],
            "/s",
            "report",
            None,
        ),
        Row(
            f"append, 1 event/call {per_call}; peer's JSON encoding timed)",
            ours,
            median["peer_encoding"],
            "/s",
            "≥ peer",
            ours >= median["peer_encoding"],
        ),
        Row(
            f"append, 1 event/call {per_call}; peer column: floor, a locked indexed list)",
            ours,
            median["floor"],
            "/s",
            "≥ 1/3 × floor",
            ours >= median["floor"] / 3,
        ),
        Row(
            f"append, 10 events/call {per_call}; peer's JSON encoding timed)",
            batches,
            median["peer_encoding_batches"],
            "/s",
            "≥ peer",
            batches >= median["peer_encoding_batches"],
        ),
        Row(
            f"append, 10 events/call {per_call}; peer column: floor, 10 events/call)",
            batches,
            median["floor_batches"],
            "/s",
            "≥ 1/3 × floor",
            batches >= median["floor_batches"] / 3,
        ),
    ]


# -- 1b. what tamper evidence and personal data cost on the append ----------------------------


@contextmanager
def chain_off(off: bool) -> Iterator[None]:
    """With ``off``, the memory backend's body digest and link return a constant.

    What the append cost before the chain existed (``integrity_cost`` and
    ``benchmarks/chain_cost.py``).
    """
    from eventstore.backends import memory as memory_backend

    if not off:
        yield
        return
    saved = memory_backend._digest, memory_backend.next_hash
    constant = bytes(32)
    memory_backend._digest = lambda *args: constant  # type: ignore[assignment]
    memory_backend.next_hash = lambda *args: constant  # type: ignore[assignment]
    try:
        yield
    finally:
        memory_backend._digest, memory_backend.next_hash = saved


def integrity_cost(config: Config, fixtures: Fixtures) -> list[Row]:
    """The append's one-event-per-call rate with and without the chain and the sealing.

    The same inputs as ``append`` (payment-like events whose metadata carries a
    ``user_id``, personal by default, so one AES-256-GCM sealing per event),
    appended through the public API into an emptied memory store three ways,
    interleaved (order rotating) for ``append_repeats`` runs, medians reported:

    - full: what the product does (hash chain + sealing of personal metadata);
    - chain only: the store's key store switched off (``store.keys = None``:
      personal values stored in plain, as before sealing existed);
    - neither: also the chain's body digest and link replaced by a constant
      (what the append did before tamper evidence).

    The cost rows are differences of the medians' µs per event.
    """
    specs = list(generate(config.main_aggregates, config.seed))
    inputs = [to_ours(spec) for spec in specs]
    del specs
    total = len(inputs)

    def run(*, sealing: bool, chain: bool) -> float:
        store = fresh_store("bench-integrity")
        if not sealing:
            store.keys = None
        gc.collect()
        with chain_off(not chain), ours_timed():
            start = perf_counter()
            for aggregate_id, new_event, expected in inputs:
                store.append(aggregate_id, AGGREGATE_TYPE, [new_event], expected)
            elapsed = perf_counter() - start
        check(store.last_position() == total, "integrity cost: events missing")
        store.clear()
        return total / elapsed

    sides: dict[str, Callable[[], float]] = {
        "full": lambda: run(sealing=True, chain=True),
        "chain": lambda: run(sealing=False, chain=True),
        "neither": lambda: run(sealing=False, chain=False),
    }
    median = interleaved_medians(sides, config.append_repeats)
    per_call = f"({total:,} events, events/s"
    micros = {name: 1e6 / rate for name, rate in median.items()}
    return [
        Row(
            f"append, 1 event/call, chain + sealing {per_call}; peer column: the same "
            "append without either)",
            median["full"],
            median["neither"],
            "/s",
            "report",
            None,
        ),
        Row(
            "hash chain cost per event (memory append, 1 event/call; µs, median difference)",
            (micros["chain"] - micros["neither"]) / 1e6,
            None,
            "s",
            "report",
            None,
        ),
        Row(
            "sealing cost per event (the metadata's user_id, sealed; µs, median difference)",
            (micros["full"] - micros["chain"]) / 1e6,
            None,
            "s",
            "report",
            None,
        ),
    ]


# -- 2. read one aggregate ------------------------------------------------------------------


def _sample_aggregates(store: InMemoryEventStore, count: int, seed: int) -> list[str]:
    """Return ``count`` aggregate ids picked at random positions of ``store``."""
    rng = random.Random(seed)  # noqa: S311  (benchmark sampling, not cryptography)
    last = store.last_position()
    picks = []
    for _ in range(count):
        position = rng.randint(1, last)
        picks.append(store.read_all(after_position=position - 1, limit=1)[0].aggregate_id)
    return picks


def _read_latencies(config: Config, pair: Pair) -> tuple[float, float]:
    """Median latency of reading one 10-event aggregate: (ours, peer), in seconds."""
    ids = _sample_aggregates(pair.store, 1_000, config.seed)
    check(len(pair.store.read_aggregate(ids[0])) == 10, "read: ours did not return 10 events")
    check(len(pair.recorder.select_events(ids[0])) == 10, "read: peer did not return 10 events")
    # 10 passes over the 1,000 ids per run: runs of ~10 ms are steadier than 1 ms ones.
    ours = median_latency(pair.store.read_aggregate, ids * 10, runs(config), ours=True)
    peer = median_latency(pair.recorder.select_events, ids * 10, runs(config))
    return ours, peer


def read_aggregate(config: Config, fixtures: Fixtures) -> list[Row]:
    """Read one 10-event aggregate at 10k, 100k and 1M stored events (1M skipped by --quick)."""
    small = build_pair("bench-read-10k", config.small_aggregates, config.seed + 1)
    sizes: list[tuple[str, Pair]] = [(f"{small.events // 1000:,}k", small)]
    main = fixtures.main()
    sizes.append((f"{main.events // 1000:,}k", main))
    big = fixtures.big()
    if big is not None:
        sizes.append((f"{big.events // 1_000_000:,}M", big))
    rows, ours_by_size = [], []
    for name, pair in sizes:
        ours, peer = _read_latencies(config, pair)
        ours_by_size.append(ours)
        label = f"read aggregate (10 events) @ {name} events"
        rows.append(Row(label, ours, peer, "s", "≤ peer", ours <= peer))
    small.release()
    growth = ours_by_size[-1] / ours_by_size[0]
    label = f"read aggregate growth, ours {sizes[-1][0]} / {sizes[0][0]}"
    rows.append(Row(label, growth, None, "x", "≤ 1.5", growth <= 1.5))
    return rows


# -- 3. event type + time range -------------------------------------------------------------


def _window(events: int) -> tuple[datetime, datetime]:
    """The middle 10 % of the time span of a store of ``events`` generated events."""
    span = STEP * (events - 1)
    return START + span * 0.45, START + span * 0.55


def _peer_by_type_and_time(
    recorder: POPOApplicationRecorder, topic: str, start: datetime, end: datetime
) -> list[Notification]:
    """What a peer user does: read the topic's notifications, keep those in the window."""
    limit = recorder.max_notification_id() or 0
    found = []
    for notification in recorder.select_notifications(start=1, limit=limit, topics=[topic]):
        timestamp = datetime.fromisoformat(json.loads(notification.state)["timestamp"])
        if start <= timestamp <= end:
            found.append(notification)
    return found


def type_time(config: Config, fixtures: Fixtures) -> list[Row]:
    """One event type (of 10) inside 10 % of the time span: about 1 % of the events."""
    pair = fixtures.main()
    event_type = EVENT_TYPES[0]
    start, end = _window(pair.events)
    expected = len(pair.store.read_by_type(event_type, start, end))
    peer_found = _peer_by_type_and_time(pair.recorder, TOPICS[event_type], start, end)
    check(len(peer_found) == expected, "type/time: ours and peer found different events")
    query = (event_type, start, end)
    ours = median_latency(
        lambda q: pair.store.read_by_type(*q), [query] * 300, runs(config), ours=True
    )
    peer = median_latency(
        lambda q: _peer_by_type_and_time(pair.recorder, TOPICS[q[0]], q[1], q[2]), [query], 3
    )
    label = f"type + time range ({expected:,} of {pair.events:,} events)"
    return [Row(label, ours, peer, "s", "ours ≤ 1 ms", ours <= 1e-3)]


# -- 4. correlation -------------------------------------------------------------------------


def _peer_by_correlation(recorder: POPOApplicationRecorder, correlation_id: str) -> list:
    """What a peer user does: scan every notification, decode it, compare its correlation."""
    limit = recorder.max_notification_id() or 0
    return [
        notification
        for notification in recorder.select_notifications(start=1, limit=limit)
        if json.loads(notification.state)["correlation_id"] == correlation_id
    ]


def correlation(config: Config, fixtures: Fixtures) -> list[Row]:
    """Read a 4-event correlation among the main store's events."""
    pair = fixtures.main()
    aggregates = _sample_aggregates(pair.store, 200, config.seed + 2)
    ids = [pair.store.read_aggregate(aggregate_id)[0].correlation_id for aggregate_id in aggregates]
    check(len(pair.store.read_by_correlation(ids[0])) == 4, "correlation: ours found not 4")
    check(len(_peer_by_correlation(pair.recorder, ids[0])) == 4, "correlation: peer found not 4")
    ours = median_latency(pair.store.read_by_correlation, ids * 10, runs(config), ours=True)
    peer = median_latency(lambda cid: _peer_by_correlation(pair.recorder, cid), ids[:1], 3)
    label = f"correlation, 4 events among {pair.events:,}"
    return [Row(label, ours, peer, "s", "ours ≤ 0.05 ms", ours <= 5e-5)]


# -- 5. catch-up page -----------------------------------------------------------------------


def catch_up(config: Config, fixtures: Fixtures) -> list[Row]:
    """Read a page of 1,000 events after a position (what a projection's catch-up does)."""
    pair = fixtures.main()
    rng = random.Random(config.seed + 3)  # noqa: S311  (benchmark sampling)
    positions = [rng.randint(0, pair.events - 1_000) for _ in range(200)]
    ours_page = pair.store.read_all(after_position=positions[0], limit=1_000)
    peer_page = pair.recorder.select_notifications(start=positions[0] + 1, limit=1_000)
    check(ours_page[0].position == peer_page[0].id == positions[0] + 1, "catch-up: wrong start")
    check(len(ours_page) == len(peer_page) == 1_000, "catch-up: short page")
    ours = median_latency(
        lambda p: pair.store.read_all(after_position=p, limit=1_000),
        positions * 20,
        runs(config),
        ours=True,
    )
    peer = median_latency(
        lambda p: pair.recorder.select_notifications(start=p + 1, limit=1_000),
        positions,
        runs(config),
    )
    return [Row("catch-up page of 1,000 after a position", ours, peer, "s", "≤ peer", ours <= peer)]


# -- 6. memory ------------------------------------------------------------------------------


def retained_size(root: object) -> int:
    """Bytes of every object reachable from ``root`` (``sys.getsizeof``), each counted once.

    Classes, modules and functions are shared code, not data: they are not counted
    and not followed.
    """
    seen: set[int] = set()
    stack = [root]
    total = 0
    skip = (type, ModuleType, FunctionType)
    while stack:
        obj = stack.pop()
        if id(obj) in seen or isinstance(obj, skip):
            continue
        seen.add(id(obj))
        total += sys.getsizeof(obj)
        stack.extend(gc.get_referents(obj))
    return total


def _probe(side: str, aggregates: int, seed: int, mode: str) -> float:
    """Bytes per event of one side's store filled in a fresh process (benchmarks.memory_probe)."""
    import subprocess
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    command = [sys.executable, "-m", "benchmarks.memory_probe", side, str(aggregates)]
    result = subprocess.run(  # noqa: S603 - our own interpreter and module
        [*command, str(seed), mode], cwd=root, capture_output=True, text=True, timeout=1800
    )
    if result.returncode != 0:
        raise Failure(f"memory probe {side} {mode} failed: {result.stderr.strip()[-500:]}")
    return float(json.loads(result.stdout.strip().splitlines()[-1])["bytes_per_event"])


def memory(config: Config, fixtures: Fixtures) -> list[Row]:
    """Retained bytes per event, ours and peer's, every index kept.

    In a fresh process per side and measure (:mod:`benchmarks.memory_probe`):
    tracemalloc over building ``traced_aggregates`` × 10 events (tracemalloc
    slows building about tenfold), and the growth of resident memory (RSS)
    over building the same count and ``big_aggregates`` × 10 (1M; skipped in
    quick mode). Then the size of the object graph of the 1M-event stores (the
    main store in quick mode), measured in this process.
    """
    rows = []
    seed = config.seed + 4

    def scale(events: int) -> str:
        return f"{events // 1_000_000:,}M" if events >= 1_000_000 else f"{events // 1000:,}k"

    measures = [("trace", config.traced_aggregates, "tracemalloc")]
    measures.append(("rss", config.traced_aggregates, "RSS growth"))
    if config.big_aggregates:
        measures.append(("rss", config.big_aggregates, "RSS growth"))
    for mode, aggregates, name in measures:
        events = aggregates * EVENTS_PER_AGGREGATE
        progress(f"{name} of {events:,} events in a fresh process, each side")
        ours = _probe("ours", aggregates, seed, mode)
        peer = _probe("peer", aggregates, seed, mode)
        label = f"memory @ {scale(events)} events, {name}, fresh process (bytes/event)"
        rows.append(Row(label, ours, peer, "B", "≤ 600 B", ours <= 600))
    pair = fixtures.big() or fixtures.main()
    progress(f"measuring the object graphs of the {pair.events:,}-event stores")
    ours_graph = retained_size(pair.store._data) / pair.events
    peer_graph = retained_size(pair.recorder) / pair.events
    label = f"memory @ {scale(pair.events)} events, object graph (bytes/event)"
    rows.append(Row(label, ours_graph, peer_graph, "B", "≤ 600 B", ours_graph <= 600))
    return rows


# -- 7. threads -----------------------------------------------------------------------------


def _run_threads(work: Sequence[Callable[[], object]]) -> float:
    """Run each callable in its own thread, started together; return the wall time."""
    barrier = threading.Barrier(len(work) + 1)
    errors: list[BaseException] = []

    def worker(job: Callable[[], object]) -> None:
        barrier.wait()
        try:
            job()
        except BaseException as exc:  # reported by the main thread
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(job,)) for job in work]
    for thread in threads:
        thread.start()
    gc.collect()
    barrier.wait()
    start = perf_counter()
    for thread in threads:
        thread.join()
    elapsed = perf_counter() - start
    if errors:
        raise errors[0]
    return elapsed


def _check_threaded_store(store: InMemoryEventStore, chunks: list[list[EventSpec]]) -> None:
    """Every event stored once, positions gapless, every stream at versions 1..10."""
    total = sum(map(len, chunks))
    records: list[RecordedEvent] = store.read_all()
    check(len(records) == total, f"threads: ours stored {len(records)} of {total} events")
    check(
        [record.position for record in records] == list(range(1, total + 1)),
        "threads: ours positions not unique and gapless",
    )
    stored_ids = {record.event_id for record in records}
    check(
        stored_ids == {spec.event_id for chunk in chunks for spec in chunk},
        "threads: ours lost or changed events",
    )
    for chunk in chunks:
        for aggregate_uuid in {spec.aggregate_id for spec in chunk}:
            ours_versions = [r.version for r in store.read_aggregate(str(aggregate_uuid))]
            check(ours_versions == list(range(1, 11)), f"threads: ours versions {ours_versions}")


def threads(config: Config, fixtures: Fixtures) -> list[Row]:
    """N threads append to disjoint aggregates at once; no version or position lost or doubled.

    Interleaved for ``append_repeats`` runs (medians): ours in N threads, the
    peer in N threads, and ours in one thread appending the same events (each
    thread's share in turn), the rate N threads must not fall below. Every
    store is checked afterwards: each event stored once, positions gapless,
    each stream at versions 1..10.
    """
    per_thread = config.aggregates_per_thread
    chunks = [
        list(generate(per_thread, config.seed + 10 + number))
        for number in range(config.thread_count)
    ]
    total = sum(map(len, chunks))
    ours_inputs = [[to_ours(spec) for spec in chunk] for chunk in chunks]
    peer_inputs = [[to_peer(spec) for spec in chunk] for chunk in chunks]

    def ours_job(
        store: InMemoryEventStore, inputs: list[tuple[str, NewEvent, int]]
    ) -> Callable[[], None]:
        def run() -> None:
            for aggregate_id, new_event, expected in inputs:
                store.append(aggregate_id, AGGREGATE_TYPE, [new_event], expected)

        return run

    def run_ours_threads() -> float:
        store = fresh_store("bench-threads")
        with ours_timed():
            elapsed = _run_threads([ours_job(store, inputs) for inputs in ours_inputs])
        _check_threaded_store(store, chunks)
        store.clear()
        return total / elapsed

    def run_ours_single() -> float:
        store = fresh_store("bench-threads-single")
        jobs = [ours_job(store, inputs) for inputs in ours_inputs]
        gc.collect()
        start = perf_counter()
        for job in jobs:
            job()
        elapsed = perf_counter() - start
        check(store.last_position() == total, "threads: one thread lost events")
        store.clear()
        return total / elapsed

    def run_peer_threads() -> float:
        recorder = POPOApplicationRecorder()
        notification_ids: list[int] = []

        def peer_job(inputs: list[StoredEvent]) -> Callable[[], None]:
            def run() -> None:
                ids = []
                for stored in inputs:
                    ids.extend(recorder.insert_events([stored]) or ())
                notification_ids.extend(ids)

            return run

        elapsed = _run_threads([peer_job(inputs) for inputs in peer_inputs])
        for chunk in chunks:
            for aggregate_uuid in {spec.aggregate_id for spec in chunk}:
                peer_versions = [
                    s.originator_version for s in recorder.select_events(str(aggregate_uuid))
                ]
                check(
                    peer_versions == list(range(1, 11)), f"threads: peer versions {peer_versions}"
                )
        check(sorted(notification_ids) == list(range(1, total + 1)), "threads: peer ids not unique")
        return total / elapsed

    sides = {"threads": run_ours_threads, "single": run_ours_single, "peer": run_peer_threads}
    median = interleaved_medians(sides, config.append_repeats)
    ours, single, peer = (median[name] for name in ("threads", "single", "peer"))
    label = (
        f"{config.thread_count} threads × {per_thread:,} aggregates × 10 events (events/s, checked)"
    )
    return [
        Row(label, ours, peer, "/s", "≥ peer", ours >= peer),
        Row(
            f"{label}; peer column: ours in 1 thread, same events",
            ours,
            single,
            "/s",
            "≥ 1 thread",
            ours >= single,
        ),
    ]


# -- 8. command path ------------------------------------------------------------------------


def command_path(config: Config, fixtures: Fixtures) -> list[Row]:
    """Process then refund payments through ``PaymentCommandHandler`` (replay, decide, append)."""
    rng = random.Random(config.seed + 5)  # noqa: S311  (benchmark data)

    def new_id() -> str:
        return str(uuid.UUID(int=rng.getrandbits(128), version=4))

    commands = []
    for number in range(config.payments):
        payment_id = f"pay-{number:06d}"
        correlation_id = new_id()
        commands.append(
            (
                ProcessPayment(payment_id, "100.00", "EUR", "acme"),
                CommandContext("1", "bench", correlation_id=correlation_id, command_id=new_id()),
                RefundPayment(payment_id, "10.00"),
                CommandContext("1", "bench", correlation_id=correlation_id, command_id=new_id()),
            )
        )

    def run(store: InMemoryEventStore, batch: list) -> float:
        handler = PaymentCommandHandler(store)
        gc.collect()
        with ours_timed():
            start = perf_counter()
            for process, process_context, refund, refund_context in batch:
                handler.process(process, process_context)
                handler.refund(refund, refund_context)
            return perf_counter() - start

    run(fresh_store("bench-commands-warmup"), commands[:200])
    fresh_store("bench-commands-warmup")
    rates = []
    for _ in range(config.command_repeats):
        store = fresh_store("bench-commands")
        rates.append(2 * len(commands) / run(store, commands))
        check(store.last_position() == 2 * len(commands), "command path: events missing")
        state = PaymentCommandHandler(store).repository.load(commands[-1][0].payment_id).state()
        check(state["status"] == "partially_refunded", f"command path: bad state {state}")
    fresh_store("bench-commands")
    ours = statistics.median(rates)
    label = "command path: process + refund (commands/s)"
    return [Row(label, ours, None, "/s", "≥ 20,000", ours >= 20_000)]


#: The workloads in table order, by the names ``--only`` and ``--profile`` take.
WORKLOADS: dict[str, Callable[[Config, Fixtures], list[Row]]] = {
    "append": append,
    "integrity_cost": integrity_cost,
    "read_aggregate": read_aggregate,
    "type_time": type_time,
    "correlation": correlation,
    "catch_up": catch_up,
    "memory": memory,
    "threads": threads,
    "command_path": command_path,
}

#: The order they run in: memory right after read_aggregate, so the 1M-event stores
#: both use are freed before the other workloads (a full GC pass over them takes seconds).
RUN_ORDER = (
    "append",
    "integrity_cost",
    "read_aggregate",
    "memory",
    "type_time",
    "correlation",
    "catch_up",
    "threads",
    "command_path",
)

#: Which shared fixtures each workload uses (released once no later workload needs them).
NEEDS = {
    "append": {"main"},
    "read_aggregate": {"main", "big"},
    "type_time": {"main"},
    "correlation": {"main"},
    "catch_up": {"main"},
    "memory": {"main", "big"},
}

#: Workloads whose timed code runs in the calling thread, so ``--profile`` can see it.
PROFILABLE = (
    "append",
    "integrity_cost",
    "read_aggregate",
    "type_time",
    "correlation",
    "catch_up",
    "command_path",
)
