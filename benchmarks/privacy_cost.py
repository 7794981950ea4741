"""What personal data costs: append and read on the memory backend, with and without a user.

    DJANGO_SETTINGS_MODULE=tests.settings PYTHONPATH=. .venv/bin/python benchmarks/privacy_cost.py

Prints µs per event (the best of 7 runs of 20,000 events each, one event per
append, a fresh store per run) for:

- appends of ``PaymentProcessed`` without a user in the metadata (nothing to
  seal), with ``user_id``/``username`` (sealed: one AES-256-GCM per event), and
  the same input with the store's key store switched off (plain, the cost
  before this feature);
- appends of ``PaymentFailed`` (its ``reason`` personal too: still one operation);
- ``.data`` + ``.metadata`` of a plain and of a sealed record;
- sealing 3 values in one AES-GCM operation against one operation per value.
"""

from __future__ import annotations

import os
import sys
import time
import uuid
from decimal import Decimal

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")

import django  # noqa: E402

django.setup()

from eventstore.backends.memory import InMemoryEventStore, forget  # noqa: E402
from eventstore.privacy.cipher import SubjectKey, seal_values  # noqa: E402
from eventstore.records import NO_STREAM  # noqa: E402
from payments.events import PaymentFailed, PaymentProcessed  # noqa: E402

N = 20_000
RUNS = 7
NO_USER = {"organization_id": "acme"}
USER = {"organization_id": "acme", "user_id": "42", "username": "ann.smith"}


def best(run) -> float:
    """Return the best µs per event of RUNS runs of ``run()`` (which returns seconds)."""
    return min(run() for _ in range(RUNS)) / N * 1e6


def appends(make_event, metadata, *, keys: bool = True) -> float:
    def run() -> float:
        alias = f"bench-{uuid.uuid4()}"
        store = InMemoryEventStore(alias)
        if not keys:
            store.keys = None
        events = [make_event() for _ in range(N)]
        ids = [f"p-{number}" for number in range(N)]
        append = store.append
        start = time.perf_counter()
        for aggregate_id, item in zip(ids, events, strict=True):
            append(aggregate_id, "Payment", [item], NO_STREAM, metadata=metadata)
        elapsed = time.perf_counter() - start
        forget(alias)
        return elapsed

    return best(run)


def reads(metadata) -> float:
    alias = f"bench-{uuid.uuid4()}"
    store = InMemoryEventStore(alias)
    for number in range(N):
        store.append(f"p-{number}", "Payment", [processed()], NO_STREAM, metadata=metadata)
    records = store.read_all()

    def run() -> float:
        start = time.perf_counter()
        for record in records:
            _ = record.data, record.metadata
        return time.perf_counter() - start

    result = best(run)
    forget(alias)
    return result


def processed() -> PaymentProcessed:
    return PaymentProcessed(amount=Decimal("10.00"), currency="EUR", organization_id="acme")


def failed() -> PaymentFailed:
    return PaymentFailed(
        amount=Decimal("10.00"), currency="EUR", organization_id="acme", reason="card_declined"
    )


def sealing(per_field: bool) -> float:
    fields = ["data.reason", "metadata.user_id", "metadata.username"]
    # Values differing per event, so each is encrypted (equal ones reuse their envelope).
    rows = [[f"card_declined {number}", "42", "ann.smith"] for number in range(N)]

    def run() -> float:
        key = SubjectKey.generate("user:42")
        start = time.perf_counter()
        for values in rows:
            if per_field:
                for field, value in zip(fields, values, strict=True):
                    seal_values(key, [field], [value])
            else:
                seal_values(key, fields, values)
        return time.perf_counter() - start

    return best(run)


def main() -> None:
    print(f"Python {sys.version.split()[0]}, load {os.getloadavg()}, {N} events x best of {RUNS}")
    rows = [
        ("append PaymentProcessed, no user (nothing sealed)", appends(processed, NO_USER)),
        ("append PaymentProcessed, user metadata, sealed", appends(processed, USER)),
        (
            "append PaymentProcessed, user metadata, key store off (plain)",
            appends(processed, USER, keys=False),
        ),
        ("append PaymentFailed (reason personal), user metadata, sealed", appends(failed, USER)),
        (
            "append PaymentFailed, user metadata, key store off (plain)",
            appends(failed, USER, keys=False),
        ),
        ("read .data + .metadata, plain record", reads(NO_USER)),
        ("read .data + .metadata, sealed record", reads(USER)),
        ("seal 3 values: one AES-GCM per event and subject", sealing(False)),
        ("seal 3 values: one AES-GCM per value", sealing(True)),
    ]
    for name, micros in rows:
        print(f"{micros:8.2f} µs/event  {name}")


if __name__ == "__main__":
    main()
