"""The staff audit-trail pages: event browser, event detail, timelines, analytics dashboard.

Each view takes the request and the admin context built by
:class:`~eventstore.admin.AuditTrailAdmin` (which wraps it in the admin site's
``admin_view`` and checks the ``eventstore.view_audit_trail`` permission) and
returns a :class:`~django.template.response.TemplateResponse`.

Nothing is computed twice: filters are parsed and validated by the API's
:class:`~eventstore.queries.filters.EventFilterSet`, counts come from
:mod:`eventstore.queries.analytics`, causation depths from
:func:`~eventstore.queries.timelines.timeline_entries`, and states from the
aggregate classes' own ``replay``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings
from django.contrib.auth import get_user_model
from django.http import Http404, HttpRequest, QueryDict
from django.template.response import TemplateResponse
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from ..aggregates import aggregate_types
from ..context import is_valid_correlation_id
from ..events import registry
from ..exceptions import InvalidQueryError
from ..handler import eventstore
from ..queries.analytics import INTERVALS, UNKNOWN, Statistics, Trends, statistics, trends
from ..queries.filters import EventFilterSet
from ..queries.forms import AnalyticsQueryForm
from ..queries.paging import EventPage, newest_first
from ..queries.scope import visible_organizations
from ..queries.timelines import timeline_entries
from ..records import RecordedEvent
from . import charts

__all__ = [
    "aggregate_timeline",
    "analytics_dashboard",
    "correlation_timeline",
    "event_browser",
    "event_detail",
]

#: Events per page of the event browser.
PAGE_SIZE = 50
#: Query parameters of the browser's cursor (positions); the rest are filters.
OLDER_THAN = "older_than"
NEWER_THAN = "newer_than"
#: Most events a correlation timeline shows (the event browser pages through the rest).
MAX_CORRELATION_EVENTS = 500
#: Bars drawn for organizations and users; the rest are summed into one "other" bar.
MAX_RANKED_BARS = 20
#: Days the analytics dashboard covers when no range is given (today included).
DEFAULT_ANALYTICS_DAYS = 30


# -- event browser ---------------------------------------------------------------------------


def event_browser(request: HttpRequest, context: dict[str, Any]) -> TemplateResponse:
    """List events newest first, filtered like an admin change list, with cursor paging.

    Query parameters: those of :class:`EventFilterSet` (the API's), and
    ``older_than``/``newer_than`` (a position) for paging. Invalid values are
    shown as errors with no results (status 400), never ignored.
    """
    params = request.GET
    filterset = EventFilterSet(_without(params, OLDER_THAN, NEWER_THAN))
    errors: list[str] = []
    cursors: dict[str, int | None] = {}
    for name in (OLDER_THAN, NEWER_THAN):
        raw = params.get(name)
        cursors[name] = None
        if raw is not None:
            if raw.isascii() and raw.isdigit() and int(raw) < 2**63:
                cursors[name] = int(raw)
            else:
                errors.append(f"Page cursor {name}: enter a position (a whole number).")
    if cursors[OLDER_THAN] is not None and cursors[NEWER_THAN] is not None:
        errors.append("Give either older_than or newer_than, not both.")
    errors.extend(_unknown_parameters(params, {*filterset.filters, OLDER_THAN, NEWER_THAN}))
    if not filterset.is_valid():
        for name, messages in filterset.errors.items():
            label = filterset.filters[name].label if name in filterset.filters else name
            errors.extend(f"{label}: {message}" for message in messages)
    page = None
    result_count = None
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
        # Counting a free-text search would read every event: like the admin's
        # show_full_result_count, the count is only shown for indexed filters.
        if criteria and "text" not in criteria:
            result_count = page.total if page.total is not None else eventstore.count(**criteria)
    filters_query = _without(params, OLDER_THAN, NEWER_THAN)
    context.update(
        filterset=filterset,
        errors=errors,
        rows=[_row(event, params) for event in page.events] if page else [],
        page=page,
        result_count=result_count,
        stats=eventstore.stats(),
        page_size=PAGE_SIZE,
        filtered=bool(criteria),
        **_page_links(params, page, came_from_newer=cursors[OLDER_THAN] is not None),
        filter_groups=_filter_groups(params),
        active_filters=_active_filters(params, filterset),
        clear_url="?",
        text_filters=[
            (name, filterset.filters[name].label, params.get(name, ""))
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
        hidden_for_sidebar=_hidden(params, keep=("event_type", "aggregate_type", "search")),
        hidden_for_search=_hidden(params, drop=("search",)),
        search=params.get("search", ""),
        api_url=_api_url("event-list", query=filters_query),
        analytics_url=reverse("admin:eventstore_analytics"),
        time_zone=timezone.get_current_timezone_name(),
    )
    return TemplateResponse(
        request, "eventstore/event_browser.html", context, status=400 if errors else 200
    )


def _page_links(
    params: QueryDict, page: EventPage | None, *, came_from_newer: bool
) -> dict[str, str | None]:
    """Return the URLs of the newest, newer and older pages (None where there is none)."""
    if page is None:
        return {"newest_url": None, "newer_url": None, "older_url": None}
    return {
        "newest_url": _query(params, {}) if page.newer_than or came_from_newer else None,
        "newer_url": _query(params, {NEWER_THAN: page.newer_than}) if page.newer_than else None,
        "older_url": _query(params, {OLDER_THAN: page.older_than}) if page.older_than else None,
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
        choices = [{"display": "All", "url": _query(params, {name: None}), "selected": not current}]
        choices.extend(
            {
                "display": value,
                "url": _query(params, {name: value}),
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
                    "url": _query(
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
                    "remove_url": _query(params, {name: None}),
                }
            )
    return active


# -- event detail ----------------------------------------------------------------------------


def event_detail(request: HttpRequest, context: dict[str, Any], event_id: str) -> TemplateResponse:
    """Show every field of one event, with links to its timelines, cause and effects."""
    event = eventstore.get_event(event_id)
    if event is None:
        raise Http404("No event with this id.")
    cause = eventstore.get_event(event.causation_id) if event.causation_id else None
    effects = eventstore.search(causation_id=str(event.event_id), limit=PAGE_SIZE)
    neighbours = eventstore.read_aggregate(
        event.aggregate_id, max(1, event.version - 1), event.version + 1
    )
    context.update(
        event=event,
        row=_row(event),
        metadata_pretty=_pretty(event.metadata),
        cause=cause,
        effects=effects,
        previous=next((e for e in neighbours if e.version == event.version - 1), None),
        following=next((e for e in neighbours if e.version == event.version + 1), None),
        timeline_url=reverse("admin:eventstore_aggregate_timeline", args=[event.aggregate_id])
        + f"?version={event.version}#v{event.version}",
        correlation_url=reverse(
            "admin:eventstore_correlation_timeline", args=[event.correlation_id]
        )
        if event.correlation_id and is_valid_correlation_id(event.correlation_id)
        else None,
        api_url=_api_url("event-detail", args=[str(event.event_id)]),
        history_api_url=_aggregate_api_url(event.aggregate_type, event.aggregate_id),
        time_zone=timezone.get_current_timezone_name(),
    )
    return TemplateResponse(request, "eventstore/event_detail.html", context)


# -- aggregate timeline ----------------------------------------------------------------------


def aggregate_timeline(
    request: HttpRequest, context: dict[str, Any], aggregate_id: str
) -> TemplateResponse:
    """Show each event of one aggregate: who, the change it made and the state after it.

    The state is rebuilt step by step with the aggregate class's ``replay``
    (from the ``aggregate_types`` registry). ``?version=N`` shows the state at
    version N; an invalid version is a 400 with a message.
    """
    events = eventstore.read_aggregate(aggregate_id)
    if not events:
        raise Http404("This aggregate has no events.")
    aggregate_type = events[0].aggregate_type
    aggregate_class = aggregate_types.get(aggregate_type)
    aggregate = aggregate_class(aggregate_id) if aggregate_class else None
    before: dict[str, Any] = {}
    rows = []
    for event in events:
        row = _row(event)
        if aggregate is not None:
            aggregate.replay(event)
            state = aggregate.state()
            row["state"] = state
            row["changes"] = [
                (key, before.get(key), value)
                for key, value in state.items()
                if key != "version" and before.get(key) != value
            ]
            before = state
        rows.append(row)
    current = events[-1].version
    error = None
    version = None
    raw = request.GET.get("version")
    if raw is not None:
        if raw.isascii() and raw.isdigit() and 1 <= int(raw) <= current:
            version = int(raw)
        else:
            error = f"Version: enter a whole number from 1 to {current}."
    at_version = rows[version - 1] if version else None
    context.update(
        aggregate_id=aggregate_id,
        aggregate_type=aggregate_type,
        rows=rows,
        version=version,
        current_version=current,
        at_version=at_version,
        version_error=error,
        replayable=aggregate is not None,
        api_url=_aggregate_api_url(aggregate_type, aggregate_id)
        or _api_url("event-list", query={"aggregate_id": aggregate_id}),
        replay_api_url=_aggregate_api_url(aggregate_type, aggregate_id, "replay", version)
        if version
        else None,
        browser_url=reverse("admin:eventstore_audittrail_changelist")
        + _query(QueryDict(), {"aggregate_id": aggregate_id}),
        time_zone=timezone.get_current_timezone_name(),
    )
    return TemplateResponse(
        request, "eventstore/aggregate_timeline.html", context, status=400 if error else 200
    )


# -- correlation timeline --------------------------------------------------------------------


def correlation_timeline(
    request: HttpRequest, context: dict[str, Any], correlation_id: str
) -> TemplateResponse:
    """Show every event sharing one correlation id, in order, indented by causation.

    Each event is indented under the event that caused it (depths from
    :func:`timeline_entries`, as in the API), and the causation tree is drawn
    as nested lists.
    """
    if not is_valid_correlation_id(correlation_id):
        raise Http404("Invalid correlation id.")
    total = eventstore.count(correlation_id=correlation_id)
    if not total:
        raise Http404("No events with this correlation id.")
    events = eventstore.search(correlation_id=correlation_id, limit=MAX_CORRELATION_EVENTS)
    entries = timeline_entries(events)
    rows = [
        {**_row(event), "depth": entry["depth"], "indent": entry["depth"] * 1.5}
        for event, entry in zip(events, entries, strict=True)
    ]
    context.update(
        correlation_id=correlation_id,
        rows=rows,
        tree=_causation_tree(rows) if any(row["depth"] for row in rows) else None,
        total=total,
        truncated=total > len(rows),
        aggregates=len({event.aggregate_id for event in events}),
        api_url=_api_url("correlation-timeline", args=[correlation_id]),
        browser_url=reverse("admin:eventstore_audittrail_changelist")
        + _query(QueryDict(), {"correlation_id": correlation_id}),
        time_zone=timezone.get_current_timezone_name(),
    )
    return TemplateResponse(request, "eventstore/correlation_timeline.html", context)


def _causation_tree(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Return the rows as a forest: each node ``{"row", "children"}``, in position order.

    An event's parent is the event named by its causation id when that event
    is in the timeline; otherwise it is a root.
    """
    nodes: dict[str, dict[str, Any]] = {
        str(row["event"].event_id): {"row": row, "children": []} for row in rows
    }
    roots: list[dict[str, Any]] = []
    for row in rows:
        node = nodes[str(row["event"].event_id)]
        parent = nodes.get(row["event"].causation_id or "")
        (parent["children"] if parent is not None and parent is not node else roots).append(node)
    return roots


# -- analytics dashboard ---------------------------------------------------------------------


def analytics_dashboard(request: HttpRequest, context: dict[str, Any]) -> TemplateResponse:
    """Show statistics and trends of event types over a time range, with SVG charts.

    Query parameters are the analytics API's, parsed by the same
    :class:`~eventstore.queries.forms.AnalyticsQueryForm`: ``event_type``
    (repeatable; default every registered type), ``from`` / ``to`` (inclusive;
    default the last :data:`DEFAULT_ANALYTICS_DAYS` days), ``tz`` (IANA name;
    default ``TIME_ZONE``) and ``interval`` (hour, day, week, month; default
    day). Counts come from :func:`~eventstore.queries.analytics.statistics` and
    :func:`~eventstore.queries.analytics.trends`; invalid values are shown as errors
    (status 400) with no figures.
    """
    params = request.GET
    tz_name = params.get("tz") or ""
    try:
        today = timezone.localdate(timezone=ZoneInfo(tz_name or settings.TIME_ZONE))
    except (ZoneInfoNotFoundError, ValueError):
        today = timezone.localdate()
    data = QueryDict(mutable=True)
    data.setlist(
        "event_type",
        [name for name in params.getlist("event_type") if name] or sorted(registry.names()),
    )
    data["from"] = params.get("from") or (today - timedelta(DEFAULT_ANALYTICS_DAYS - 1)).isoformat()
    data["to"] = params.get("to") or today.isoformat()
    if tz_name:
        data["tz"] = tz_name
    data["interval"] = params.get("interval") or "day"
    form = AnalyticsQueryForm(data, with_interval=True)
    errors = _unknown_parameters(params, {"event_type", "from", "to", "tz", "interval"})
    stats = trend = None
    if not form.is_valid():
        errors.extend(
            f"{name}: {message}"
            for name, messages in form.api_errors().items()
            for message in messages
        )
    if not errors:
        cleaned = form.cleaned_data
        arguments = {
            "tz": cleaned["tz"],
            "organization_ids": visible_organizations(request.user),
        }
        try:
            stats = statistics(
                eventstore, cleaned["event_type"], cleaned["start"], cleaned["end"], **arguments
            )
            trend = trends(
                eventstore,
                cleaned["event_type"],
                cleaned["start"],
                cleaned["end"],
                interval=cleaned["interval"],
                **arguments,
            )
        except InvalidQueryError as exc:
            errors.append(str(exc))
            stats = trend = None
    interval = data["interval"] if data["interval"] in INTERVALS else "day"
    chart_list = _analytics_charts(stats, trend, interval) if stats and trend else []
    selected_types = [name for name in params.getlist("event_type") if name]
    context.update(
        errors=errors,
        stats=stats,
        trend=trend,
        charts=chart_list,
        interval=interval,
        interval_links=[
            {"name": name, "url": _query(params, {"interval": name}), "selected": name == interval}
            for name in INTERVALS
        ],
        event_type_choices=sorted(registry.names()),
        selected_types=selected_types,
        form_values={"from": data["from"], "to": data["to"], "tz": tz_name},
        time_zone=stats.time_zone if stats else (tz_name or settings.TIME_ZONE),
        busiest_day=_busiest(stats.by_day) if stats else None,
        busiest_hour=_busiest(stats.by_hour) if stats else None,
        statistics_api_url=_api_url("analytics-statistics", query=_without(data, "interval")),
        trends_api_url=_api_url("analytics-trends", query=data),
        events_api_url=_api_url("replay-by-type", query=_without(data, "interval", "tz")),
        browser_url=reverse("admin:eventstore_audittrail_changelist")
        + _query(
            QueryDict(),
            {"event_type": selected_types or None, "from": data["from"], "to": data["to"]},
        ),
    )
    return TemplateResponse(
        request, "eventstore/analytics.html", context, status=400 if errors else 200
    )


def _analytics_charts(stats: Statistics, trend: Trends, interval: str) -> list[dict[str, Any]]:
    """Return the dashboard's charts, each ``{"id", "chart"}``, from the services' results."""
    return [
        {
            "id": "trend",
            "chart": charts.bar_chart(
                f"Events per {interval}",
                [(bucket["bucket"], bucket["count"]) for bucket in trend.buckets],
                label_heading=interval.capitalize(),
            ),
        },
        {
            "id": "by-day",
            "chart": charts.line_chart(
                "Events by day", list(stats.by_day.items()), label_heading="Day"
            ),
        },
        {
            "id": "by-hour",
            "chart": charts.line_chart(
                "Events by hour (hours with events)",
                list(stats.by_hour.items()),
                label_heading="Hour",
            ),
        },
        {
            "id": "by-organization",
            "chart": charts.bar_chart(
                "Events by organization",
                _ranked(stats.by_organization, "organizations"),
                label_heading="Organization",
            ),
        },
        {
            "id": "by-user",
            "chart": charts.bar_chart(
                "Events by user",
                _ranked(_user_labels(stats.by_user), "users"),
                label_heading="User",
            ),
        },
    ]


def _busiest(counts: Mapping[str, int]) -> tuple[str, int] | None:
    """Return the ``(label, count)`` with the highest count (the first of ties), or None."""
    return max(counts.items(), key=lambda item: item[1]) if counts else None


def _ranked(counts: Mapping[str, int], noun: str) -> list[tuple[str, int]]:
    """Return the largest :data:`MAX_RANKED_BARS` counts, then one row summing the others."""
    items = list(counts.items())
    if len(items) <= MAX_RANKED_BARS:
        return items
    head, rest = items[: MAX_RANKED_BARS - 1], items[MAX_RANKED_BARS - 1 :]
    return [*head, (f"{len(rest)} other {noun}", sum(count for _, count in rest))]


def _user_labels(by_user: Mapping[str, int]) -> dict[str, int]:
    """Return ``by_user`` keyed by "username (id)" where the id names a known user."""
    ids = [key for key in by_user if key != UNKNOWN and key.isascii() and key.isdigit()]
    names = dict(
        get_user_model()
        .objects.filter(pk__in=[int(key) for key in ids])
        .values_list("pk", get_user_model().USERNAME_FIELD)
    )
    return {
        (f"{names[int(key)]} ({key})" if key in ids and int(key) in names else key): count
        for key, count in by_user.items()
    }


# -- shared helpers --------------------------------------------------------------------------


def _row(event: RecordedEvent, params: QueryDict | None = None) -> dict[str, Any]:
    """Return what the pages show of one event (``params``: the list's, for filter links)."""
    metadata = event.metadata
    data = event.data
    row: dict[str, Any] = {
        "event": event,
        "data": data,
        "data_pretty": _pretty(data),
        "who": metadata.get("username") or metadata.get("user_id") or "system",
        "organization_id": metadata.get("organization_id"),
        "user_id": metadata.get("user_id"),
        "detail_url": reverse("admin:eventstore_event_detail", args=[str(event.event_id)]),
        "timeline_url": reverse("admin:eventstore_aggregate_timeline", args=[event.aggregate_id]),
        "correlation_url": reverse(
            "admin:eventstore_correlation_timeline", args=[event.correlation_id]
        )
        if event.correlation_id and is_valid_correlation_id(event.correlation_id)
        else None,
    }
    if params is not None:
        row["filter_urls"] = {
            name: _query(params, {name: str(value)})
            for name, value in (
                ("event_type", event.event_type),
                ("aggregate_id", event.aggregate_id),
                ("correlation_id", event.correlation_id),
                ("causation_id", event.causation_id),
                ("organization_id", row["organization_id"]),
                ("user_id", row["user_id"]),
            )
            if value is not None
        }
    return row


def _unknown_parameters(params: QueryDict, known: set[str]) -> list[str]:
    """Return an error for each query parameter the page does not know (a typo must not
    silently show unfiltered results)."""
    return [
        f"Unknown parameter {name!r}: use one of {', '.join(sorted(known))}."
        for name in params
        if name not in known
    ]


def _pretty(value: Any) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False, sort_keys=True)


def _without(params: QueryDict, *names: str) -> QueryDict:
    result = params.copy()
    for name in names:
        result.pop(name, None)
    return result


def _query(params: QueryDict, changes: Mapping[str, Any]) -> str:
    """Return ``?query`` for ``params`` with ``changes``, without the page cursor.

    A change to None removes the parameter; a list sets every value. A change
    of filter goes back to the newest page, like the admin's change list.
    """
    result = _without(params, OLDER_THAN, NEWER_THAN)
    for name, value in changes.items():
        if value is None or value == "":
            result.pop(name, None)
        elif isinstance(value, list | tuple):
            result.setlist(name, [str(item) for item in value])
        else:
            result[name] = str(value)
    for name in list(result):
        if all(value == "" for value in result.getlist(name)):
            result.pop(name)
    encoded = result.urlencode()
    return f"?{encoded}" if encoded else "?"


def _hidden(
    params: QueryDict, *, keep: Iterable[str] | None = None, drop: Iterable[str] = ()
) -> list[tuple[str, str]]:
    """Return ``(name, value)`` pairs of ``params`` to carry in a form's hidden inputs."""
    keep = set(keep) if keep is not None else None
    drop = {*drop, OLDER_THAN, NEWER_THAN}
    return [
        (name, value)
        for name, values in params.lists()
        if name not in drop and (keep is None or name in keep)
        for value in values
        if value
    ]


def _api_url(
    name: str, *, args: list[Any] | None = None, query: Mapping[str, Any] | None = None
) -> str | None:
    """Return the API URL named ``name`` with ``query``, or None if the URL is not installed."""
    try:
        url = reverse(name, args=args)
    except NoReverseMatch:
        return None
    if not query:
        return url
    if not isinstance(query, QueryDict):
        query = _query_dict(query)
    encoded = _query(query, {})
    return url + (encoded if encoded != "?" else "")


def _query_dict(values: Mapping[str, Any]) -> QueryDict:
    """Return ``values`` (a value or list of values per name; None for none) as a QueryDict."""
    result = QueryDict(mutable=True)
    for name, value in values.items():
        if value is None:
            continue
        result.setlist(
            name, [str(item) for item in value] if isinstance(value, list | tuple) else [str(value)]
        )
    return result


def _aggregate_api_url(
    aggregate_type: str, aggregate_id: str, kind: str = "history", version: int | None = None
) -> str | None:
    """Return the domain API URL of an aggregate (``payment-history``...), if installed."""
    name = f"{aggregate_type.lower()}-{kind}"
    return _api_url(name, args=[aggregate_id], query={"version": version} if version else None)
