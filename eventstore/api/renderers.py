"""CSV for the API's event list: ``?format=csv`` or ``Accept: text/csv``.

Rows and columns are :mod:`eventstore.queries.export`'s (the event browser's
download has the same; filtered by ``event_type``, a column per data field of
those types): a header row, then one row per event of the page,
ISO 8601 times, amounts as exact decimal strings, formula cells neutralised.

Paging: a CSV answer is the same cursor page as the JSON one (``page_size``
1..500, default 50; ``cursor``), so its rows are exactly the JSON page's
``results``. A CSV body has no room for ``next``: the next page's URL is in
the ``Link`` header (RFC 8288, ``rel="next"``), absent on the last page.
Errors (400, 401, 403, 404) stay JSON, whatever was asked.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response

from ..queries.export import event_csv_lines

__all__ = ["CSVErrorsAsJSONMixin", "EventCSVRenderer"]


class EventCSVRenderer(BaseRenderer):
    """Render a page of events (``{"next": url, "results": [event, ...]}``) as CSV."""

    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(
        self,
        data: Any,
        accepted_media_type: str | None = None,
        renderer_context: Mapping[str, Any] | None = None,
    ) -> bytes:
        """Return the CSV file of ``data["results"]`` (header row first), UTF-8.

        Sets the response's ``Link`` header to ``data["next"]`` when there is one.

        Raises:
            TypeError: if ``data`` is not a page of events (views send errors as JSON).
        """
        if not isinstance(data, Mapping) or "results" not in data:
            raise TypeError("EventCSVRenderer renders pages of events only.")
        context = renderer_context or {}
        response, request = context.get("response"), context.get("request")
        if response is not None and data.get("next"):
            response["Link"] = f'<{data["next"]}>; rel="next"'
        event_types = request.query_params.getlist("event_type") if request is not None else []
        return b"".join(event_csv_lines(data["results"], event_types))


class CSVErrorsAsJSONMixin:
    """For DRF views offering CSV: answer errors in JSON, which a CSV table cannot hold."""

    def finalize_response(
        self, request: Request, response: Any, *args: Any, **kwargs: Any
    ) -> Response:
        renderer = getattr(request, "accepted_renderer", None)
        if isinstance(renderer, EventCSVRenderer) and response.status_code >= 400:
            request.accepted_renderer = JSONRenderer()
            request.accepted_media_type = JSONRenderer.media_type
        return super().finalize_response(request, response, *args, **kwargs)  # type: ignore[misc,no-any-return]
