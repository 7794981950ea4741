"""The event browser's CSV download: every event matching its filters, streamed."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.utils import timezone

from ..handler import eventstore
from ..queries.csv import CSV_CONTENT_TYPE
from ..queries.export import event_csv_lines, matching_events
from .browser import event_browser, parse_filters

__all__ = ["event_export"]


def event_export(request: HttpRequest, context: dict[str, Any]) -> HttpResponseBase:
    """Download the events matching the browser's filters as CSV, every page, streamed.

    Query parameters: the event browser's filters (page cursors are ignored:
    the download holds every matching event, oldest first). The format is
    :mod:`eventstore.queries.export`'s. Rows are read from the store a chunk
    at a time while the response is sent, never built in memory. Invalid
    filters give the browser page with the errors (status 400), not a file.
    """
    filterset, _cursors, errors = parse_filters(request.GET)
    if errors:
        return event_browser(request, context)
    criteria = filterset.criteria()
    events = matching_events(eventstore, criteria)
    lines = event_csv_lines(events, criteria.get("event_type", ()))
    response = StreamingHttpResponse(lines, content_type=CSV_CONTENT_TYPE)
    stamp = timezone.now().strftime("%Y%m%dT%H%M%SZ")
    response["Content-Disposition"] = f'attachment; filename="events-{stamp}.csv"'
    return response
