"""Pages of events newest first, for browsing a store that pages forwards by position."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from ..backends.base import BaseEventStore
from ..records import RecordedEvent

__all__ = ["EventPage", "newest_first"]

#: Positions the first backwards window of a filtered page covers; each next one is 4× wider.
FIRST_WINDOW = 256


@dataclasses.dataclass(frozen=True)
class EventPage:
    """One page of events, newest first.

    Attributes:
        events: at most the page size, in descending position order.
        newer_than: cursor of the page of newer events (the newest position
            shown), or None when this is the newest page.
        older_than: cursor of the page of older events (the oldest position
            shown), or None when there are none.
        total: the number of matching events when finding the page counted
            them all anyway (a newest page that reached position 1), else None.
    """

    events: list[RecordedEvent]
    newer_than: int | None
    older_than: int | None
    total: int | None = None


def newest_first(
    store: BaseEventStore,
    criteria: Mapping[str, Any],
    *,
    older_than: int | None = None,
    newer_than: int | None = None,
    size: int = 50,
) -> EventPage:
    """Return one page of the events matching ``criteria``, newest (highest position) first.

    Without a cursor, the newest ``size`` events; with ``older_than=P`` the
    newest ``size`` events whose position is below P (exclusive); with
    ``newer_than=P`` the ``size`` events just above P (exclusive).

    The store pages forwards (``after_position``), so newer pages are one
    forward search. Older pages read backwards in position windows (``position
    > lower``, ``<= upper``), each four times wider than the last, until the
    page is full or position 1 is passed: the cost follows the events skipped
    to fill the page, never the size of the store, and no window is read twice.
    """
    if newer_than is not None:
        found = store.search(**criteria, after_position=newer_than, limit=size + 1)
        has_newer = len(found) > size
        shown = list(reversed(found[:size]))
        return EventPage(
            events=shown,
            newer_than=shown[0].position if shown and has_newer else None,
            older_than=shown[-1].position if shown else newer_than + 1,
        )
    upper = store.last_position() if older_than is None else older_than - 1
    found = []
    window = max(FIRST_WINDOW, 2 * size)
    while upper > 0 and len(found) <= size:
        lower = max(0, upper - window)
        found.extend(reversed(store.search(**criteria, position__gt=lower, position__lte=upper)))
        upper = lower
        window *= 4
    shown = found[:size]
    return EventPage(
        events=shown,
        newer_than=shown[0].position if shown and older_than is not None else None,
        older_than=shown[-1].position if len(found) > size else None,
        total=len(found) if older_than is None and upper <= 0 else None,
    )
