"""What the hash chain costs per event on the memory append: with it, and with it stubbed out.

``python benchmarks/chain_cost.py [--events N] [--repeats R]``

Appends N payment-like events (one per append, the usual case, then in
batches of 10) to a fresh memory store, R times each way, alternating; the
"without" runs replace the backend's body digest and link functions by ones
returning a constant (what the append cost before the chain). Prints the
median µs per event of each and the difference.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
import uuid
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")


def run(events: list[Any], batch: int, stubbed: bool) -> float:
    """Return µs per event of appending ``events`` (``(aggregate, NewEvent)``) in batches."""
    from benchmarks.workloads import chain_off
    from eventstore.backends.memory import InMemoryEventStore, forget

    alias = f"chain-cost-{uuid.uuid4()}"
    store = InMemoryEventStore(alias)
    versions: dict[str, int] = {}
    groups = [events[i : i + batch] for i in range(0, len(events), batch)]
    with chain_off(stubbed):
        start = time.perf_counter()
        for group in groups:
            aggregate = group[0][0]
            version = versions.get(aggregate, 0)
            store.append(aggregate, "Payment", [event for _a, event in group], version)
            versions[aggregate] = version + len(group)
        elapsed = time.perf_counter() - start
    forget(alias)
    return elapsed / len(events) * 1e6


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=50_000)
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()
    import django

    django.setup()
    from decimal import Decimal

    from eventstore.records import NewEvent
    from eventstore.testing.contract import ContractCounted  # noqa: F401 (registers the type)

    events = [
        (
            f"payment-{n // 10}",
            NewEvent(
                "contract.Counted",
                {"count": n, "amount": Decimal(f"{n % 1000}.{n % 100:02d}")},
                metadata={"organization_id": f"org-{n % 20:02d}", "user_id": str(n % 200)},
                correlation_id=f"req-{n // 4}",
            ),
        )
        for n in range(args.events)
    ]
    for batch in (1, 10):
        figures: dict[bool, list[float]] = {True: [], False: []}
        for repeat in range(args.repeats):
            for stubbed in (repeat % 2 == 0, repeat % 2 != 0):
                figures[stubbed].append(run(events, batch, stubbed))
        with_chain = statistics.median(figures[False])
        without = statistics.median(figures[True])
        print(
            f"memory append, batches of {batch:>2}: {with_chain:.2f} µs/event with the chain, "
            f"{without:.2f} without: +{with_chain - without:.2f} µs/event "
            f"(median of {args.repeats}, {args.events:,} events)"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
