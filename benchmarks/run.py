"""Benchmark our in-memory event store against the ``eventsourcing`` library's POPO recorder.

Runs the same seeded, payment-like workload on
``eventstore.backends.memory.InMemoryEventStore`` and on
``eventsourcing.popo.POPOApplicationRecorder`` (the "peer"), then prints one
markdown table: workload | ours | peer | ratio | target | met?. The workloads
live in ``benchmarks/workloads.py``; progress goes to stderr, the table to stdout.

Usage (from the repository root, with the ``bench`` extras installed)::

    .venv/bin/python benchmarks/run.py                    # full run, ~4 min on 2 cores
    .venv/bin/python benchmarks/run.py --quick            # small run, < 1 min (no 1M store)
    .venv/bin/python benchmarks/run.py --only append,threads
    .venv/bin/python benchmarks/run.py --profile command_path   # pyinstrument report

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
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent


def setup_django() -> None:
    """Set up Django (``gyroscops.settings``, DEBUG off) on a temporary SQLite file."""
    if str(REPO_ROOT) not in sys.path:
        sys.path.insert(0, str(REPO_ROOT))
    directory = tempfile.mkdtemp(prefix="gyroscops-bench-")
    atexit.register(shutil.rmtree, directory, True)
    os.environ["DJANGO_SQLITE_PATH"] = str(Path(directory) / "bench.sqlite3")
    os.environ["DJANGO_DEBUG"] = "0"
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


def machine_info(mode: str) -> str:
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
        f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC · {mode} run"
    )


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
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small run, under a minute")
    parser.add_argument(
        "--only", metavar="NAME[,NAME]", help="run only these workloads (comma-separated)"
    )
    parser.add_argument(
        "--profile",
        metavar="NAME",
        help="run one workload with our timed code under pyinstrument; print its report",
    )
    parser.add_argument("--seed", type=int, default=42, help="seed of the generated events")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Run the selected workloads and print the table (or the profile); return the exit code."""
    args = parse_args(argv)
    setup_django()
    from benchmarks import workloads

    config = (
        workloads.Config.quick(seed=args.seed) if args.quick else workloads.Config(seed=args.seed)
    )
    if args.profile:
        if args.profile not in workloads.PROFILABLE:
            print(f"--profile takes one of: {', '.join(workloads.PROFILABLE)}", file=sys.stderr)
            return 2
        from pyinstrument import Profiler

        workloads.PROFILER = Profiler(interval=0.0002)
        config = replace(config, profiling=True)
        selected = [args.profile]
    elif args.only:
        selected = [name.strip() for name in args.only.split(",") if name.strip()]
        unknown = sorted(set(selected) - set(workloads.WORKLOADS))
        if unknown:
            print(f"Unknown workload(s) {', '.join(unknown)}; known: ", file=sys.stderr, end="")
            print(", ".join(workloads.WORKLOADS), file=sys.stderr)
            return 2
    else:
        selected = list(workloads.WORKLOADS)

    header = machine_info("quick" if args.quick else "full")
    print(header, file=sys.stderr)
    fixtures = workloads.Fixtures(config)
    results: dict[str, list[Any]] = {}
    failed = False
    order = [name for name in workloads.RUN_ORDER if name in selected]
    for index, name in enumerate(order):
        print(f"{name}:", file=sys.stderr, flush=True)
        start = perf_counter()
        try:
            results[name] = workloads.WORKLOADS[name](config, fixtures)
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

    if args.profile:
        profiler = workloads.PROFILER
        print(f"Profile of our timed code in '{args.profile}' (timings inflated by profiling)")
        print(profiler.output_text(unicode=True, color=False))
        return 1 if failed else 0

    rows = [row for name in workloads.WORKLOADS if name in results for row in results[name]]
    print(header)
    print()
    print(render_table(rows))
    print()
    print(
        "ratio: ours/peer for rates, peer/ours for times and bytes (>1: ours better). "
        "peer: eventsourcing POPOApplicationRecorder (HTTP row: a bare Django JSON view "
        "on the same server). Times: median of several runs of the mean over a batch of "
        "calls. Inputs are built before the timers."
    )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
