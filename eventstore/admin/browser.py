"""The event browser: events newest first, filtered like an admin change list, paged by position."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from django.http import HttpRequest, QueryDict
from django.template.response import TemplateResponse
from django.utils import timezone

from ..aggregates import aggregate_types
from ..events import registry
from ..handler import eventstore
from ..money import event_money
from ..queries.counting import MatchCount, count_matches
from ..queries.filters import EventFilterSet
from ..queries.paging import EventPage, newest_first
from ..queries.params import parse_int
from ..records import RecordedEvent
from .common import (
    NEWER_THAN,
    OLDER_THAN,
    PAGE_SIZE,
    admin_url,
    api_link,
    event_row,
    hidden_inputs,
    query_string,
    unknown_parameters,
    without,
)

__all__ = ["event_browser", "parse_filters"]


def parse_filters(params: QueryDict) -> tuple[EventFilterSet, dict[str, int | None], list[str]]:
    """Read the browser's query string: the filters, the page cursors and every error.

    Returns ``(filterset, cursors, errors)``: ``cursors`` maps ``older_than`` and
    ``newer_than`` to a position or None; ``errors`` is one message per invalid
    or unknown parameter (empty when the filters can be run; then
    ``filterset.criteria()`` gives the store's criteria).
    """
    filterset = EventFilterSet(without(params, OLDER_THAN, NEWER_THAN))
    errors: list[str] = []
    cursors: dict[str, int | None] = {}
    for name in (OLDER_THAN, NEWER_THAN):
        raw = params.get(name)
        cursors[name] = None
        if raw is not None:
            cursors[name] = parse_int(raw, minimum=0)
            if cursors[name] is None:
                errors.append(f"Page cursor {name}: enter a position (a whole number).")
    if cursors[OLDER_THAN] is not None and cursors[NEWER_THAN] is not None:
        errors.append("Give either older_than or newer_than, not both.")
    errors.extend(unknown_parameters(params, {*filterset.filters, OLDER_THAN, NEWER_THAN}))
    if not filterset.is_valid():
        for name, messages in filterset.errors.items():
            label = filterset.filters[name].label if name in filterset.filters else name
            errors.extend(f"{label}: {message}" for message in messages)
    return filterset, cursors, errors


def event_browser(request: HttpRequest, context: dict[str, Any]) -> TemplateResponse:
    """List events newest first, filtered like an admin change list, with cursor paging.

    Query parameters: those of :class:`EventFilterSet` (the API's), and
    ``older_than``/``newer_than`` (a position) for paging. Invalid values are
    shown as errors with no results (status 400), never ignored.

    The count line counts the events matching the filters
    (:func:`~eventstore.queries.counting.count_matches`): exact for indexed
    filters, "more than N" for a free-text search that would have to read
    every event; without filters it gives the store's totals.
    """
    params = request.GET
    filterset, cursors, errors = parse_filters(params)
    page = None
    match_count: MatchCount | None = None
    criteria: dict[str, Any] = {}
    if not errors:
        criteria = filterset.criteria()
        page = newest_first(
            eventstore,
            criteria,
            size=PAGE_SIZE,
            older_than=cursors[OLDER_THAN],
            newer_than=cursors[NEWER_THAN],
        )
        if criteria:
            match_count = count_matches(eventstore, criteria, page)
    filters_query = without(params, OLDER_THAN, NEWER_THAN)
    context.update(
        filterset=filterset,
        errors=errors,
        rows=[_browser_row(request, event, params) for event in page.events] if page else [],
        page=page,
        match_count=match_count,
        stats=eventstore.stats(),
        page_size=PAGE_SIZE,
        filtered=bool(criteria),
        **_page_links(params, page, came_from_newer=cursors[OLDER_THAN] is not None),
        filter_groups=_filter_groups(params),
        active_filters=_active_filters(params, filterset),
        clear_url="?",
        text_filters=[
            _text_filter(name, str(filterset.filters[name].label), params.get(name, ""))
            for name in (
                "organization_id",
                "user_id",
                "aggregate_id",
                "correlation_id",
                "causation_id",
                "from",
                "to",
            )
        ],
        hidden_for_sidebar=hidden_inputs(params, keep=("event_type", "aggregate_type", "search")),
        hidden_for_search=hidden_inputs(params, drop=("search",)),
        search=params.get("search", ""),
        api_url=api_link("event-list", query=filters_query),
        export_url=None
        if errors
        else admin_url(request, "eventstore_event_export") + query_string(params, {}),
        analytics_url=admin_url(request, "eventstore_analytics"),
        time_zone=timezone.get_current_timezone_name(),
    )
    return TemplateResponse(
        request, "eventstore/event_browser.html", context, status=400 if errors else 200
    )


def _browser_row(request: HttpRequest, event: RecordedEvent, params: QueryDict) -> dict[str, Any]:
    """Return :func:`event_row` with the money the event carries (``money``: EventMoney or None)."""
    money = event_money(event.data, registry.money_role(event.event_type))
    return {**event_row(request, event, params), "money": money}


def _text_filter(name: str, label: str, value: str) -> dict[str, str]:
    """Return one sidebar field: a date picker for ``from``/``to`` unless it holds a date-time.

    ``<input type="date">`` holds only a date (ISO 8601 ``YYYY-MM-DD``, which the
    filter reads as that whole day); a date-time bound (from a link or the API)
    stays in a text field so that submitting the form keeps it.
    """
    kind = "text"
    if name in ("from", "to") and (not value or _is_date(value)):
        kind = "date"
    return {"name": name, "label": label, "value": value, "type": kind}


def _is_date(value: str) -> bool:
    try:
        date.fromisoformat(value)
    except ValueError:
        return False
    return len(value) == 10


def _page_links(
    params: QueryDict, page: EventPage | None, *, came_from_newer: bool
) -> dict[str, str | None]:
    """Return the URLs of the newest, newer and older pages (None where there is none)."""
    if page is None:
        return {"newest_url": None, "newer_url": None, "older_url": None}
    return {
        "newest_url": query_string(params, {}) if page.newer_than or came_from_newer else None,
        "newer_url": query_string(params, {NEWER_THAN: page.newer_than})
        if page.newer_than
        else None,
        "older_url": query_string(params, {OLDER_THAN: page.older_than})
        if page.older_than
        else None,
    }


def _filter_groups(params: QueryDict) -> list[dict[str, Any]]:
    """Return the sidebar's link lists: event type, aggregate type and date."""
    today = timezone.localdate()
    groups = []
    for name, title, values in (
        ("event_type", "event type", sorted(registry.names())),
        ("aggregate_type", "aggregate type", sorted(aggregate_types)),
    ):
        current = params.getlist(name)
        choices = [
            {"display": "All", "url": query_string(params, {name: None}), "selected": not current}
        ]
        choices.extend(
            {
                "display": value,
                "url": query_string(params, {name: value}),
                "selected": current == [value],
            }
            for value in values
        )
        groups.append({"title": title, "param": name, "choices": choices})
    ranges = [
        ("Any date", None, None),
        ("Today", today, today),
        ("Past 7 days", today - timedelta(days=6), today),
        ("This month", today.replace(day=1), today),
        ("This year", today.replace(month=1, day=1), today),
    ]
    current_dates = (params.get("from") or None, params.get("to") or None)
    groups.append(
        {
            "title": "date",
            "param": "from",
            "choices": [
                {
                    "display": display,
                    "url": query_string(
                        params,
                        {
                            "from": start.isoformat() if start else None,
                            "to": end.isoformat() if end else None,
                        },
                    ),
                    "selected": current_dates
                    == (start.isoformat() if start else None, end.isoformat() if end else None),
                }
                for display, start, end in ranges
            ],
        }
    )
    return groups


def _active_filters(params: QueryDict, filterset: EventFilterSet) -> list[dict[str, Any]]:
    """Return the filters in use, each with a link that removes it."""
    active = []
    for name, field in filterset.filters.items():
        values = [value for value in params.getlist(name) if value]
        if values:
            active.append(
                {
                    "label": field.label,
                    "value": ", ".join(values),
                    "remove_url": query_string(params, {name: None}),
                }
            )
    return active
