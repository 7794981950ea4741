"""The analytics dashboard: statistics and trends of event types, and the money section,
drawn as inline SVG charts with a table of the same numbers (money tables also as CSV)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings
from django.contrib.auth import get_user_model
from django.http import HttpRequest, QueryDict
from django.http.response import HttpResponseBase
from django.template.response import TemplateResponse
from django.utils import timezone

from ..events import registry
from ..exceptions import InvalidQueryError
from ..handler import eventstore
from ..queries.analytics import INTERVALS, UNKNOWN, Statistics, Trends, statistics, trends
from ..queries.forms import AnalyticsQueryForm
from ..queries.money import TABLES, MoneyAnalytics, money_analytics
from ..queries.scope import visible_organizations
from . import charts, money
from .common import (
    admin_url,
    api_link,
    query_string,
    unknown_parameters,
    without,
)

__all__ = ["analytics_dashboard"]

#: Bars drawn for organizations and users; the rest are summed into one "other" bar.
MAX_RANKED_BARS = 20
#: Days the analytics dashboard covers when no range is given (today included).
DEFAULT_ANALYTICS_DAYS = 30


def analytics_dashboard(request: HttpRequest, context: dict[str, Any]) -> HttpResponseBase:
    """Show statistics and trends of event types over a time range, with SVG charts, and the
    money figures of the same range (:mod:`.money`).

    Query parameters are the analytics API's, parsed by the same
    :class:`~eventstore.queries.forms.AnalyticsQueryForm`: ``event_type``
    (repeatable; default every registered type), ``from`` / ``to`` (inclusive;
    default the last :data:`DEFAULT_ANALYTICS_DAYS` days), ``tz`` (IANA name;
    default ``TIME_ZONE``) and ``interval`` (hour, day, week, month; default
    day). Counts come from :func:`~eventstore.queries.analytics.statistics` and
    :func:`~eventstore.queries.analytics.trends`, money from
    :func:`~eventstore.queries.money.money_analytics` (every event type declaring a
    money role, whatever ``event_type`` says); invalid values are shown as errors
    (status 400) with no figures. ``download=<table>`` (one of
    :data:`~eventstore.queries.money.TABLES`) answers that money table as a CSV file.
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
    errors = unknown_parameters(
        params, {"event_type", "from", "to", "tz", "interval", money.DOWNLOAD}
    )
    table = params.get(money.DOWNLOAD)
    if table is not None and table not in TABLES:
        errors.append(f"{money.DOWNLOAD}: choose one of {', '.join(TABLES)}, not {table!r}.")
    stats = trend = None
    cash: MoneyAnalytics | None = None
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
            cash = money_analytics(
                eventstore,
                cleaned["start"],
                cleaned["end"],
                interval=cleaned["interval"],
                **arguments,
            )
        except InvalidQueryError as exc:
            errors.append(str(exc))
            stats = trend = cash = None
    if cash is not None and table is not None:
        return money.download(cash, table)
    interval = data["interval"] if data["interval"] in INTERVALS else "day"
    chart_list = _analytics_charts(stats, trend, interval) if stats and trend else []
    selected_types = [name for name in params.getlist("event_type") if name]
    busiest_hour = _busiest(stats.by_hour) if stats else None
    context.update(
        errors=errors,
        stats=stats,
        trend=trend,
        charts=chart_list,
        interval=interval,
        interval_links=[
            {
                "name": name,
                "url": query_string(params, {"interval": name}),
                "selected": name == interval,
            }
            for name in INTERVALS
        ],
        event_type_choices=sorted(registry.names()),
        selected_types=selected_types,
        form_values={"from": data["from"], "to": data["to"], "tz": tz_name},
        time_zone=stats.time_zone if stats else (tz_name or settings.TIME_ZONE),
        days_with_events=sum(1 for count in stats.by_day.values() if count) if stats else 0,
        busiest_day=_busiest(stats.by_day) if stats else None,
        busiest_hour=busiest_hour,
        # "2024-10-27T02:00+01:00" shown "2024-10-27 02:00 +01:00": it wraps at the spaces.
        busiest_hour_shown=(
            f"{busiest_hour[0][:10]} {busiest_hour[0][11:16]} {busiest_hour[0][16:]}"
            if busiest_hour
            else ""
        ),
        statistics_api_url=api_link("analytics-statistics", query=without(data, "interval")),
        trends_api_url=api_link("analytics-trends", query=data),
        money=money.money_context(request, cash, params) if cash is not None else None,
        money_api_url=api_link("analytics-money", query=without(data, "event_type")),
        events_api_url=api_link("replay-by-type", query=without(data, "interval", "tz")),
        browser_url=admin_url(request, "eventstore_audittrail_changelist")
        + query_string(
            QueryDict(),
            {"event_type": selected_types or None, "from": data["from"], "to": data["to"]},
        ),
    )
    return TemplateResponse(
        request, "eventstore/analytics.html", context, status=400 if errors else 200
    )


def _analytics_charts(stats: Statistics, trend: Trends, interval: str) -> list[dict[str, Any]]:
    """Return the dashboard's charts, each ``{"id", "chart"}``, from the services' results.

    One chart per question: events per chosen interval (partial buckets
    hatched), events per hour (every hour of the range, empty ones 0; not for
    a range too long to list every hour), by organization and by user.
    """
    labels = [bucket["bucket"] for bucket in trend.buckets]
    trend_options: dict[str, Any] = {"partial": [bucket["partial"] for bucket in trend.buckets]}
    if interval == "hour":
        trend_options["axis_labels"], trend_options["tick_at"] = charts.hour_axis(labels)
    elif interval == "day":
        trend_options["axis_labels"] = charts.day_axis(labels)
    hour_labels, hour_ticks = charts.hour_axis(list(stats.by_hour))
    result = [
        {
            "id": "trend",
            "chart": charts.bar_chart(
                f"Events per {interval}",
                [(bucket["bucket"], bucket["count"]) for bucket in trend.buckets],
                label_heading=interval.capitalize(),
                **trend_options,
            ),
        },
    ]
    # Per hour, the trend is already the hourly chart; past MAX_BUCKETS hours the
    # statistics list only the hours with events, which would not make a time axis.
    if interval != "hour" and stats.filled:
        result.append(
            {
                "id": "by-hour",
                "chart": charts.line_chart(
                    "Events per hour",
                    list(stats.by_hour.items()),
                    label_heading="Hour",
                    axis_labels=hour_labels,
                    tick_at=hour_ticks,
                ),
            }
        )
    return [
        *result,
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
    """Return the ``(label, count)`` with the highest count (the first of ties), or None
    when every count is 0."""
    best = max(counts.items(), key=lambda item: item[1], default=None)
    return best if best is not None and best[1] > 0 else None


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
