"""Snapshots of aggregate state, so loading reads only the events after the snapshot.

A snapshot is an aggregate's state at one version. :class:`InMemorySnapshotStore`
keeps deep copies of the aggregate's attributes in process memory (the same
lifetime as the memory backend's events). Snapshots are a cache: deleting them
changes nothing but load time, and a load from a snapshot gives exactly the
state a full replay gives.
"""

from __future__ import annotations

import copy
import threading
from dataclasses import dataclass
from typing import Any

__all__ = ["Snapshot", "InMemorySnapshotStore"]


@dataclass(frozen=True)
class Snapshot:
    """State of ``aggregate_id`` (of ``aggregate_type``) after applying ``version`` events."""

    aggregate_id: str
    aggregate_type: str
    version: int
    state: dict[str, Any]


class InMemorySnapshotStore:
    """Keep the latest snapshot of each aggregate in process memory (thread-safe)."""

    def __init__(self) -> None:
        self._snapshots: dict[tuple[str, str], Snapshot] = {}
        self._lock = threading.Lock()

    def get(self, aggregate_type: str, aggregate_id: str) -> Snapshot | None:
        """Return the latest snapshot (a deep copy of its state), or None."""
        with self._lock:
            snapshot = self._snapshots.get((aggregate_type, aggregate_id))
        if snapshot is None:
            return None
        return Snapshot(
            snapshot.aggregate_id,
            snapshot.aggregate_type,
            snapshot.version,
            copy.deepcopy(snapshot.state),
        )

    def save(self, snapshot: Snapshot) -> None:
        """Keep ``snapshot`` (a copy) if it is newer than the one held."""
        stored = Snapshot(
            snapshot.aggregate_id,
            snapshot.aggregate_type,
            snapshot.version,
            copy.deepcopy(snapshot.state),
        )
        key = (snapshot.aggregate_type, snapshot.aggregate_id)
        with self._lock:
            current = self._snapshots.get(key)
            if current is None or current.version < snapshot.version:
                self._snapshots[key] = stored

    def clear(self) -> None:
        """Forget every snapshot."""
        with self._lock:
            self._snapshots.clear()
