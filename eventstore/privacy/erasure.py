"""Erasing a data subject: its keys destroyed, an erasure event appended (crypto-shredding).

:func:`erase_subject` is the one implementation behind
:meth:`BaseEventStore.erase_subject <eventstore.backends.base.BaseEventStore.erase_subject>`,
the ``eventstore_erase`` command and the admin action.

The erasure event, :class:`DataSubjectErased`, goes to one stream per subject:
aggregate type ``"DataSubject"``, aggregate id the subject (``"user:42"``). It
records whom (the subject id, which names nobody once the personal data is
gone), who asked (``erased_by``), when (its timestamp) and how many keys were
destroyed; no personal value. The stream is how "already erased" is told from
"never seen".

Events are never rewritten: the chain over their stored form still verifies.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any

from ..events import DomainEvent, event
from ..exceptions import InvalidBackendError, UnknownSubjectError
from ..records import ANY, RecordedEvent
from .declarations import ERASED, parse_subject

if TYPE_CHECKING:
    from ..backends.base import BaseEventStore

__all__ = ["ERASURE_AGGREGATE_TYPE", "DataSubjectErased", "Erasure", "describe", "erase_subject"]

#: The aggregate type of the erasure streams (one per subject, its id the subject).
ERASURE_AGGREGATE_TYPE = "DataSubject"


@event
class DataSubjectErased(DomainEvent, event_type="DataSubjectErased"):
    """``subject``'s keys (``keys_destroyed`` of them) were destroyed at ``erased_by``'s request."""

    subject: str
    erased_by: str
    keys_destroyed: int


@dataclasses.dataclass(frozen=True)
class Erasure:
    """What :func:`erase_subject` did.

    Attributes:
        subject: the subject erased.
        already_erased: True when there was nothing left to erase (an earlier
            erasure); then no key was destroyed and no event appended.
        keys_destroyed: how many keys were destroyed (0 when already erased).
        event: the ``DataSubjectErased`` event appended, or None.
        projections: names of the declared projections following the store that
            read the subject's events: their read models keep the personal values
            they copied until rebuilt (``manage.py eventstore_projections rebuild``).
    """

    subject: str
    already_erased: bool
    keys_destroyed: int
    event: RecordedEvent | None
    projections: tuple[str, ...]


def erase_subject(store: BaseEventStore, subject: str, *, erased_by: str) -> Erasure:
    """Destroy ``subject``'s keys in ``store`` and record it; idempotent.

    All or nothing on the database backend (the keys' deletion and the event's
    append commit together). On the memory backend the event is appended
    first, then the keys destroyed (the keys file rewritten without them).

    Raises:
        InvalidSubjectError: ``subject`` is not ``<kind>:<id>``.
        UnknownSubjectError: the store holds no key of the subject and has no
            erasure of it: nothing was ever recorded for it.
        InvalidBackendError: the store keeps no keys.
        ValueError: ``erased_by`` is empty.
    """
    kind, identifier = parse_subject(subject)
    if not isinstance(erased_by, str) or not erased_by.strip():
        raise ValueError("erased_by must name who asked for the erasure.")
    keys = store.keys
    if keys is None:
        raise InvalidBackendError(f"Event store {store.alias!r} keeps no data subject keys.")
    if DataSubjectErased.event_type not in store.registry:
        store.registry.register(DataSubjectErased)
    if keys.find(subject) is None:
        if store.aggregate_version(subject):
            return Erasure(subject, True, 0, None, ())
        raise UnknownSubjectError(subject)
    projections = _projections_reading(store, kind, identifier)
    with store.atomic():
        recorded = store.append(
            subject,
            ERASURE_AGGREGATE_TYPE,
            [DataSubjectErased(subject=subject, erased_by=erased_by, keys_destroyed=1)],
            ANY,
        )
        destroyed = keys.destroy(subject)
    return Erasure(subject, False, destroyed, recorded[0], projections)


def _projections_reading(store: BaseEventStore, kind: str, identifier: str) -> tuple[str, ...]:
    """Names of the projections of ``store`` that handle events of the subject.

    A ``user`` subject's events are found by its ``user_id`` (while its key still
    exists); for other kinds, every projection following the store is named.
    """
    from ..projections.registry import following

    declared = following(store.alias)
    if not declared:
        return ()
    if kind != "user":
        return tuple(projection.name for projection in declared)
    samples: dict[str, Any] = {}
    for record in store.search(user_id=identifier):
        samples.setdefault(record.event_type, record)
    return tuple(
        projection.name
        for projection in declared
        if any(projection.handles(record) for record in samples.values())
    )


def describe(erasure: Erasure) -> str:
    """Return one paragraph saying what an erasure did, for the command and the admin action."""
    if erasure.already_erased:
        return f"{erasure.subject} was already erased: nothing left to erase."
    text = (
        f"Erased {erasure.subject}: {erasure.keys_destroyed} key(s) destroyed; their personal "
        f"data now reads as {ERASED!r} everywhere the audit trail shows it."
    )
    if erasure.event is not None:
        text += f" Recorded as DataSubjectErased at position {erasure.event.position}."
    if erasure.projections:
        names = ", ".join(erasure.projections)
        text += (
            f" Read models that copied their events keep the old values until rebuilt: "
            f"run manage.py eventstore_projections rebuild for {names}."
        )
    return text
