"""Benchmarks of the event store against the ``eventsourcing`` library (see ``run.py``)."""
