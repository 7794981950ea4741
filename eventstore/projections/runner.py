"""Apply a projection from its checkpoint: catch-up, rebuild, and the locking between runners.

:func:`catch_up` is what every runner calls (inline after an append, the
daemon, tests). Per batch, in one transaction on the projection's database:

1. lock the projection's :class:`~eventstore.models.Checkpoint` row
   (``SELECT ... FOR UPDATE``, or ``NOWAIT`` / ``SKIP LOCKED``; on SQLite the
   database write lock, taken first by an ``UPDATE``): one runner at a time;
2. check the checkpoint's store identity (a checkpoint from another history,
   or past the store's end, is never continued: rebuild, or stop with an error
   under ``EVENTSTORE_PROJECTIONS_ON_NEW_STORE = "stop"``);
3. read the events after the checkpoint, apply those the projection handles,
   move the checkpoint to the last event read, commit.

A batch that raises is rolled back; the events before the failing one are
then applied one by one, so the checkpoint stops right before it, with the
error (event id, position, exception text) recorded and status ``stalled``.
Nothing after it is applied until a later attempt succeeds.
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import threading
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import DatabaseError, IntegrityError, connections, transaction
from django.db.models import F
from django.utils import timezone

from ..bus import receiver_failed
from ..records import RecordedEvent
from .base import Projection
from .rows import read_row, update_row

__all__ = [
    "CatchUpResult",
    "ProjectionError",
    "ProjectionBusy",
    "StoreIdentityMismatch",
    "catch_up",
    "rebuild",
    "runner_name",
]

logger = logging.getLogger("eventstore.projections")

#: A runner refreshes ``heartbeat_at`` at most this often while it finds nothing to do.
HEARTBEAT_EVERY = timedelta(seconds=5)


class ProjectionError(Exception):
    """A projection failed on an event (raised when ``EVENTSTORE_PROJECTIONS_RAISE`` is on)."""


class StoreIdentityMismatch(ProjectionError):
    """A checkpoint was taken against another history and the policy is ``"stop"``."""


class ProjectionBusy(ProjectionError):
    """Another runner holds the projection (``lock="nowait"``)."""


@dataclass
class CatchUpResult:
    """What one :func:`catch_up` call did."""

    name: str
    position: int
    applied: int = 0
    batches: int = 0
    status: str = "caught_up"
    skipped: bool = False
    rebuilt: bool = False
    error: str = ""
    error_position: int | None = None
    #: Notes the projection returned about items it left out (see Projection.apply).
    notes: list[str] = field(default_factory=list)


class _Skipped(Exception):
    """The checkpoint row is held by another runner (skip) or moved under us."""


class _ApplyCarefully(Exception):
    """A batch applied without a savepoint raised: roll back, take it again with savepoints."""


_applying = threading.local()


@contextlib.contextmanager
def applying(name: str) -> Iterator[None]:
    """Mark projection ``name`` as being applied by this thread (see :func:`is_applying`)."""
    names: set[str] = _applying.__dict__.setdefault("names", set())
    names.add(name)
    try:
        yield
    finally:
        names.discard(name)


def is_applying(name: str) -> bool:
    """Whether this thread is inside :func:`catch_up` or :func:`rebuild` of ``name``.

    The inline runner then leaves it alone: events appended meanwhile (by the
    projection itself, or during a rebuild) are picked up by that call's loop.
    """
    return name in _applying.__dict__.get("names", ())


def runner_name() -> str:
    """This process, as shown in the status (``host:pid``)."""
    return f"{socket.gethostname()}:{os.getpid()}"


def _raise_errors(value: bool | None) -> bool:
    return getattr(settings, "EVENTSTORE_PROJECTIONS_RAISE", False) if value is None else value


def raise_errors() -> bool:
    """Whether ``settings.EVENTSTORE_PROJECTIONS_RAISE`` asks runners to raise failures (tests)."""
    return bool(_raise_errors(None))


def _lock_checkpoint(projection: Projection, lock: str) -> Any:
    """Return the projection's checkpoint row, locked for this transaction (created if missing).

    Raises:
        _Skipped: ``lock="skip"`` and another runner holds it.
        ProjectionBusy: ``lock="nowait"`` and another runner holds it.
    """
    from ..models import Checkpoint

    database = projection.database

    def rows() -> Any:  # built only when used: a filter costs more than the SQLite read
        return Checkpoint.objects.using(database).filter(name=projection.name)

    for _attempt in range(2):
        if _holds_write_lock(database):  # SQLite, BEGIN IMMEDIATE: the lock is ours
            checkpoint = _read_checkpoint(database, projection.name)
            if checkpoint is not None:
                return checkpoint
        elif connections[database].features.has_select_for_update:
            try:
                checkpoint = (
                    rows()
                    .select_for_update(nowait=lock == "nowait", skip_locked=lock == "skip")
                    .first()
                )
            except DatabaseError as exc:
                raise ProjectionBusy(
                    f"Projection {projection.name!r} is being applied by another runner."
                ) from exc
            if checkpoint is not None:
                return checkpoint
            if lock == "skip" and rows().exists():
                raise _Skipped
        elif rows().update(position=F("position")):  # SQLite: take the write lock first
            return rows().get()
        try:
            with transaction.atomic(using=database):
                Checkpoint.objects.using(database).create(name=projection.name)
        except IntegrityError:
            pass  # another runner created it
    return rows().select_for_update().get() if lock == "wait" else rows().get()


def _read_checkpoint(database: str, name: str) -> Any:
    """Return the checkpoint row named ``name``, or None: one plain ``SELECT`` (see ``rows``)."""
    from ..models import Checkpoint

    return read_row(Checkpoint, database, "name", name)


def _holds_write_lock(database: str) -> bool:
    """Whether this SQLite transaction took the database's write lock when it began.

    True with ``OPTIONS["transaction_mode"]`` ``"IMMEDIATE"`` or ``"EXCLUSIVE"``
    (Django 5.1+): every transaction Django begins takes that lock, so locking
    the checkpoint needs no statement of its own. Not when the transaction began
    with autocommit turned off by hand (``commit_on_exit`` false): sqlite3 then
    began it itself, deferred.
    """
    connection = connections[database]
    mode = getattr(connection, "transaction_mode", None)
    return bool(
        connection.in_atomic_block
        and connection.commit_on_exit
        and mode in {"IMMEDIATE", "EXCLUSIVE"}
    )


def _save(checkpoint: Any, old_position: int, **fields: Any) -> None:
    """Write ``fields`` to the locked checkpoint, guarded by the position read under the lock."""

    # Only the fields whose value changes (a caught-up runner moves the position and its
    # heartbeat, and clears no error it does not have).
    fields = {name: value for name, value in fields.items() if getattr(checkpoint, name) != value}
    fields["updated_at"] = timezone.now()
    # One plain UPDATE (see ``rows``): written once per batch.
    changed = update_row(checkpoint, fields, where={"position": old_position})
    if not changed:
        raise _Skipped  # cannot happen under the lock; refuse rather than double-apply
    for name, value in fields.items():
        setattr(checkpoint, name, value)


def _check_history(projection: Projection, store: Any, checkpoint: Any, identity: str) -> bool:
    """Reset the view when the checkpoint belongs to another history; return whether it did.

    Raises:
        StoreIdentityMismatch: under the ``"stop"`` policy (recorded on the checkpoint first).
    """
    fresh = not checkpoint.store_identity
    other = checkpoint.store_identity != identity
    past_end = checkpoint.position > store.last_position()
    if not (fresh or other or past_end):
        return False
    if not fresh and getattr(settings, "EVENTSTORE_PROJECTIONS_ON_NEW_STORE", "rebuild") == "stop":
        raise StoreIdentityMismatch(
            f"Projection {projection.name!r}: its checkpoint (position {checkpoint.position}) "
            f"was taken against store identity {checkpoint.store_identity}, but store "
            f"{projection.store_alias!r} now has identity {identity} and "
            f"{store.last_position()} events. Rebuild it: manage.py eventstore_projections "
            f"rebuild {projection.name}"
        )
    if not fresh:
        logger.warning(
            "Projection %r: checkpoint taken against another history (identity %s at "
            "position %d; the store is %s with %d events): rebuilding from position 0.",
            projection.name,
            checkpoint.store_identity,
            checkpoint.position,
            identity,
            store.last_position(),
        )
    projection.reset()
    _save(checkpoint, checkpoint.position, position=0, store_identity=identity)
    return not fresh


def _apply(
    projection: Projection, events: list[RecordedEvent], store: Any, notes: list[str]
) -> None:
    """Call ``projection.apply``; log and keep the notes it returns about items left out."""
    for note in projection.apply(events, store) or ():
        logger.warning("Projection %r left an item out: %s", projection.name, note)
        notes.append(note)


def _apply_one_by_one(
    projection: Projection, store: Any, page: list[RecordedEvent], start: int, notes: list[str]
) -> tuple[int, RecordedEvent | None, BaseException | None]:
    """Apply ``page`` event by event; return (last good position, failing event, error)."""
    position = start
    for event in page:
        if projection.handles(event):
            try:
                with transaction.atomic(using=projection.database):
                    _apply(projection, [event], store, notes)
            except Exception as exc:  # noqa: BLE001 - recorded on the checkpoint
                return position, event, exc
        position = event.position
    return position, None, None


def _error_text(exc: BaseException) -> str:
    return "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))[-8000:]


def catch_up(
    projection: Projection,
    *,
    store: Any = None,
    lock: str = "wait",
    batch_size: int | None = None,
    max_batches: int | None = None,
    raise_errors: bool | None = None,
    runner: str | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> CatchUpResult:
    """Apply every event after the projection's checkpoint, batch by batch, until caught up.

    Args:
        projection: a declared :class:`Projection`.
        store: the store to follow (default: ``eventstores[projection.store_alias]``).
        lock: ``"wait"`` for another runner to finish its batch, ``"skip"`` to
            return at once (``result.skipped``), ``"nowait"`` to raise
            :class:`ProjectionBusy`. Row locks exist on PostgreSQL; on SQLite
            runners queue on the database write lock.
        max_batches: stop after this many batches (None: until caught up).
        raise_errors: raise :class:`ProjectionError` when a batch fails
            (default: ``settings.EVENTSTORE_PROJECTIONS_RAISE``); otherwise the
            error is logged and recorded, and returned in the result.
        should_stop: called between batches; True ends the call early.

    Returns:
        A :class:`CatchUpResult`; ``status`` is ``caught_up``, ``behind``
        (stopped early) or ``stalled``.
    """
    with applying(projection.name):
        return _catch_up(
            projection, store, lock, batch_size, max_batches, raise_errors, runner, should_stop
        )


def _catch_up(
    projection: Projection,
    store: Any,
    lock: str,
    batch_size: int | None,
    max_batches: int | None,
    raise_errors: bool | None,
    runner: str | None,
    should_stop: Callable[[], bool] | None,
) -> CatchUpResult:
    if store is None:
        from ..handler import eventstores

        store = eventstores[projection.store_alias]
    size = batch_size or projection.batch_size
    runner = runner or runner_name()
    identity = store.identity()
    result = CatchUpResult(projection.name, position=0)
    failure: BaseException | None = None
    # A batch is first applied without a savepoint (one statement less each way); if it
    # raises, the whole transaction rolls back and the batch is taken again carefully:
    # under a savepoint, then event by event to find the failing one.
    careful = False
    while True:
        try:
            with transaction.atomic(using=projection.database):
                checkpoint = _lock_checkpoint(projection, lock)
                result.rebuilt |= _check_history(projection, store, checkpoint, identity)
                start = checkpoint.position
                result.position = start
                page = store.read_all(after_position=start, limit=size)
                now = timezone.now()
                if not page:
                    result.status = "caught_up"
                    stale = checkpoint.heartbeat_at is None or (
                        now - checkpoint.heartbeat_at > HEARTBEAT_EVERY
                    )
                    if checkpoint.status != "caught_up" or stale or checkpoint.runner != runner:
                        _save(
                            checkpoint, start, status="caught_up", runner=runner, heartbeat_at=now
                        )
                    break
                relevant = [event for event in page if projection.handles(event)]
                notes: list[str] = []
                try:
                    with transaction.atomic(using=projection.database, savepoint=careful):
                        if relevant:
                            _apply(projection, relevant, store, notes)
                    position, failed, failure = page[-1].position, None, None
                except Exception as exc:  # noqa: BLE001 - find the event, record it
                    if not careful:
                        raise _ApplyCarefully from exc
                    notes = []
                    position, failed, failure = _apply_one_by_one(
                        projection, store, page, start, notes
                    )
                careful = False
                result.notes.extend(notes)
                result.applied += sum(
                    1 for event in relevant if event.position <= position and event is not failed
                )
                result.batches += 1
                result.position = position
                if failed is not None and failure is not None:
                    result.status = "stalled"
                    result.error = f"{type(failure).__name__}: {failure}"
                    result.error_position = failed.position
                    _save(
                        checkpoint,
                        start,
                        position=position,
                        status="stalled",
                        error_event_id=failed.event_id,
                        error_position=failed.position,
                        error_text=_error_text(failure),
                        error_at=now,
                        failures=checkpoint.failures + 1,
                        runner=runner,
                        heartbeat_at=now,
                    )
                else:
                    caught_up = len(page) < size and position >= store.last_position()
                    result.status = "caught_up" if caught_up else "behind"
                    _save(
                        checkpoint,
                        start,
                        position=position,
                        status=result.status,
                        error_event_id=None,
                        error_position=None,
                        error_text="",
                        error_at=None,
                        failures=0,
                        runner=runner,
                        heartbeat_at=now,
                    )
        except _ApplyCarefully:
            careful = True
            continue
        except _Skipped:
            result.skipped = True
            result.status = "behind"
            break
        except StoreIdentityMismatch as exc:
            _record_stop(projection, str(exc))
            result.status, result.error = "stalled", str(exc)
            if _raise_errors(raise_errors):
                raise
            logger.error("%s", exc)
            return result
        if result.status == "stalled" and failed is not None:
            logger.error(
                "Projection %r stalled at position %d: event %s (position %d) raised %s",
                projection.name,
                result.position,
                failed.event_id,
                failed.position,
                result.error,
                exc_info=failure,
            )
            if _raise_errors(raise_errors):
                raise ProjectionError(
                    f"Projection {projection.name!r} failed on event {failed.event_id} "
                    f"(position {failed.position}): {result.error}"
                ) from failure
            if failure is not None:  # the testing support's strict mode listens for this
                receiver_failed.send(
                    sender=None, receiver=projection, events=[failed], error=failure
                )
            break
        if result.status == "caught_up":
            break
        if (max_batches is not None and result.batches >= max_batches) or (
            should_stop is not None and should_stop()
        ):
            break
    return result


def _record_stop(projection: Projection, text: str) -> None:
    from ..models import Checkpoint

    Checkpoint.objects.using(projection.database).filter(name=projection.name).update(
        status="stalled", error_text=text, error_at=timezone.now(), updated_at=timezone.now()
    )


def rebuild(
    projection: Projection,
    *,
    store: Any = None,
    batch_size: int | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> CatchUpResult:
    """Reset the view and apply the whole history again; end caught up.

    The reset and the replay up to the store's last position at the start run
    in one transaction: readers keep the old view until it commits (on
    PostgreSQL; SQLite readers may wait while it writes), and a failure
    leaves the old view and checkpoint untouched. Events appended meanwhile
    are applied afterwards by an ordinary :func:`catch_up`. Other runners of
    this projection wait (or skip) while it runs.

    ``progress(position, target)`` is called after each batch.

    Raises:
        ProjectionError: naming the failing event; nothing was changed.
    """
    if store is None:
        from ..handler import eventstores

        store = eventstores[projection.store_alias]
    size = batch_size or projection.batch_size
    identity = store.identity()
    applied = 0
    notes: list[str] = []
    with applying(projection.name), transaction.atomic(using=projection.database):
        checkpoint = _lock_checkpoint(projection, "wait")
        target = store.last_position()
        projection.reset()
        position = 0
        while position < target:
            page = store.read_all(after_position=position, limit=min(size, target - position))
            if not page:
                break
            relevant = [event for event in page if projection.handles(event)]
            if relevant:
                try:
                    _apply(projection, relevant, store, notes)
                except Exception as exc:
                    raise ProjectionError(
                        f"Rebuild of {projection.name!r} failed in the batch of positions "
                        f"{page[0].position}-{page[-1].position}: {type(exc).__name__}: {exc}; "
                        "the old view is kept."
                    ) from exc
            applied += len(relevant)
            position = page[-1].position
            if progress is not None:
                progress(position, target)
        _save(
            checkpoint,
            checkpoint.position,
            position=position,
            store_identity=identity,
            status="caught_up" if position >= store.last_position() else "behind",
            error_event_id=None,
            error_position=None,
            error_text="",
            error_at=None,
            failures=0,
        )
    result = catch_up(projection, store=store, batch_size=size)
    result.applied += applied
    result.notes[:0] = notes
    result.rebuilt = True
    return result
