"""What every audit-trail page shares: event rows, query strings and links to the API."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

from django.http import HttpRequest, QueryDict
from django.urls import NoReverseMatch, reverse

from ..aggregates import aggregate_types
from ..context import is_valid_correlation_id
from ..records import RecordedEvent

__all__ = [
    "admin_url",
    "aggregate_api_link",
    "api_link",
    "event_row",
    "hidden_inputs",
    "pretty_json",
    "query_dict",
    "query_string",
    "unknown_parameters",
    "without",
]

#: Events per page of the event browser.
PAGE_SIZE = 50
#: Query parameters of the browser's cursor (positions); the rest are filters.
OLDER_THAN = "older_than"
NEWER_THAN = "newer_than"


def admin_url(request: HttpRequest, name: str, *args: Any) -> str:
    """Return the URL of the audit-trail page ``name`` on the admin site serving ``request``.

    Reversed in the ``admin`` namespace with ``current_app`` set to the site's
    name (as Django's admin does), so the pages work on any admin site.
    """
    return reverse(
        f"admin:{name}", args=[str(arg) for arg in args], current_app=request.current_app
    )


def event_row(
    request: HttpRequest, event: RecordedEvent, params: QueryDict | None = None
) -> dict[str, Any]:
    """Return what the pages show of one event (``params``: the list's, for filter links)."""
    metadata = event.metadata
    data = event.data
    row: dict[str, Any] = {
        "event": event,
        "data": data,
        "data_pretty": pretty_json(data),
        "who": metadata.get("username") or metadata.get("user_id") or "system",
        "organization_id": metadata.get("organization_id"),
        "user_id": metadata.get("user_id"),
        "detail_url": admin_url(request, "eventstore_event_detail", event.event_id),
        "timeline_url": admin_url(request, "eventstore_aggregate_timeline", event.aggregate_id),
        "correlation_url": admin_url(
            request, "eventstore_correlation_timeline", event.correlation_id
        )
        if event.correlation_id and is_valid_correlation_id(event.correlation_id)
        else None,
    }
    if params is not None:
        row["filter_urls"] = {
            name: query_string(params, {name: str(value)})
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


def unknown_parameters(params: QueryDict, known: set[str]) -> list[str]:
    """Return an error for each query parameter the page does not know (a typo must not
    silently show unfiltered results)."""
    return [
        f"Unknown parameter {name!r}: use one of {', '.join(sorted(known))}."
        for name in params
        if name not in known
    ]


def pretty_json(value: Any) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False, sort_keys=True)


def without(params: QueryDict, *names: str) -> QueryDict:
    result = params.copy()
    for name in names:
        result.pop(name, None)
    return result


def query_string(params: QueryDict, changes: Mapping[str, Any]) -> str:
    """Return ``?query`` for ``params`` with ``changes``, without the page cursor.

    A change to None removes the parameter; a list sets every value. A change
    of filter goes back to the newest page, like the admin's change list.
    """
    result = without(params, OLDER_THAN, NEWER_THAN)
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


def hidden_inputs(
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


def api_link(
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
        query = query_dict(query)
    encoded = query_string(query, {})
    return url + (encoded if encoded != "?" else "")


def query_dict(values: Mapping[str, Any]) -> QueryDict:
    """Return ``values`` (a value or list of values per name; None for none) as a QueryDict."""
    result = QueryDict(mutable=True)
    for name, value in values.items():
        if value is None:
            continue
        result.setlist(
            name, [str(item) for item in value] if isinstance(value, list | tuple) else [str(value)]
        )
    return result


def aggregate_api_link(
    aggregate_type: str, aggregate_id: str, kind: str = "history", version: int | None = None
) -> str | None:
    """Return the domain API URL of an aggregate, if its class names one for ``kind``.

    The names come from the aggregate class's ``api_url_names``; None when the
    type has no class, names no URL of that kind, or the URL is not installed.
    """
    aggregate_class = aggregate_types.get(aggregate_type)
    name = aggregate_class.api_url_names.get(kind) if aggregate_class else None
    if name is None:
        return None
    return api_link(name, args=[aggregate_id], query={"version": version} if version else None)
