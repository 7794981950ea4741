"""Projection workloads: ``payments.summary`` catching up, rebuilding, and the daemon's lag.

Imported by ``run.py`` once Django is set up.

The history is ``projection_events`` seeded payment events (real
``PaymentProcessed``/``PaymentRefunded``/``PaymentFailed`` events, which the
projection replays through the ``Payment`` aggregate; the ``bench.*`` events
of :func:`benchmarks.workloads.generate` are not handled by it). Each
payment's stream follows :data:`STREAM_MIX` (processed; partial, two-part and
full refunds; a failed attempt then success; failures only), and streams are
interleaved at random as in :func:`~benchmarks.workloads.generate`
(timestamps 10 ms apart), so a refund usually lands in another batch than
its payment.

- Memory + SQLite: an ``InMemoryEventStore`` holds the history; the view
  (``PaymentSummary``) and the checkpoint are in the run's temporary SQLite
  database, as on the default (memory) backend.
- PostgreSQL: the history is in ``DatabaseEventStore`` on the run's fresh
  database (``benchmarks.pg_server``); the view and the checkpoint in the same
  database (``payments.PaymentSummary`` routed there by :class:`ViewOnPostgres`
  during these rows), as in a deployment with ``DATABASE_URL`` on PostgreSQL.
  The lag row runs ``manage.py eventstore_projections run payments.summary``
  in a subprocess configured that way.

No peer: eventsourcing's ``eventsourcing.projection`` runner comes with no
payment summary; a fair peer needs its own view (a ``PostgresTrackingRecorder``
subclass with a summary table), its own domain events and mapper, and it
commits per event where ours commits per batch. That is another projection,
not the same work, and it was not written: the peer column is "—".
"""

from __future__ import annotations

import gc
import os
import random
import signal
import statistics
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path
from time import perf_counter
from typing import Any

from django.core.management import call_command
from django.db import connections, transaction
from django.test.utils import override_settings

from benchmarks.workloads import (
    CURRENCIES,
    ORGANIZATIONS,
    START,
    STEP,
    USERS,
    Config,
    Failure,
    Fixtures,
    Row,
    check,
    ours_timed,
    progress,
)
from eventstore.backends.memory import InMemoryEventStore
from eventstore.criteria import searchable_text
from eventstore.models import Checkpoint, StoredEvent
from eventstore.projections import catch_up, rebuild
from eventstore.records import NewEvent
from payments.events import PaymentFailed, PaymentProcessed, PaymentRefunded
from payments.models import PaymentSummary
from payments.projections import PaymentSummaryProjection

REPO_ROOT = Path(__file__).resolve().parent.parent
AGGREGATE_TYPE = "Payment"
MEMORY_ALIAS = "bench-projection"
#: The Django alias of the PostgreSQL database (see ``benchmarks.pg_workloads``).
PG_ALIAS = "postgres"
FAILURE_REASONS = ("card_declined", "insufficient_funds", "expired_card", "3ds_failed")

#: (weight in %, the stream's events): what a payment's history looks like.
STREAM_MIX = (
    (70, ("processed",)),
    (12, ("processed", "partial_refund")),
    (5, ("processed", "partial_refund", "rest_refund")),
    (5, ("processed", "full_refund")),
    (5, ("failed", "processed")),
    (3, ("failed",)),
)
#: The summary's status after a stream (or its prefix) of these events.
_STATUS_AFTER = {
    "processed": "processed",
    "partial_refund": "partially_refunded",
    "rest_refund": "refunded",
    "full_refund": "refunded",
    "failed": "failed",
}


class PaymentHistory:
    """The seeded payment events, as inputs for ``append``, and the view they should give."""

    def __init__(self, events: int, seed: int) -> None:
        rng = random.Random(seed)  # noqa: S311  (benchmark data, not cryptography)

        def new_id() -> str:
            return str(uuid.UUID(int=rng.getrandbits(128), version=4))

        weights = [weight for weight, _kinds in STREAM_MIX]
        streams: list[tuple[str, ...]] = []
        total = 0
        while total < events:
            kinds = rng.choices([kinds for _weight, kinds in STREAM_MIX], weights)[0]
            kinds = kinds[: events - total]
            streams.append(kinds)
            total += len(kinds)
        order = [index for index, kinds in enumerate(streams) for _ in kinds]
        rng.shuffle(order)
        ids = [new_id() for _ in streams]
        organizations = [rng.choice(ORGANIZATIONS) for _ in streams]
        currencies = [rng.choice(CURRENCIES) for _ in streams]
        amounts = [Decimal(rng.randint(100, 999_999)).scaleb(-2) for _ in streams]
        steps = [0] * len(streams)
        #: ``(payment_id, NewEvent, expected_version)`` in append order.
        self.inputs: list[tuple[str, NewEvent, int]] = []
        for position, index in enumerate(order):
            step = steps[index]
            steps[index] += 1
            kind = streams[index][step]
            amount, currency = amounts[index], currencies[index]
            partial = (amount * Decimal("0.3")).quantize(Decimal("0.01"))
            if kind == "processed":
                domain: Any = PaymentProcessed(
                    amount=amount, currency=currency, organization_id=organizations[index]
                )
            elif kind == "failed":
                reason = rng.choice(FAILURE_REASONS)
                domain = PaymentFailed(
                    amount=amount,
                    currency=currency,
                    organization_id=organizations[index],
                    reason=reason,
                )
            else:
                refund = {"partial_refund": partial, "rest_refund": amount - partial}.get(
                    kind, amount
                )
                domain = PaymentRefunded(amount=refund, currency=currency, refund_id=new_id())
            correlation = new_id()
            event = NewEvent.from_domain(
                domain,
                event_id=uuid.UUID(new_id()),
                metadata={
                    "organization_id": organizations[index],
                    "user_id": rng.choice(USERS),
                    "command": "refund" if "refund" in kind else kind.removesuffix("ed"),
                },
                correlation_id=correlation,
                causation_id=correlation,
                timestamp=START + STEP * position,
            )
            self.inputs.append((ids[index], event, step))
        self.payments = len(streams)
        #: How many payments end in each status.
        self.statuses = Counter(_STATUS_AFTER[kinds[-1]] for kinds in streams)

    def fill(self, store: Any) -> None:
        """Append every event alone, with the version before it as expected version."""
        for payment_id, event, expected in self.inputs:
            store.append(payment_id, AGGREGATE_TYPE, [event], expected)


_histories: dict[tuple[int, int], PaymentHistory] = {}
_memory_holding: tuple[int, int] | None = None


def _history(config: Config) -> PaymentHistory:
    key = (config.projection_events, config.seed + 30)
    if key not in _histories:
        _histories.clear()
        progress(f"generating {key[0]:,} payment events")
        _histories[key] = PaymentHistory(*key)
    return _histories[key]


def _memory_store(config: Config) -> tuple[InMemoryEventStore, PaymentHistory]:
    """The memory store holding the payment history (filled once, untimed)."""
    global _memory_holding
    history = _history(config)
    store = InMemoryEventStore(MEMORY_ALIAS)
    key = (config.projection_events, config.seed + 30)
    if _memory_holding != key:
        store.clear()
        progress(f"appending {len(history.inputs):,} payment events to the memory store")
        history.fill(store)
        _memory_holding = key
    check(store.last_position() == len(history.inputs), "projection: memory store incomplete")
    return store, history


def _forget(projection: PaymentSummaryProjection) -> None:
    """Delete the view and the checkpoint (untimed): the next catch-up starts from 0."""
    database = projection.database
    with transaction.atomic(using=database):
        Checkpoint.objects.using(database).filter(name=projection.name).delete()
        PaymentSummary.objects.using(database).all().delete()


def _check_view(projection: PaymentSummaryProjection, history: PaymentHistory, what: str) -> None:
    """The view holds one row per payment, with the statuses the streams lead to."""
    rows = PaymentSummary.objects.using(projection.database)
    found = Counter(rows.values_list("status", flat=True))
    check(found == history.statuses, f"{what}: view statuses {dict(found)} != expected")
    checkpoint = Checkpoint.objects.using(projection.database).get(name=projection.name)
    check(
        checkpoint.position == len(history.inputs) and checkpoint.status == "caught_up",
        f"{what}: checkpoint at {checkpoint.position} ({checkpoint.status})",
    )


def _timed_catch_up(projection: PaymentSummaryProjection, store: Any, history: PaymentHistory):
    """Catch up from position 0 over the whole history; return events applied per second."""
    _forget(projection)
    gc.collect()
    with ours_timed():
        start = perf_counter()
        result = catch_up(projection, store=store, raise_errors=True)
        elapsed = perf_counter() - start
    check(result.status == "caught_up", f"projection catch-up: status {result.status}")
    check(result.applied == len(history.inputs), f"projection catch-up: {result.applied} applied")
    _check_view(projection, history, "projection catch-up")
    return result.applied / elapsed


def _timed_rebuild(projection: PaymentSummaryProjection, store: Any, history: PaymentHistory):
    """Rebuild a caught-up view from the whole history; return the seconds it took."""
    checkpoints = Checkpoint.objects.using(projection.database)
    if not checkpoints.filter(name=projection.name, position=len(history.inputs)).exists():
        progress("catching the view up first (untimed)")
        catch_up(projection, store=store, raise_errors=True)
    gc.collect()
    with ours_timed():
        start = perf_counter()
        result = rebuild(projection, store=store)
        elapsed = perf_counter() - start
    check(result.rebuilt and result.applied == len(history.inputs), "rebuild: events missing")
    _check_view(projection, history, "projection rebuild")
    return elapsed


def _scale(events: int) -> str:
    return f"{events // 1000:,}k"


def _memory_projection() -> PaymentSummaryProjection:
    call_command("migrate", verbosity=0, interactive=False)  # the temporary SQLite database
    return PaymentSummaryProjection()  # view and checkpoint on "default" (SQLite)


# -- 13. memory + SQLite catch-up -----------------------------------------------------------


def projection_catch_up(config: Config, fixtures: Fixtures) -> list[Row]:
    """payments.summary catching up from 0 over the memory store's history (view on SQLite)."""
    store, history = _memory_store(config)
    projection = _memory_projection()
    progress(f"catching up {config.projection_runs}× over {len(history.inputs):,} events")
    rates = [_timed_catch_up(projection, store, history) for _ in range(config.projection_runs)]
    label = (
        f"projection payments.summary catch-up, memory store + SQLite view "
        f"({_scale(len(history.inputs))} events, {history.payments:,} payments, events/s)"
    )
    return [Row(label, statistics.median(rates), None, "/s", "report", None)]


# -- 14. memory + SQLite rebuild ------------------------------------------------------------


def projection_rebuild(config: Config, fixtures: Fixtures) -> list[Row]:
    """``runner.rebuild`` of payments.summary over the memory store's history (view on SQLite)."""
    store, history = _memory_store(config)
    projection = _memory_projection()
    progress(f"rebuilding {config.projection_runs}× from {len(history.inputs):,} events")
    times = [_timed_rebuild(projection, store, history) for _ in range(config.projection_runs)]
    label = (
        f"projection payments.summary rebuild, memory store + SQLite view "
        f"({_scale(len(history.inputs))} events)"
    )
    return [Row(label, statistics.median(times), None, "s", "report", None)]


# -- PostgreSQL -----------------------------------------------------------------------------


class ViewOnPostgres:
    """Database router of the PostgreSQL rows: ``PaymentSummary`` reads and writes go there.

    ``payments.projections.project`` writes through ``PaymentSummary.objects``
    (the default database); in a deployment that database is PostgreSQL.
    """

    def db_for_read(self, model: Any, **hints: Any) -> str | None:
        return PG_ALIAS if model is PaymentSummary else None

    def db_for_write(self, model: Any, **hints: Any) -> str | None:
        return PG_ALIAS if model is PaymentSummary else None


@contextmanager
def _view_on_postgres() -> Iterator[PaymentSummaryProjection]:
    """payments.summary with its view and checkpoint on the PostgreSQL database."""
    projection = PaymentSummaryProjection()
    projection.database = PG_ALIAS
    with override_settings(DATABASE_ROUTERS=[f"{__name__}.ViewOnPostgres"]):
        yield projection


def _pg_store(config: Config, fixtures: Fixtures) -> tuple[Any, PaymentHistory]:
    """Our PostgreSQL store holding the payment history (filled once, untimed).

    The fill copies the memory store's records (same positions, versions,
    timestamps, data and the indexed copies ``append`` writes) with
    ``bulk_create``, 2,000 rows a statement: one ``append`` per event takes
    minutes on PostgreSQL and is measured by the 'PostgreSQL append' row.
    """
    pg = fixtures.postgres
    if pg is None:
        raise Failure("PostgreSQL is not set up")
    history = _history(config)
    key = ("payments", config.projection_events, config.seed + 30)
    store = pg.store
    if pg.holding != key:
        memory, _history_again = _memory_store(config)
        pg.empty()
        records = memory.read_all()
        progress(f"copying {len(records):,} payment events to PostgreSQL (untimed)")
        with transaction.atomic(using=PG_ALIAS):
            for first in range(0, len(records), 2_000):
                StoredEvent.objects.using(PG_ALIAS).bulk_create(
                    [_stored(record) for record in records[first : first + 2_000]]
                )
        check(store.last_position() == len(records), "PostgreSQL fill: events missing")
        sample = records[len(records) // 2].aggregate_id
        check(
            [(r.event_id, r.position, dict(r.data)) for r in store.read_aggregate(sample)]
            == [(r.event_id, r.position, dict(r.data)) for r in memory.read_aggregate(sample)],
            "PostgreSQL fill: a stream differs from the memory store's",
        )
        pg.holding = key
    return store, history


def _stored(record: Any) -> StoredEvent:
    """The row ``DatabaseEventStore.append`` writes for ``record``."""
    data, metadata = dict(record.data), dict(record.metadata)
    return StoredEvent(
        position=record.position,
        event_id=record.event_id,
        aggregate_id=record.aggregate_id,
        aggregate_type=record.aggregate_type,
        event_type=record.event_type,
        version=record.version,
        timestamp=record.timestamp,
        correlation_id=record.correlation_id,
        causation_id=record.causation_id,
        schema_version=record.schema_version,
        organization_id=metadata.get("organization_id"),
        user_id=metadata.get("user_id"),
        data=data,
        metadata=metadata,
        search_text=searchable_text(data),
    )


# -- 15. PostgreSQL catch-up ----------------------------------------------------------------


def pg_projection_catch_up(config: Config, fixtures: Fixtures) -> list[Row]:
    """payments.summary catching up from 0 over DatabaseEventStore on PostgreSQL (one run)."""
    store, history = _pg_store(config, fixtures)
    with _view_on_postgres() as projection:
        progress(f"catching up over {len(history.inputs):,} events on PostgreSQL")
        rate = _timed_catch_up(projection, store, history)
    label = (
        f"PostgreSQL projection payments.summary catch-up "
        f"({_scale(len(history.inputs))} events, events/s)"
    )
    return [Row(label, rate, None, "/s", "report", None)]


# -- 16. PostgreSQL rebuild -----------------------------------------------------------------


def pg_projection_rebuild(config: Config, fixtures: Fixtures) -> list[Row]:
    """``runner.rebuild`` of payments.summary on PostgreSQL (one run)."""
    store, history = _pg_store(config, fixtures)
    with _view_on_postgres() as projection:
        progress(f"rebuilding from {len(history.inputs):,} events on PostgreSQL")
        elapsed = _timed_rebuild(projection, store, history)
    label = f"PostgreSQL projection payments.summary rebuild ({_scale(len(history.inputs))} events)"
    return [Row(label, elapsed, None, "s", "report", None)]


# -- 17. PostgreSQL daemon lag --------------------------------------------------------------

DAEMON_READY = "listening on PostgreSQL channel"


class _Daemon:
    """``manage.py eventstore_projections run payments.summary`` in a subprocess.

    Configured as a deployment on the run's database: ``DATABASE_URL`` on it,
    ``EVENTSTORE_BACKEND=database`` (so the default store and the view are there).
    """

    def __init__(self, database_url: str) -> None:
        env = {
            key: value
            for key, value in os.environ.items()
            if key not in {"EVENTSTORE_TEST_POSTGRES_URL", "DJANGO_SQLITE_PATH"}
        }
        env.update(
            DATABASE_URL=database_url,
            EVENTSTORE_BACKEND="database",
            DJANGO_DEBUG="0",
            DJANGO_SETTINGS_MODULE="gyroscops.settings",
            PYTHONUNBUFFERED="1",
        )
        command = [sys.executable, "manage.py", "eventstore_projections", "run"]
        self.process = subprocess.Popen(  # noqa: S603  (our own interpreter and manage.py)
            [*command, "payments.summary"],
            cwd=REPO_ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self.lines: list[str] = []
        self.ready = threading.Event()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append(line.rstrip())
            if DAEMON_READY in line:
                self.ready.set()

    def wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while not self.ready.wait(0.1):
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise Failure(f"daemon did not start listening: {' | '.join(self.lines[-5:])}")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._reader.join(timeout=5)


class _Observer(threading.Thread):
    """Polls the view (its own connection) for the appended payments; notes when each shows.

    ``committed`` (payment id → time its append returned) is filled by the
    appending thread; ``seen`` gets the time the row was first read.
    """

    def __init__(self, deadline: float) -> None:
        super().__init__(daemon=True)
        self.lock = threading.Lock()
        self.committed: dict[str, float] = {}
        self.seen: dict[str, float] = {}
        self.appending = True
        self.deadline = deadline
        self.error: BaseException | None = None

    def run(self) -> None:
        rows = PaymentSummary.objects.using(PG_ALIAS)
        try:
            while time.monotonic() < self.deadline:
                with self.lock:
                    waiting = [pid for pid in self.committed if pid not in self.seen]
                    appending = self.appending
                if not waiting and not appending:
                    return
                if waiting:
                    found = list(
                        rows.filter(payment_id__in=waiting).values_list("payment_id", flat=True)
                    )
                    now = perf_counter()
                    for payment_id in found:
                        self.seen[payment_id] = now
                time.sleep(0.001)
        except BaseException as exc:  # reported by the main thread
            self.error = exc
        finally:
            connections[PG_ALIAS].close()


def _lag_event(number: int, rng: random.Random) -> tuple[str, NewEvent]:
    payment_id = f"lag-{number:05d}-{rng.getrandbits(32):08x}"
    organization = rng.choice(ORGANIZATIONS)
    domain = PaymentProcessed(amount=Decimal("42.00"), currency="EUR", organization_id=organization)
    metadata = {"organization_id": organization, "user_id": "1", "command": "process"}
    return payment_id, NewEvent.from_domain(domain, metadata=metadata)


def _follow(store: Any, appends: int, spacing: float, rng: random.Random, start: int) -> list:
    """Append ``appends`` new payments ``spacing`` s apart; return their lags in seconds."""
    events = [_lag_event(start + number, rng) for number in range(appends)]
    observer = _Observer(deadline=time.monotonic() + appends * spacing + 30)
    observer.start()
    begin = perf_counter()
    for number, (payment_id, event) in enumerate(events):
        delay = begin + number * spacing - perf_counter()
        if delay > 0:
            time.sleep(delay)
        store.append(payment_id, AGGREGATE_TYPE, [event], 0)
        committed = perf_counter()  # the append's transaction has committed
        with observer.lock:
            observer.committed[payment_id] = committed
    with observer.lock:
        observer.appending = False
    observer.join()
    if observer.error is not None:
        raise Failure(f"daemon lag: observer failed: {observer.error}")
    missing = [pid for pid in observer.committed if pid not in observer.seen]
    check(not missing, f"daemon lag: {len(missing)} of {appends} payments never showed in 30 s")
    return [observer.seen[pid] - observer.committed[pid] for pid in observer.committed]


def pg_projection_lag(config: Config, fixtures: Fixtures) -> list[Row]:
    """Append commit → row in the view, with the daemon runner in a subprocess (LISTEN/NOTIFY).

    The store holds the payment history and the view is caught up before the
    daemon starts; then an untimed warm-up of 20 appends, then
    ``lag_appends`` new payments (one PaymentProcessed each) appended
    ``lag_spacing`` s apart on a schedule (not waiting for the view), while a
    thread polls the view every ~1 ms. Lag: the time the append returned
    (committed) to the first poll that reads the row; so it includes up to one
    poll (~1.5 ms with the query).
    """
    store, history = _pg_store(config, fixtures)
    with _view_on_postgres() as projection:
        progress("catching the view up before the daemon starts (untimed)")
        catch_up(projection, store=store, raise_errors=True)
    databases = fixtures.postgres.databases
    daemon = _Daemon(databases.url(databases.ours))
    rng = random.Random(config.seed + 31)  # noqa: S311  (benchmark data)
    try:
        daemon.wait_ready(timeout=120)
        _follow(store, 20, config.lag_spacing * 4, rng, start=0)
        progress(f"{config.lag_appends} appends {config.lag_spacing * 1e3:g} ms apart")
        lags = _follow(store, config.lag_appends, config.lag_spacing, rng, start=100)
    finally:
        daemon.stop()
    passes = [line for line in daemon.lines if ": applied " in line]
    progress(f"the daemon applied events in {len(passes)} passes; last lines: {daemon.lines[-3:]}")
    if daemon.process.returncode not in (0, -signal.SIGTERM):
        raise Failure(f"daemon exited {daemon.process.returncode}: {daemon.lines[-3:]}")
    lags.sort()
    p50 = statistics.median(lags)
    p99 = statistics.quantiles(lags, n=100, method="inclusive")[98]
    what = (
        f"{config.lag_appends} appends {config.lag_spacing * 1e3:g} ms apart, "
        f"@ {_scale(len(history.inputs))} events"
    )
    return [
        Row(
            f"PostgreSQL daemon lag p50, append commit → row in view ({what})",
            p50,
            None,
            "s",
            "report",
            None,
        ),
        Row(
            f"PostgreSQL daemon lag p99 ({what}; max {lags[-1] * 1e3:,.1f} ms)",
            p99,
            None,
            "s",
            "report",
            None,
        ),
    ]


#: The memory workloads of this module, in table order (after ``benchmarks.workloads``').
WORKLOADS = {
    "projection_catch_up": projection_catch_up,
    "projection_rebuild": projection_rebuild,
}
RUN_ORDER = tuple(WORKLOADS)
#: The PostgreSQL ones (named in ``benchmarks.pg_server.WORKLOAD_NAMES``).
PG_WORKLOADS = {
    "pg_projection_catch_up": pg_projection_catch_up,
    "pg_projection_rebuild": pg_projection_rebuild,
    "pg_projection_lag": pg_projection_lag,
}
#: Workloads whose timed code runs in the calling thread (not the lag: that is the daemon).
PROFILABLE = (
    "projection_catch_up",
    "projection_rebuild",
    "pg_projection_catch_up",
    "pg_projection_rebuild",
)
