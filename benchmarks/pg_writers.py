"""PostgreSQL appends from several writer processes at once, ours against eventsourcing's.

One row per level of 1, 2, 4 and 8 writers. The writers are separate OS
processes (``multiprocessing``, spawn), started once for the whole workload;
each has our :class:`~eventstore.backends.database.DatabaseEventStore` on the
run's "ours" database and eventsourcing's ``PostgresApplicationRecorder`` on
the "peer" database (text originator ids, its own table
:data:`PEER_TABLE`), both on the same server (``benchmarks.pg_server``).

Every writer appends to its own aggregates (string ids ``payment-<writer>-<n>``,
10 events each, interleaved at random), one event per append with the right
expected version, for a bounded time; the rate of a level is all the appends
of its writers over the time from the common start to the last writer's last
commit. Ours is timed through the public ``append`` (validation and encoding
inside the timer); the peer is given its ``StoredEvent`` objects, JSON already
made, and only ``insert_events`` is timed. The sides alternate (which one goes
first changes with each level and repeat), each into emptied tables; the row
gives the median of the repeats.

After each of our runs the history is checked: as many events as the writers
reported appending, positions exactly 1..n (gapless), and each aggregate's
versions exactly 1..k. While each run goes on, the main process samples
``pg_stat_activity`` for the run's database every ~20 ms and reports, on
stderr, what the writers' backends were doing (running, waiting on a lock,
idle in transaction, or idle: waiting for the client).

The worker side (:func:`writer_main`) runs in the spawned processes: this module
imports nothing from Django or the project at module level.
"""

from __future__ import annotations

import collections
import json
import multiprocessing
import statistics
import threading
import time
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import Any

#: Writer processes per level.
LEVELS = (1, 2, 4, 8)
#: The peer's events table (text originator ids), in the peer's database.
PEER_TABLE = "writer_events"
#: Events prepared per writer and side; a writer that runs out stops early (reported).
EVENTS_PER_WRITER = 30_000
#: Appends of each writer on each side before the first run (untimed).
WARM_UP = 50


@dataclass(frozen=True)
class Settings:
    """What a run of this workload does: timed seconds per run and repeats per level and side."""

    seconds: float
    repeats: int


FULL = Settings(seconds=3.0, repeats=3)
QUICK = Settings(seconds=1.5, repeats=1)


# -- the writer processes ------------------------------------------------------------------


def writer_main(
    index: int, connection: Connection, ours_url: str, peer_kwargs: dict[str, Any], seed: int
) -> None:
    """Run one writer process: prepare, warm up, then serve ``run`` orders until ``stop``.

    Orders on ``connection``: ``("run", side, start_at, stop_at)`` with ``side``
    ``"ours"`` or ``"peer"`` and wall-clock times (``time.time()``); the writer
    sleeps until ``start_at``, appends until ``stop_at``, then answers
    ``(appends, end_time, exhausted)``. ``("stop",)`` ends the process. The
    first message it sends is ``"ready"``, or ``("error", text)``.
    """
    try:
        append_ours, append_peer = _prepare_writer(index, ours_url, peer_kwargs, seed)
        connection.send("ready")
        while True:
            order = connection.recv()
            if order[0] == "stop":
                return
            _, side, start_at, stop_at = order
            append = append_ours if side == "ours" else append_peer
            delay = start_at - time.time()
            if delay > 0:
                time.sleep(delay)
            connection.send(append(stop_at))
    except BaseException as exc:  # reported to the main process, which fails the row
        connection.send(("error", f"writer {index}: {type(exc).__name__}: {exc}"))
        raise


def _prepare_writer(
    index: int, ours_url: str, peer_kwargs: dict[str, Any], seed: int
) -> tuple[Any, Any]:
    """Set up Django and the peer in this process; return the two timed append loops."""
    from benchmarks.run import setup_django

    setup_django(ours_url)
    from eventsourcing.persistence import StoredEvent
    from eventsourcing.postgres import PostgresApplicationRecorder, PostgresDatastore

    from benchmarks.pg_workloads import DJANGO_ALIAS
    from benchmarks.workloads import AGGREGATE_TYPE, TOPICS, generate
    from eventstore.backends.database import DatabaseEventStore
    from eventstore.records import NewEvent

    names: dict[Any, str] = {}
    ours_inputs, peer_inputs = [], []
    for spec in generate(EVENTS_PER_WRITER // 10, seed + 100 + index):
        name = names.setdefault(spec.aggregate_id, f"payment-{index}-{len(names)}")
        ours_inputs.append(
            (
                name,
                NewEvent(
                    event_type=spec.event_type,
                    data=spec.data,
                    event_id=spec.event_id,
                    metadata=spec.metadata,
                    correlation_id=spec.correlation_id,
                    causation_id=spec.causation_id,
                    timestamp=spec.timestamp,
                ),
                spec.version - 1,
            )
        )
        state = {
            "event_id": str(spec.event_id),
            "timestamp": spec.timestamp.isoformat(),
            "correlation_id": spec.correlation_id,
            "causation_id": spec.causation_id,
            "metadata": spec.metadata,
            "data": spec.data,
        }
        peer_inputs.append(
            StoredEvent(
                originator_id=name,
                originator_version=spec.version,
                topic=TOPICS[spec.event_type],
                state=json.dumps(state, separators=(",", ":")).encode(),
            )
        )
    store = DatabaseEventStore("bench-pg-writers", {"DATABASE": DJANGO_ALIAS})
    datastore = PostgresDatastore(**peer_kwargs, pool_size=1, originator_id_type="text")
    recorder = PostgresApplicationRecorder(datastore, events_table_name=PEER_TABLE)

    # Warm-up on aggregates of their own ("warm-<writer>-<n>"); emptied before each run.
    for number in range(WARM_UP):
        warm = f"warm-{index}-{number}"
        _, event, _ = ours_inputs[number]
        store.append(warm, AGGREGATE_TYPE, [NewEvent(event.event_type, event.data)], 0)
        peer = peer_inputs[number]
        recorder.insert_events([StoredEvent(warm, 1, peer.topic, peer.state)])

    def append_ours(stop_at: float) -> tuple[int, float, bool]:
        done = 0
        for aggregate_id, event, expected in ours_inputs:
            if time.time() >= stop_at:
                break
            store.append(aggregate_id, AGGREGATE_TYPE, [event], expected)
            done += 1
        return done, time.time(), done == len(ours_inputs)

    def append_peer(stop_at: float) -> tuple[int, float, bool]:
        done = 0
        for stored in peer_inputs:
            if time.time() >= stop_at:
                break
            recorder.insert_events([stored])
            done += 1
        return done, time.time(), done == len(peer_inputs)

    return append_ours, append_peer


# -- the main process ----------------------------------------------------------------------


class Writers:
    """``count`` writer processes, started and ready; ``stop()`` ends them."""

    def __init__(self, count: int, ours_url: str, peer_kwargs: dict[str, Any], seed: int) -> None:
        context = multiprocessing.get_context("spawn")
        self.pipes: list[Connection] = []
        self.processes = []
        for index in range(count):
            mine, theirs = context.Pipe()
            process = context.Process(
                target=writer_main,
                args=(index, theirs, ours_url, peer_kwargs, seed),
                name=f"pg-writer-{index}",
                daemon=True,
            )
            process.start()
            self.pipes.append(mine)
            self.processes.append(process)
        try:
            for pipe in self.pipes:
                self._expect(pipe.recv() if pipe.poll(180) else ("error", "no answer in 180 s"))
        except BaseException:
            self.stop()
            raise

    @staticmethod
    def _expect(answer: Any) -> Any:
        if isinstance(answer, tuple) and answer and answer[0] == "error":
            from benchmarks.workloads import Failure

            raise Failure(str(answer[1]))
        return answer

    def run(self, side: str, level: int, seconds: float) -> tuple[float, int, bool]:
        """Let the first ``level`` writers append on ``side`` for ``seconds``.

        Returns:
            ``(appends per second, appends, whether a writer ran out of events)``.
        """
        start_at = time.time() + 0.3
        stop_at = start_at + seconds
        for pipe in self.pipes[:level]:
            pipe.send(("run", side, start_at, stop_at))
        answers = [
            self._expect(pipe.recv() if pipe.poll(seconds + 120) else ("error", "timed out"))
            for pipe in self.pipes[:level]
        ]
        appends = sum(answer[0] for answer in answers)
        end = max(answer[1] for answer in answers)
        return appends / (end - start_at), appends, any(answer[2] for answer in answers)

    def stop(self) -> None:
        """Ask every writer to stop, then wait for them (kill one that does not stop)."""
        for pipe in self.pipes:
            try:
                pipe.send(("stop",))
            except OSError:
                pass
        for process in self.processes:
            process.join(10)
            if process.is_alive():
                process.kill()
                process.join()


class ActivitySampler:
    """Samples what the backends of one database do, in a thread, while it runs.

    ``with sampler:`` around a timed run; :meth:`summary` then gives the share
    of samples in each state: ``running``, ``lock`` (waiting on a lock: the
    position counter's row on our side, the table lock on the peer's),
    ``idle in transaction``, ``client`` (idle, waiting for its writer), ``other``
    (another wait: I/O, WAL, …).
    """

    def __init__(self, admin_url: str, dbname: str, interval: float = 0.02) -> None:
        self.admin_url = admin_url
        self.dbname = dbname
        self.interval = interval
        self.counts: collections.Counter[str] = collections.Counter()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def __enter__(self) -> ActivitySampler:
        self.counts.clear()
        self._stop.clear()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()

    def _sample(self) -> None:
        import psycopg

        query = (
            "SELECT state, wait_event_type, wait_event FROM pg_stat_activity "
            "WHERE datname = %s AND pid <> pg_backend_pid() AND backend_type = 'client backend'"
        )
        with psycopg.connect(self.admin_url, autocommit=True) as connection:
            while not self._stop.wait(self.interval):
                for state, wait_type, wait_event in connection.execute(query, [self.dbname]):
                    self.counts[_classify(state, wait_type, wait_event)] += 1

    def summary(self) -> str:
        """``running 40%, lock 35%, …`` over the samples taken (``no samples`` if none)."""
        total = sum(self.counts.values())
        if not total:
            return "no samples"
        return ", ".join(
            f"{name} {count * 100 / total:.0f}%" for name, count in self.counts.most_common()
        )


def _classify(state: str | None, wait_type: str | None, wait_event: str | None) -> str:
    if state == "idle":
        return "client"
    if state == "idle in transaction":
        return "idle in transaction"
    if wait_type is None:
        return "running"
    if wait_type == "Lock":
        return f"lock ({wait_event})"
    if wait_type == "Client":
        return "client"
    return f"{wait_type}:{wait_event}"


def medians(samples: dict[tuple[str, int], list[float]], side: str) -> dict[int, float]:
    """The median rate of ``side`` at each level."""
    return {level: statistics.median(samples[side, level]) for level in LEVELS}
