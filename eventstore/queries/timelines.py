"""Timelines: events in order with their depth in the causation chain, and the state
change each event made to its aggregate."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from ..aggregates import aggregate_types
from ..backends.base import BaseEventStore
from ..exceptions import UndecodableEventError
from ..records import RecordedEvent

__all__ = ["Change", "changes_by_event", "state_changes", "timeline_entries"]

#: One changed key of an aggregate's state: ``(key, old value, new value)``.
Change = tuple[str, Any, Any]


def timeline_entries(events: list[Any]) -> list[dict[str, Any]]:
    """Return events as dicts with ``depth`` in the causation chain (see the view)."""
    depth_by_id: dict[str, int] = {}
    entries = []
    for event in events:
        depth = depth_by_id.get(event.causation_id, -1) + 1 if event.causation_id else 0
        depth_by_id[str(event.event_id)] = depth
        entries.append({**event.as_dict(), "depth": depth})
    return entries


def state_changes(before: Mapping[str, Any], after: Mapping[str, Any]) -> list[Change]:
    """Return what changed from state ``before`` to ``after``: ``(key, old, new)`` in ``after``'s
    key order; ``version`` is left out (every event moves it). A key new in ``after`` has
    old None. Empty when nothing changed."""
    return [
        (key, before.get(key), value)
        for key, value in after.items()
        if key != "version" and before.get(key) != value
    ]


def changes_by_event(
    store: BaseEventStore, events: Iterable[RecordedEvent]
) -> dict[str, list[Change]]:
    """Return ``{event_id: [(key, old, new), ...]}``: the state change each of ``events`` made.

    Each aggregate among ``events`` whose type has a class in the ``aggregate_types``
    registry is replayed from version 1 up to its last event listed (one
    ``read_aggregate`` per aggregate), and each event's change is
    :func:`state_changes` of the states before and after it, as on the aggregate
    timeline. Events of aggregates without a class, and events from the first
    undecodable one of their aggregate on, have no entry (show their data instead).
    """
    last_version: dict[str, int] = {}
    wanted: set[str] = set()
    for event in events:
        if event.aggregate_type in aggregate_types:
            last_version[event.aggregate_id] = max(
                last_version.get(event.aggregate_id, 0), event.version
            )
            wanted.add(str(event.event_id))
    changes: dict[str, list[Change]] = {}
    for aggregate_id, version in last_version.items():
        history = store.read_aggregate(aggregate_id, to_version=version)
        if not history:
            continue
        aggregate = aggregate_types[history[0].aggregate_type](aggregate_id)
        before: dict[str, Any] = {}
        for record in history:
            try:
                aggregate.replay(record)
            except UndecodableEventError:
                break
            state = aggregate.state()
            if str(record.event_id) in wanted:
                changes[str(record.event_id)] = state_changes(before, state)
            before = state
    return changes
