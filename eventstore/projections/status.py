"""Per projection: position, the store's last position, lag, status and last error."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.utils import timezone

from .base import Projection
from .registry import projections

__all__ = ["RUNNING_WITHIN", "projection_status", "status_table"]

#: A runner whose heartbeat is newer than this counts as running.
RUNNING_WITHIN = timedelta(seconds=30)


def projection_status(projection: Projection, store: Any = None) -> dict[str, Any]:
    """Return one projection's status as a JSON-friendly dict.

    ``status``: ``stalled`` (the last attempt failed: see ``error``),
    ``caught_up`` (nothing left to apply), ``running`` (behind, with a runner
    alive: heartbeat within :data:`RUNNING_WITHIN`), else ``behind``.
    ``lag_events`` counts the events after the checkpoint; ``lag_seconds`` is
    the age of the oldest of them. A checkpoint taken against another store
    identity counts from position 0.
    """
    from ..handler import eventstores
    from ..models import Checkpoint

    store = store if store is not None else eventstores[projection.store_alias]
    checkpoint = Checkpoint.objects.using(projection.database).filter(name=projection.name).first()
    last = store.last_position()
    identity = store.identity()
    position = (
        checkpoint.position
        if checkpoint is not None and checkpoint.store_identity == identity
        else 0
    )
    lag = max(0, last - position)
    lag_seconds = 0.0
    if lag:
        first = store.read_all(after_position=position, limit=1)
        if first:
            lag_seconds = max(0.0, (timezone.now() - first[0].timestamp).total_seconds())
    now = timezone.now()
    heartbeat = checkpoint.heartbeat_at if checkpoint else None
    if checkpoint is not None and checkpoint.status == "stalled":
        status = "stalled"
    elif lag == 0:
        status = "caught_up"
    elif heartbeat is not None and now - heartbeat < RUNNING_WITHIN:
        status = "running"
    else:
        status = "behind"
    error = None
    if checkpoint is not None and checkpoint.status == "stalled":
        error = {
            "event_id": str(checkpoint.error_event_id) if checkpoint.error_event_id else None,
            "position": checkpoint.error_position,
            "text": checkpoint.error_text,
            "at": checkpoint.error_at.isoformat() if checkpoint.error_at else None,
            "failures": checkpoint.failures,
        }
    return {
        "name": projection.name,
        "store": projection.store_alias,
        "database": projection.database,
        "position": position,
        "last_position": last,
        "lag_events": lag,
        "lag_seconds": round(lag_seconds, 3),
        "status": status,
        "store_identity": identity,
        "checkpoint_identity": checkpoint.store_identity if checkpoint else None,
        "runner": checkpoint.runner if checkpoint else "",
        "heartbeat_at": heartbeat.isoformat() if heartbeat else None,
        "updated_at": checkpoint.updated_at.isoformat() if checkpoint else None,
        "error": error,
    }


def status_table(names: list[str] | None = None) -> list[dict[str, Any]]:
    """Return :func:`projection_status` of the declared projections (or of ``names``)."""
    declared = projections()
    chosen = names or list(declared)
    return [projection_status(declared[name]) for name in chosen]
