"""Benchmark our in-memory event store against the ``eventsourcing`` library's POPO recorder.

Runs the same seeded, payment-like workload on
``eventstore.backends.memory.InMemoryEventStore`` and on
``eventsourcing.popo.POPOApplicationRecorder`` (the "peer"), then prints one
markdown table: workload | ours | peer | ratio | target | met?. The workloads
live in ``benchmarks/workloads.py``; progress goes to stderr, the table to stdout.

The table ends with PostgreSQL rows (``benchmarks/pg_workloads.py``): our
``DatabaseEventStore`` against eventsourcing's ``PostgresApplicationRecorder``,
each in its own fresh database on the same server, created at start and
dropped at exit (``benchmarks/pg_server.py``). They are skipped, with a note
under the table, under ``--skip-postgres`` or when the server does not answer.

The projection rows (``benchmarks/projection_workloads.py``) time the
``payments.summary`` projection: catch-up and rebuild over a 100k-event
payment history on the memory store (view on SQLite) and on PostgreSQL, and
the lag of the daemon runner (a subprocess) behind appends on PostgreSQL.
They have no peer.

Usage (from the repository root, with the ``bench`` extras installed)::

    .venv/bin/python benchmarks/run.py                    # full run, ~12 min on 2 cores
    .venv/bin/python benchmarks/run.py --quick            # small run, ~2 min (no 1M store)
    .venv/bin/python benchmarks/run.py --only append,threads
    .venv/bin/python benchmarks/run.py --only projection_catch_up,pg_projection_lag
    .venv/bin/python benchmarks/run.py --profile command_path   # pyinstrument report
    .venv/bin/python benchmarks/run.py --skip-postgres    # memory rows only
    .venv/bin/python benchmarks/run.py --postgres-url postgres://user:pw@host:5432/postgres

Django runs with ``DEBUG`` off and a throw-away SQLite database (for the HTTP
workload's user and token); the repository's ``db.sqlite3`` is never touched.
"""

from __future__ import annotations

import argparse
import atexit
import math
import os
import platform
import shutil
import sys
import tempfile
from dataclasses import replace
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path
from time import perf_counter
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

if TYPE_CHECKING:
    from benchmarks.pg_server import BenchDatabases

REPO_ROOT = Path(__file__).resolve().parent.parent


def add_repo_to_path() -> None:
    """Make the repository's packages (``benchmarks``, ``eventstore``…) importable."""
    if str(REPO_ROOT) not in sys.path:
        sys.path.insert(0, str(REPO_ROOT))


def setup_django(postgres_url: str | None = None) -> None:
    """Set up Django (``gyroscops.settings``, DEBUG off) on a temporary SQLite file.

    With ``postgres_url``, the settings also get the ``"postgres"`` alias on that
    database (through ``EVENTSTORE_TEST_POSTGRES_URL``, read only at setup).
    """
    add_repo_to_path()
    if postgres_url is not None:
        os.environ["EVENTSTORE_TEST_POSTGRES_URL"] = postgres_url
    directory = tempfile.mkdtemp(prefix="gyroscops-bench-")
    atexit.register(shutil.rmtree, directory, True)
    os.environ["DJANGO_SQLITE_PATH"] = str(Path(directory) / "bench.sqlite3")
    os.environ["DJANGO_DEBUG"] = "0"
    # The site refuses DEBUG off without a key; the benchmark's processes share this one.
    os.environ.setdefault("DJANGO_SECRET_KEY", "benchmark-only-key-" + "x" * 40)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gyroscops.settings")
    import django

    django.setup()


def cpu_model() -> str:
    """Return the CPU model name from ``/proc/cpuinfo``, or ``platform.processor()``."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def machine_info(mode: str, postgres_version: str | None = None) -> str:
    """Return the header line: Python, CPU, nproc, OS, library versions, date and mode."""
    if hasattr(os, "sched_getaffinity"):
        nproc = len(os.sched_getaffinity(0))
    else:
        nproc = os.cpu_count()
    processor = platform.processor() or platform.machine()
    return (
        f"Python {platform.python_version()} ({platform.python_implementation()}) · "
        f"CPU {cpu_model()} ({processor}) · nproc {nproc} · "
        f"{platform.system()} {platform.release()} · Django {version('django')} · "
        f"eventsourcing {version('eventsourcing')} · "
        + (f"PostgreSQL {postgres_version} · " if postgres_version else "")
        + f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC · {mode} run"
        + load_average()
    )


def load_average() -> str:
    """Return `` · load 1.02 0.87 0.55`` (1, 5, 15 minutes), or "" where the OS has none."""
    try:
        one, five, fifteen = os.getloadavg()
    except (AttributeError, OSError):
        return ""
    return f" · load {one:.2f} {five:.2f} {fifteen:.2f}"


def format_value(value: float | None, unit: str) -> str:
    """Render a result in its unit: rates, durations, bytes per event or factors."""
    if value is None or math.isnan(value):
        return "—"
    if unit == "/s":
        return f"{value:,.0f}/s"
    if unit == "B":
        return f"{value:,.0f} B"
    if unit == "x":
        return f"{value:.2f}×"
    if unit == "n":  # a count (SQL statements)
        return f"{value:,.0f}"
    if value < 1e-3:
        return f"{value * 1e6:,.2f} µs"
    if value < 1:
        return f"{value * 1e3:,.2f} ms"
    return f"{value:,.2f} s"


def render_table(rows: list[Any]) -> str:
    """Return the markdown table of ``rows`` (:class:`benchmarks.workloads.Row`)."""
    lines = [
        "| workload | ours | peer | ratio (>1 = ours better) | target | met? |",
        "|---|---:|---:|---:|---|:---:|",
    ]
    for row in rows:
        ratio = row.ratio
        met = "—" if row.met is None else ("yes" if row.met else "**no**")
        lines.append(
            f"| {row.workload} | {format_value(row.ours, row.unit)} | "
            f"{format_value(row.peer, row.unit)} | "
            f"{'—' if ratio is None else f'{ratio:,.2f}×'} | {row.target} | {met} |"
        )
    return "\n".join(lines)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Parse the command line (workload names come from ``benchmarks.workloads``)."""
    add_repo_to_path()
    from benchmarks.pg_server import DEFAULT_URL

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small run, about a minute")
    parser.add_argument(
        "--only", metavar="NAME[,NAME]", help="run only these workloads (comma-separated)"
    )
    parser.add_argument(
        "--profile",
        metavar="NAME",
        help="run one workload with our timed code under pyinstrument; print its report",
    )
    parser.add_argument("--seed", type=int, default=42, help="seed of the generated events")
    parser.add_argument(
        "--skip-postgres", action="store_true", help="leave out the PostgreSQL rows"
    )
    parser.add_argument(
        "--postgres-url",
        metavar="URL",
        default=DEFAULT_URL,
        help="maintenance database of the PostgreSQL server, where the run creates "
        "and drops its two databases (default: %(default)s)",
    )
    return parser.parse_args(argv)


def wants_postgres(args: argparse.Namespace, names: tuple[str, ...]) -> bool:
    """Whether the command line selects a PostgreSQL workload (``names``)."""
    if args.profile:
        return args.profile in names
    if args.only:
        return any(name.strip() in names for name in args.only.split(","))
    return True


def prepare_postgres(args: argparse.Namespace) -> tuple[BenchDatabases | None, str | None]:
    """Create the run's PostgreSQL databases if wanted: ``(databases or None, skip note)``.

    The note (None when nothing is skipped) goes under the table and to stderr.
    """
    from benchmarks import pg_server

    if not wants_postgres(args, pg_server.WORKLOAD_NAMES):
        return None, None
    if args.skip_postgres:
        return None, "PostgreSQL rows skipped (--skip-postgres)."
    import psycopg

    try:
        return pg_server.create_databases(args.postgres_url), None
    except psycopg.Error as exc:
        parts = urlsplit(args.postgres_url)
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        where = f"{parts.hostname}:{parts.port or 5432}/{parts.path.lstrip('/')}"
        return None, f"PostgreSQL rows skipped: PostgreSQL at {where} unavailable ({reason})."


def main(argv: list[str] | None = None) -> int:
    """Run the selected workloads and print the table (or the profile); return the exit code."""
    args = parse_args(argv)
    databases, postgres_note = prepare_postgres(args)
    setup_django(databases.url(databases.ours) if databases else None)
    from benchmarks import http_workloads, pg_server, projection_workloads, workloads

    # Name -> workload in table order: the memory workloads (the projection ones last),
    # then PostgreSQL's if set up.
    registry = {
        **workloads.WORKLOADS,
        **projection_workloads.WORKLOADS,
        **http_workloads.WORKLOADS,
    }
    pg_stores = None
    if databases is not None:
        try:
            from benchmarks import pg_workloads
        except ImportError as exc:
            postgres_note = (
                f"PostgreSQL rows skipped: {exc} (install the extras: pip install -e '.[bench]')."
            )
        else:
            registry.update(pg_workloads.WORKLOADS)
            pg_stores = pg_workloads.PgStores(databases)
    known = [
        *workloads.WORKLOADS,
        *projection_workloads.WORKLOADS,
        *http_workloads.WORKLOADS,
        *pg_server.WORKLOAD_NAMES,
    ]
    profilable = (  # the daemon lag's work is in the daemon's process: not profilable
        *workloads.PROFILABLE,
        *(
            name
            for name in pg_server.WORKLOAD_NAMES
            if name not in projection_workloads.PG_WORKLOADS
            and name not in pg_server.NOT_PROFILABLE
        ),
        *projection_workloads.PROFILABLE,
    )
    if postgres_note:
        print(postgres_note, file=sys.stderr)

    config = (
        workloads.Config.quick(seed=args.seed) if args.quick else workloads.Config(seed=args.seed)
    )
    if args.profile:
        if args.profile not in profilable:
            print(f"--profile takes one of: {', '.join(profilable)}", file=sys.stderr)
            return 2
        if args.profile not in registry:
            return 2  # a PostgreSQL workload without PostgreSQL: the note says why
        from pyinstrument import Profiler

        workloads.PROFILER = Profiler(interval=0.0002)
        config = replace(config, profiling=True)
        selected = [args.profile]
    elif args.only:
        selected = [name.strip() for name in args.only.split(",") if name.strip()]
        unknown = sorted(set(selected) - set(known))
        if unknown:
            print(f"Unknown workload(s) {', '.join(unknown)}; known: ", file=sys.stderr, end="")
            print(", ".join(known), file=sys.stderr)
            return 2
    else:
        selected = known

    header = machine_info(
        "quick" if args.quick else "full", databases.server_version if pg_stores else None
    )
    print(header, file=sys.stderr)
    fixtures = workloads.Fixtures(config, postgres=pg_stores)
    results: dict[str, list[Any]] = {}
    failed = False
    run_order = (
        *workloads.RUN_ORDER,
        *projection_workloads.RUN_ORDER,
        *http_workloads.RUN_ORDER,
        *pg_server.WORKLOAD_NAMES,
    )
    order = [name for name in run_order if name in selected and name in registry]
    try:
        for index, name in enumerate(order):
            print(f"{name}:", file=sys.stderr, flush=True)
            start = perf_counter()
            try:
                results[name] = registry[name](config, fixtures)
            except workloads.Failure as exc:
                failed = True
                print(f"  FAILED: {exc}", file=sys.stderr)
                failure = workloads.Row(f"{name}: FAILED ({exc})", math.nan, None, "x", "—", False)
                results[name] = [failure]
            print(f"  done in {perf_counter() - start:.1f} s", file=sys.stderr, flush=True)
            later = order[index + 1 :]
            for fixture in ("main", "big"):
                if not any(fixture in workloads.NEEDS.get(other, ()) for other in later):
                    fixtures.release(fixture)
    finally:
        if pg_stores is not None:
            pg_stores.close()

    if args.profile:
        profiler = workloads.PROFILER
        print(f"Profile of our timed code in '{args.profile}' (timings inflated by profiling)")
        print(profiler.output_text(unicode=True, color=False))
        return 1 if failed else 0

    rows = [row for name in registry if name in results for row in results[name]]
    print(header)
    print()
    print(render_table(rows))
    print()
    print(f"At the end:{load_average().removeprefix(' ·')}.")
    print()
    print(
        "ratio: ours/peer for rates, peer/ours for times and bytes (>1: ours better). "
        "peer: eventsourcing POPOApplicationRecorder (HTTP rows: a DRF echo view with the "
        "same token authentication, or a bare Django JSON view, on the same gunicorn "
        "server, interleaved; benchmarks/http_workloads.py). Times: median of several runs "
        "of the mean over a batch of calls. Inputs are built before the timers."
    )
    if any(name in results for name in pg_server.WORKLOAD_NAMES):
        print()
        print(
            "PostgreSQL rows: ours is DatabaseEventStore (Django ORM), the peer eventsourcing's "
            "PostgresApplicationRecorder, each in its own fresh database on the same server; "
            "one transaction per append on both sides. No targets: the rows report. The "
            "memory backend's figures for the same workloads are the rows 'append, 1 "
            "event/call', 'read aggregate (10 events) @ 100k events' and 'catch-up page' above."
        )
    if "pg_writers" in results:
        print()
        print(
            "PostgreSQL writer-process rows (benchmarks/pg_writers.py): N spawned processes "
            "append to their own aggregates (string ids on both sides), one event per "
            "append, for a bounded time; rate = all appends / (last commit - start). Ours: "
            "the public append (validation, encoding, expected version); peer: "
            "insert_events of StoredEvents made before the timer (text originator ids). "
            "Sides alternate, each into emptied tables; median of the repeats; ours' "
            "positions checked gapless after each run."
        )
    projection_names = (*projection_workloads.WORKLOADS, *projection_workloads.PG_WORKLOADS)
    if any(name in results for name in projection_names):
        print()
        print(
            "Projection rows (benchmarks/projection_workloads.py): payments.summary over "
            "seeded payment events (processed, partial and full refunds, failed attempts; "
            "streams interleaved), default batch of 500 events per transaction. Catch-up: "
            "runner.catch_up from position 0 (view and checkpoint emptied first), events "
            "applied per second; rebuild: runner.rebuild of a caught-up view (reset and "
            "replay in one transaction). Memory rows: InMemoryEventStore, view and "
            "checkpoint in the run's SQLite file, median of several runs; PostgreSQL rows: "
            "DatabaseEventStore, view and checkpoint in the same fresh database, one run. "
            "Lag: 'manage.py eventstore_projections run' in a subprocess (LISTEN/NOTIFY), "
            "time from an append's commit in this process to its row read by a thread "
            "polling the view every ~1 ms. No peer: eventsourcing.projection has no "
            "payment summary, and writing one (its own view table and tracking, its own "
            "events, per-event commits) would be another projection, not the same work."
        )
    if postgres_note:
        print()
        print(postgres_note)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
