"""PostgreSQL workloads: our ``DatabaseEventStore`` against eventsourcing's PostgreSQL recorder.

Imported by ``run.py`` once Django is set up, and only when PostgreSQL answers.

Ours is :class:`~eventstore.backends.database.DatabaseEventStore` on the Django
alias ``"postgres"`` (migrated at first use); the peer is
``eventsourcing.postgres.PostgresApplicationRecorder`` on a
``PostgresDatastore`` (its table made with ``create_table()``). Each has its
own fresh database on the same server (see ``benchmarks.pg_server``), and each
append is one transaction on both sides. The events, and their shaping before
the timers, are those of ``benchmarks.workloads``.

No targets are set for the single-process PostgreSQL rows: they report
("report", met "—"). The writer-process rows (``pg_writers``, see
``benchmarks.pg_writers``) have issue 12's target: at least the peer's rate at
every level, rising from 1 to 2 writers and not falling after.
"""

from __future__ import annotations

import json
import random
import uuid
from collections.abc import Iterable
from time import perf_counter

from django.core.management import call_command
from django.db import connections, transaction
from eventsourcing.postgres import PostgresApplicationRecorder, PostgresDatastore
from psycopg import sql

from benchmarks import pg_writers, projection_workloads
from benchmarks.pg_server import NOT_PROFILABLE, WORKLOAD_NAMES, BenchDatabases
from benchmarks.workloads import (
    AGGREGATE_TYPE,
    EVENTS_PER_AGGREGATE,
    Config,
    EventSpec,
    Failure,
    Fixtures,
    Row,
    check,
    generate,
    median_latency,
    ours_timed,
    progress,
    runs,
    to_ours,
    to_peer,
)
from eventstore.backends.database import COUNTER, DatabaseEventStore
from eventstore.models import PositionCounter, StoredEvent

#: The Django ``DATABASES`` alias that ``EVENTSTORE_TEST_POSTGRES_URL`` adds.
DJANGO_ALIAS = "postgres"
TARGET = "report"


def by_aggregate(specs: Iterable[EventSpec]) -> list[list[EventSpec]]:
    """Group events by aggregate (versions in order), aggregates in order of first event."""
    groups: dict[uuid.UUID, list[EventSpec]] = {}
    for spec in specs:
        groups.setdefault(spec.aggregate_id, []).append(spec)
    return list(groups.values())


class PgStores:
    """Our store and the peer's recorder, each in its own database of the same server.

    Connected on first use. ``holding`` is the ``(aggregates, seed)`` both
    sides were last filled with, so the read and catch-up workloads share one fill.
    """

    def __init__(self, databases: BenchDatabases) -> None:
        self.databases = databases
        self.holding: tuple[int, int] | None = None
        self._store: DatabaseEventStore | None = None
        self._datastore: PostgresDatastore | None = None
        self._recorder: PostgresApplicationRecorder | None = None

    @property
    def store(self) -> DatabaseEventStore:
        """Our store, on a freshly migrated database."""
        if self._store is None:
            progress(f"migrating {self.databases.ours}")
            call_command("migrate", database=DJANGO_ALIAS, verbosity=0, interactive=False)
            self._store = DatabaseEventStore("bench-pg", {"DATABASE": DJANGO_ALIAS})
        return self._store

    @property
    def recorder(self) -> PostgresApplicationRecorder:
        """The peer's recorder (one pooled connection, like Django's one per thread)."""
        if self._recorder is None:
            kwargs = self.databases.connect_kwargs(self.databases.peer)
            self._datastore = PostgresDatastore(**kwargs, pool_size=1)
            self._recorder = PostgresApplicationRecorder(self._datastore)
            self._recorder.create_table()
        return self._recorder

    def empty(self) -> None:
        """Delete every event on both sides; the peer's notification ids restart at 1."""
        self.store.clear()
        table = sql.Identifier(self.recorder.events_table_name)
        with self._datastore.transaction(commit=True) as cursor:
            cursor.execute(sql.SQL("TRUNCATE TABLE {} RESTART IDENTITY").format(table))
        self.holding = None

    def fill(self, aggregates: int, seed: int) -> int:
        """Make both sides hold the ``aggregates`` × 10 generated events; return the count.

        Untimed, so built for speed, with the same rows as one append per
        aggregate: ours gets one aggregate's 10 events per call, 100 calls to a
        transaction (savepoints inside); the peer 10 aggregates (100 events) per
        ``insert_events`` call. Positions and notification ids follow the same
        order, 1..count.
        """
        count = aggregates * EVENTS_PER_AGGREGATE
        if self.holding == (aggregates, seed):
            return count
        self.empty()
        groups = by_aggregate(generate(aggregates, seed))
        store, recorder = self.store, self.recorder
        progress(f"storing {count:,} events on each side (untimed; ours takes most of it)")
        for first in range(0, len(groups), 100):
            with transaction.atomic(using=DJANGO_ALIAS):
                for specs in groups[first : first + 100]:
                    events = [to_ours(spec)[1] for spec in specs]
                    store.append(str(specs[0].aggregate_id), AGGREGATE_TYPE, events, 0)
        for first in range(0, len(groups), 10):
            recorder.insert_events(
                [to_peer(spec) for specs in groups[first : first + 10] for spec in specs]
            )
        check(store.last_position() == count, "PostgreSQL fill: ours is missing events")
        check(recorder.max_notification_id() == count, "PostgreSQL fill: peer is missing events")
        self.holding = (aggregates, seed)
        return count

    def close(self) -> None:
        """Close both sides' connections (the databases are dropped at exit)."""
        if self._datastore is not None:
            self._datastore.close()
        connections[DJANGO_ALIAS].close()


def _stores(fixtures: Fixtures) -> PgStores:
    """The PostgreSQL stores of the run (``run.py`` skips these workloads without them)."""
    if fixtures.postgres is None:
        raise Failure("PostgreSQL is not set up")
    return fixtures.postgres


def _scale(events: int) -> str:
    """``100k``-style size of a store."""
    return f"{events // 1000:,}k"


# -- 10. PostgreSQL append ------------------------------------------------------------------


def pg_append(config: Config, fixtures: Fixtures) -> list[Row]:
    """Append aggregates × 10 events one per call, with the right expected version.

    One run per side into emptied databases, after an untimed warm-up of 200
    events; inputs (ours ``NewEvent``s, the peer's JSON ``StoredEvent``s) are
    built before the timers.
    """
    pg = _stores(fixtures)
    specs = list(generate(config.pg_append_aggregates, config.seed + 20))
    ours_inputs = [to_ours(spec) for spec in specs]
    peer_inputs = [to_peer(spec) for spec in specs]
    pg.empty()
    for aggregate_id, new_event, expected in ours_inputs[:200]:
        pg.store.append(aggregate_id, AGGREGATE_TYPE, [new_event], expected)
    for stored in peer_inputs[:200]:
        pg.recorder.insert_events([stored])
    pg.empty()

    store, recorder = pg.store, pg.recorder
    progress(f"appending {len(specs):,} events on each side")
    with ours_timed():
        start = perf_counter()
        for aggregate_id, new_event, expected in ours_inputs:
            store.append(aggregate_id, AGGREGATE_TYPE, [new_event], expected)
        ours = len(ours_inputs) / (perf_counter() - start)
    start = perf_counter()
    for stored in peer_inputs:
        recorder.insert_events([stored])
    peer = len(peer_inputs) / (perf_counter() - start)

    check(store.last_position() == len(specs), "PostgreSQL append: events missing (ours)")
    check(recorder.max_notification_id() == len(specs), "PostgreSQL append: events missing (peer)")
    sample = str(specs[-1].aggregate_id)
    versions = [record.version for record in store.read_aggregate(sample)]
    check(versions == list(range(1, 11)), f"PostgreSQL append: ours versions {versions}")
    pg.empty()
    label = f"PostgreSQL append, 1 event/call ({len(specs):,} events, events/s)"
    return [Row(label, ours, peer, "/s", TARGET, None)]


# -- 10b. PostgreSQL append from 1, 2, 4 and 8 writer processes ------------------------------


def _empty_ours_for_writers() -> None:
    """Empty our event table (TRUNCATE, as the peer's) and set the position counter to 0."""
    events = connections[DJANGO_ALIAS].ops.quote_name(StoredEvent._meta.db_table)
    counter = connections[DJANGO_ALIAS].ops.quote_name(PositionCounter._meta.db_table)
    with connections[DJANGO_ALIAS].cursor() as cursor:
        cursor.execute(f"TRUNCATE {events}, {counter}")  # noqa: S608  (quoted names)
    PositionCounter.objects.using(DJANGO_ALIAS).create(name=COUNTER, value=0)


def _check_ours_gapless(appends: int, label: str) -> None:
    """Raise :class:`Failure` unless ours holds exactly ``appends`` events, positions
    1..appends, and every aggregate versions 1..k."""
    events = connections[DJANGO_ALIAS].ops.quote_name(StoredEvent._meta.db_table)
    with connections[DJANGO_ALIAS].cursor() as cursor:
        cursor.execute(
            f"SELECT count(*), coalesce(min(position), 0), coalesce(max(position), 0) "  # noqa: S608
            f"FROM {events}"
        )
        count, first, last = cursor.fetchone()
        cursor.execute(
            f"SELECT count(*) FROM (SELECT aggregate_id FROM {events} GROUP BY aggregate_id "  # noqa: S608
            "HAVING min(version) <> 1 OR max(version) <> count(*)) AS broken"
        )
        broken = cursor.fetchone()[0]
    check(count == appends, f"{label}: {count} events stored, the writers made {appends}")
    check(appends == 0 or (first, last) == (1, appends), f"{label}: positions {first}..{last}")
    check(broken == 0, f"{label}: {broken} aggregates with missing or doubled versions")


def pg_writers_workload(config: Config, fixtures: Fixtures) -> list[Row]:
    """Appends per second from 1, 2, 4 and 8 writer processes on their own aggregates.

    See :mod:`benchmarks.pg_writers`. Runs ``repeats`` × levels × 2 sides of
    ``seconds`` each (3 s × 3 repeats in a full run, 1.5 s × 1 in ``--quick``).
    """
    pg = _stores(fixtures)
    quick = config.pg_append_aggregates <= Config.quick(seed=config.seed).pg_append_aggregates
    settings = pg_writers.QUICK if quick else pg_writers.FULL
    pg.store  # noqa: B018  (migrates ours)
    pg.holding = None  # the tables are emptied below
    databases = pg.databases
    peer_kwargs = databases.connect_kwargs(databases.peer)
    datastore = PostgresDatastore(**peer_kwargs, pool_size=1, originator_id_type="text")
    try:
        recorder = PostgresApplicationRecorder(datastore, events_table_name=pg_writers.PEER_TABLE)
        recorder.create_table()

        def empty_peer() -> None:
            table = sql.Identifier(pg_writers.PEER_TABLE)
            with datastore.transaction(commit=True) as cursor:
                cursor.execute(sql.SQL("TRUNCATE TABLE {} RESTART IDENTITY").format(table))

        progress(f"starting {max(pg_writers.LEVELS)} writer processes (spawn)")
        writers = pg_writers.Writers(
            max(pg_writers.LEVELS), databases.url(databases.ours), peer_kwargs, config.seed
        )
        samples: dict[tuple[str, int], list[float]] = {}
        try:
            for repeat in range(settings.repeats):
                for number, level in enumerate(pg_writers.LEVELS):
                    sides = ("ours", "peer") if (repeat + number) % 2 == 0 else ("peer", "ours")
                    for side in sides:
                        dbname = databases.ours if side == "ours" else databases.peer
                        if side == "ours":
                            _empty_ours_for_writers()
                        else:
                            empty_peer()
                        sampler = pg_writers.ActivitySampler(databases.admin_url, dbname)
                        with sampler:
                            rate, appends, exhausted = writers.run(side, level, settings.seconds)
                        label = f"PostgreSQL {level} writers ({side}, run {repeat + 1})"
                        check(not exhausted, f"{label}: a writer ran out of prepared events")
                        if side == "ours":
                            _check_ours_gapless(appends, label)
                        else:
                            stored = recorder.max_notification_id() or 0
                            check(stored == appends, f"{label}: {stored} stored of {appends}")
                        samples.setdefault((side, level), []).append(rate)
                        progress(f"{label}: {rate:,.0f}/s; backends: {sampler.summary()}")
        finally:
            writers.stop()
        _empty_ours_for_writers()
        empty_peer()
    finally:
        datastore.close()
    ours, peer = pg_writers.medians(samples, "ours"), pg_writers.medians(samples, "peer")
    rows = []
    previous: float | None = None
    for level in pg_writers.LEVELS:
        if previous is None:
            target, met = "≥ 1× peer", ours[level] >= peer[level]
        elif level == 2:
            target = "≥ 1× peer, > 1 writer"
            met = ours[level] >= peer[level] and ours[level] > previous
        else:
            target = f"≥ 1× peer, ≥ {level // 2} writers"
            met = ours[level] >= peer[level] and ours[level] >= previous
        label = (
            f"PostgreSQL append, {level} writer process{'es' if level > 1 else ''}, "
            "1 event/call (appends/s)"
        )
        rows.append(Row(label, ours[level], peer[level], "/s", target, met))
        previous = ours[level]
    return rows


# -- 11. PostgreSQL read one aggregate ------------------------------------------------------


def pg_read_aggregate(config: Config, fixtures: Fixtures) -> list[Row]:
    """Median latency of reading one 10-event aggregate among ``pg_stored_aggregates`` × 10."""
    pg = _stores(fixtures)
    events = pg.fill(config.pg_stored_aggregates, config.seed + 21)
    rng = random.Random(config.seed + 22)  # noqa: S311  (benchmark sampling)
    groups = by_aggregate(generate(config.pg_stored_aggregates, config.seed + 21))
    uuids = [group[0].aggregate_id for group in rng.sample(groups, config.pg_read_samples)]
    ids = [str(aggregate_uuid) for aggregate_uuid in uuids]
    check(len(pg.store.read_aggregate(ids[0])) == 10, "PostgreSQL read: ours did not return 10")
    check(len(pg.recorder.select_events(uuids[0])) == 10, "PostgreSQL read: peer did not return 10")
    ours = median_latency(pg.store.read_aggregate, ids, runs(config), ours=True)
    peer = median_latency(pg.recorder.select_events, uuids, runs(config))
    label = f"PostgreSQL read aggregate (10 events) @ {_scale(events)} events"
    return [Row(label, ours, peer, "s", TARGET, None)]


# -- 12. PostgreSQL catch-up page -----------------------------------------------------------


def pg_catch_up(config: Config, fixtures: Fixtures) -> list[Row]:
    """Read a page of 1,000 events after a random position of the filled store."""
    pg = _stores(fixtures)
    events = pg.fill(config.pg_stored_aggregates, config.seed + 21)
    rng = random.Random(config.seed + 23)  # noqa: S311  (benchmark sampling)
    positions = [rng.randint(0, events - 1_000) for _ in range(config.pg_catch_up_pages)]
    ours_page = pg.store.read_all(after_position=positions[0], limit=1_000)
    peer_page = pg.recorder.select_notifications(start=positions[0] + 1, limit=1_000)
    check(ours_page[0].position == peer_page[0].id == positions[0] + 1, "PG catch-up: wrong start")
    check(len(ours_page) == len(peer_page) == 1_000, "PostgreSQL catch-up: short page")
    check(
        [str(record.event_id) for record in ours_page[:10]]
        == [json_event_id(notification.state) for notification in peer_page[:10]],
        "PostgreSQL catch-up: ours and peer pages hold different events",
    )
    ours = median_latency(
        lambda p: pg.store.read_all(after_position=p, limit=1_000),
        positions,
        runs(config),
        ours=True,
    )
    peer = median_latency(
        lambda p: pg.recorder.select_notifications(start=p + 1, limit=1_000),
        positions,
        runs(config),
    )
    label = f"PostgreSQL catch-up page of 1,000 after a position @ {_scale(events)} events"
    return [Row(label, ours, peer, "s", TARGET, None)]


def json_event_id(state: bytes) -> str:
    """The event id inside the peer's JSON ``state``."""
    return json.loads(state)["event_id"]


#: The PostgreSQL workloads in table order (after those of ``benchmarks.workloads``).
WORKLOADS = {
    "pg_append": pg_append,
    "pg_writers": pg_writers_workload,
    "pg_read_aggregate": pg_read_aggregate,
    "pg_catch_up": pg_catch_up,
    **projection_workloads.PG_WORKLOADS,
}
assert tuple(WORKLOADS) == WORKLOAD_NAMES
#: These time our code in the calling thread, so ``--profile`` can see it (not the daemon's lag).
PROFILABLE = tuple(
    name
    for name in WORKLOAD_NAMES
    if name not in NOT_PROFILABLE
    and (name not in projection_workloads.PG_WORKLOADS or name in projection_workloads.PROFILABLE)
)
