"""How many events match a search: exact where counting is cheap, a lower bound where it is not."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from ..backends.base import BaseEventStore
from .paging import EventPage

__all__ = ["SCAN_LIMIT", "MatchCount", "count_matches"]

#: Most events a free-text count may read; above it the count is a lower bound.
SCAN_LIMIT = 10_000


@dataclasses.dataclass(frozen=True)
class MatchCount:
    """A count of matching events.

    Attributes:
        value: the number of matches when ``exact``; otherwise a number the
            matches are known to exceed ("more than ``value``").
        exact: whether ``value`` is the count itself.
    """

    value: int
    exact: bool


def count_matches(
    store: BaseEventStore,
    criteria: Mapping[str, Any],
    page: EventPage | None = None,
    *,
    scan_limit: int | None = None,
) -> MatchCount:
    """Return how many events match ``criteria`` (keyword arguments of ``store.search``).

    - Without a free-text criterion (``text``): exact, from ``store.count``,
      which every backend answers from its indexes.
    - With one: exact when ``page`` (the page being shown) already counted
      every match, or when the other criteria leave at most ``scan_limit``
      events to read (default :data:`SCAN_LIMIT`, read at call time);
      otherwise ``MatchCount(len(page.events), exact=False)``: a page with a
      further page has more matches than it shows, and counting
      them would read every event of the store. Without a page, the lower
      bound is 0 ("more than 0" is not claimed: ``exact`` False, value 0).

    Raises:
        InvalidQueryError: from the store, for criteria it refuses.
    """
    if "text" not in criteria:
        return MatchCount(store.count(**criteria), exact=True)
    if page is not None and page.total is not None:
        return MatchCount(page.total, exact=True)
    limit = SCAN_LIMIT if scan_limit is None else scan_limit
    others = {name: value for name, value in criteria.items() if name != "text"}
    if store.count(**others) <= limit:
        return MatchCount(store.count(**criteria), exact=True)
    return MatchCount(len(page.events) if page is not None else 0, exact=False)
