"""A writer process of test_postgresql's catch-up test: appends to its own aggregates.

Run as ``python -m tests.eventstore.pg_writer PREFIX AGGREGATES EVENTS_EACH`` with
``DATABASE_URL`` naming the test database and ``DJANGO_SETTINGS_MODULE`` the test
run's settings (the parent's environment). Prints ``ready`` once Django is set
up, waits for a line on stdin, then appends ``EVENTS_EACH`` events to each of
its ``AGGREGATES`` aggregates (``PREFIX-0``, ``PREFIX-1``…), one event per
append, round-robin over the aggregates: even ones with the expected version,
odd ones with ``ANY``. Exits 0 when every append succeeded.
"""

import os
import sys


def main(prefix: str, aggregates: int, events_each: int) -> None:
    if not os.environ.get("DJANGO_SETTINGS_MODULE"):
        sys.exit("pg_writer: DJANGO_SETTINGS_MODULE is not set")
    import django

    django.setup()
    from eventstore.backends.database import DatabaseEventStore
    from eventstore.records import ANY, NewEvent
    from eventstore.testing.contract import ContractCounted  # noqa: F401 - registers the type

    store = DatabaseEventStore("pg-writer", {"DATABASE": "default"})
    store.last_position()  # connect before the start
    print("ready", flush=True)
    sys.stdin.readline()
    for version in range(events_each):
        for number in range(aggregates):
            event = NewEvent("contract.Counted", {"count": version})
            expected = ANY if number % 2 else version
            store.append(f"{prefix}-{number}", "Thing", [event], expected)


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]))
