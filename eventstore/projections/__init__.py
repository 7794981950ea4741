"""Projections: read models derived from the history, each with a checkpoint.

Declare projections in settings, as dotted paths of :class:`Projection`
subclasses (only this setting is imported)::

    EVENTSTORE_PROJECTIONS = ["payments.projections.PaymentSummaryProjection"]

Run them inline (after each append in the appending process: the default for
process-memory stores, ``EVENTSTORE_PROJECTIONS_INLINE``) or with the daemon
(``manage.py eventstore_projections run``, for the database backend, in any
process or machine). Watch them with ``manage.py eventstore_projections status``
or the admin's audit trail; rebuild one with ``... rebuild NAME``.

Settings:
    EVENTSTORE_PROJECTIONS: list of dotted paths (default ``[]``).
    EVENTSTORE_PROJECTIONS_INLINE: None (memory stores only), True or False.
    EVENTSTORE_PROJECTIONS_RAISE: raise :class:`ProjectionError` when a
        projection fails in an inline run (tests) instead of logging it.
    EVENTSTORE_PROJECTIONS_ON_NEW_STORE: ``"rebuild"`` (default) or ``"stop"``:
        what a checkpoint taken against another store identity leads to.
"""

from .base import Projection
from .registry import get_projection, projections, projections_for
from .runner import (
    CatchUpResult,
    ProjectionBusy,
    ProjectionError,
    StoreIdentityMismatch,
    catch_up,
    rebuild,
)

__all__ = [
    "CatchUpResult",
    "Projection",
    "ProjectionBusy",
    "ProjectionError",
    "StoreIdentityMismatch",
    "catch_up",
    "get_projection",
    "projections",
    "projections_for",
    "rebuild",
]
