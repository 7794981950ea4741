"""Cursor pagination on the global position, for lists of recorded events.

The cursor is an opaque token naming the last position of the previous page,
so pages stay stable while new events arrive and when many events share a
timestamp (positions are unique and never change). A malformed cursor is a
404, as in DRF's ``CursorPagination``.
"""

from __future__ import annotations

import base64
from typing import Any

from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.request import Request
from rest_framework.utils.urls import replace_query_param

from ..queries.params import parse_int

__all__ = ["PositionPagination", "page_size"]


class PositionPagination:
    """Read ``cursor`` and ``page_size`` from a request and build the page's links."""

    cursor_query_param = "cursor"
    page_size_query_param = "page_size"
    # Events per page when the client does not ask.
    page_size = 50
    # The largest page a client may ask for; larger requests are refused with 400.
    max_page_size = 500

    def __init__(self, request: Request) -> None:
        self.request = request
        self.after_position = self._decode_cursor(request.query_params.get(self.cursor_query_param))
        self.limit = self._page_size(request.query_params.get(self.page_size_query_param))

    def _page_size(self, raw: str | None) -> int:
        return page_size(raw, self.page_size_query_param, self.page_size, self.max_page_size)

    def _decode_cursor(self, raw: str | None) -> int:
        if not raw:
            return 0
        try:
            decoded = base64.urlsafe_b64decode(raw.encode("ascii")).decode("ascii")
            prefix, _, raw_position = decoded.partition("=")
            position = parse_int(raw_position, minimum=0)
            if prefix != "p" or position is None:
                raise ValueError(decoded)
            return position
        except (ValueError, UnicodeError):
            raise NotFound("Invalid cursor") from None

    @staticmethod
    def encode_cursor(position: int) -> str:
        return base64.urlsafe_b64encode(f"p={position}".encode("ascii")).decode("ascii")

    def page_data(self, events: list[Any]) -> dict[str, Any]:
        """Return the page for ``events``, read with ``limit + 1`` to learn if more follow."""
        shown = events[: self.limit]
        return self.response_data(
            [event.as_dict() for event in shown],
            shown[-1].position if shown else None,
            len(events) > self.limit,
        )

    def response_data(
        self, results: list[Any], last_position: int | None, has_more: bool
    ) -> dict[str, Any]:
        """Return ``{"next": url or None, "results": [...]}`` for one page."""
        next_url = None
        if has_more and last_position is not None:
            next_url = replace_query_param(
                self.request.build_absolute_uri(),
                self.cursor_query_param,
                self.encode_cursor(last_position),
            )
        return {"next": next_url, "results": results}


def page_size(raw: str | None, name: str, default: int, maximum: int) -> int:
    """Return the page size asked for in ``raw`` (1..``maximum``), ``default`` when not given.

    Raises:
        ValidationError: (400) naming the parameter ``name`` for anything else.
    """
    if raw is None or raw == "":
        return default
    value = parse_int(raw, minimum=1, maximum=maximum)
    if value is None:
        raise ValidationError({name: [f"Enter a whole number from 1 to {maximum}."]})
    return value
