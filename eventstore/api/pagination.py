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

__all__ = ["PositionPagination"]


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
        if raw is None or raw == "":
            return self.page_size
        if not raw.isascii() or not raw.isdigit() or not 1 <= int(raw) <= self.max_page_size:
            raise ValidationError(
                {
                    self.page_size_query_param: [
                        f"Enter a whole number from 1 to {self.max_page_size}."
                    ]
                }
            )
        return int(raw)

    def _decode_cursor(self, raw: str | None) -> int:
        if not raw:
            return 0
        try:
            decoded = base64.urlsafe_b64decode(raw.encode("ascii")).decode("ascii")
            prefix, _, position = decoded.partition("=")
            if prefix != "p" or not position.isascii() or not position.isdigit():
                raise ValueError(decoded)
            return int(position)
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
