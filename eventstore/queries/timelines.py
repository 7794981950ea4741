"""Timelines: events in order with their depth in the causation chain."""

from __future__ import annotations

from typing import Any

__all__ = ["timeline_entries"]


def timeline_entries(events: list[Any]) -> list[dict[str, Any]]:
    """Return events as dicts with ``depth`` in the causation chain (see the view)."""
    depth_by_id: dict[str, int] = {}
    entries = []
    for event in events:
        depth = depth_by_id.get(event.causation_id, -1) + 1 if event.causation_id else 0
        depth_by_id[str(event.event_id)] = depth
        entries.append({**event.as_dict(), "depth": depth})
    return entries
