"""Memory of one store in a fresh process: run by the ``memory`` workload as a subprocess.

Usage: ``python -m benchmarks.memory_probe ours|peer AGGREGATES SEED rss|trace``
(from the repository root). Fills our ``InMemoryEventStore`` or the peer's
``POPOApplicationRecorder`` with ``AGGREGATES`` × 10 generated payment events
(one per append, as the append workload does) and prints one JSON object:
``{"events": n, "bytes_per_event": b}``.

- ``rss``: growth of the process's resident memory (``/proc/self/statm``) from
  just before the first append to just after the last (after a full GC), over
  the event count: what the store really costs the machine, allocator
  fragmentation and freed-but-kept pages included.
- ``trace``: bytes still allocated once the store is filled, by tracemalloc
  (what Python objects hold, without the allocator's own overhead).

A fresh process, so nothing built before (other stores, freed pages) hides or
adds to the figure. The event generator is started before the first reading,
so its own lists are not counted.
"""

from __future__ import annotations

import gc
import itertools
import json
import os
import sys
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def resident_bytes() -> int:
    """The process's resident set size in bytes (Linux ``/proc/self/statm``)."""
    with open("/proc/self/statm", encoding="ascii") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def main(argv: list[str]) -> int:
    """Fill one side's store and print its bytes per event (see the module)."""
    side, aggregates, seed, mode = argv[0], int(argv[1]), int(argv[2]), argv[3]
    from benchmarks.run import setup_django

    setup_django()
    from eventsourcing.popo import POPOApplicationRecorder

    from benchmarks import workloads

    specs = workloads.generate(aggregates, seed)
    first = next(specs)
    everything = itertools.chain([first], specs)
    store: object
    if side == "ours":
        store = workloads.fresh_store("bench-memory-probe")
        fill = workloads.fill_ours
    else:
        store = POPOApplicationRecorder()
        fill = workloads.fill_peer
    gc.collect()
    if mode == "trace":
        tracemalloc.start()
        fill(store, everything)  # type: ignore[arg-type]
        gc.collect()
        used, _peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    else:
        before = resident_bytes()
        fill(store, everything)  # type: ignore[arg-type]
        gc.collect()
        used = resident_bytes() - before
    events = aggregates * workloads.EVENTS_PER_AGGREGATE
    print(json.dumps({"events": events, "bytes_per_event": used / events}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
