"""Timelines: one aggregate's events with its state after each, and one correlation's events."""

from __future__ import annotations

from typing import Any

from django.http import Http404, HttpRequest, QueryDict
from django.template.response import TemplateResponse
from django.utils import timezone

from ..aggregates import aggregate_types
from ..context import is_valid_correlation_id
from ..exceptions import UndecodableEventError
from ..handler import eventstore
from ..queries.params import parse_int
from ..queries.timelines import changes_by_event, state_changes, timeline_entries
from .common import (
    admin_url,
    aggregate_api_link,
    api_link,
    event_row,
    query_string,
)

__all__ = ["aggregate_timeline", "correlation_timeline"]

#: Most events a correlation timeline shows (the event browser pages through the rest).
MAX_CORRELATION_EVENTS = 500


def aggregate_timeline(
    request: HttpRequest, context: dict[str, Any], aggregate_id: str
) -> TemplateResponse:
    """Show each event of one aggregate: who, the change it made and the state after it.

    The state is rebuilt step by step with the aggregate class's ``replay``
    (from the ``aggregate_types`` registry). ``?version=N`` shows the state at
    version N; an invalid version is a 400 with a message. An event that cannot
    be decoded (its type unregistered, or its payload no longer fitting the
    class) is shown with its stored name and raw data under a warning; states
    are shown up to the version before it, and asking for a later one is a 400.
    """
    events = eventstore.read_aggregate(aggregate_id)
    if not events:
        raise Http404("This aggregate has no events.")
    aggregate_type = events[0].aggregate_type
    aggregate_class = aggregate_types.get(aggregate_type)
    aggregate = aggregate_class(aggregate_id) if aggregate_class else None
    before: dict[str, Any] = {}
    rows = []
    undecodable: UndecodableEventError | None = None
    for event in events:
        row = event_row(request, event)
        if aggregate is not None and undecodable is None:
            try:
                aggregate.replay(event)
            except UndecodableEventError as exc:
                undecodable = exc  # listed from here on, without state
        if aggregate is not None and undecodable is None:
            state = aggregate.state()
            row["state"] = state
            row["changes"] = state_changes(before, state)
            before = state
        rows.append(row)
    current = events[-1].version
    error = None
    version = None
    raw = request.GET.get("version")
    if raw is not None:
        version = parse_int(raw, minimum=1, maximum=current)
        if version is None:
            error = f"Version: enter a whole number from 1 to {current}."
    at_version = rows[version - 1] if version else None
    if version is not None and undecodable is not None and version >= undecodable.version:
        error = (
            f"Version {version}: no state can be built from version {undecodable.version} on "
            f"({undecodable.event_type} is not decodable)."
        )
        at_version = None
    context.update(
        aggregate_id=aggregate_id,
        aggregate_type=aggregate_type,
        rows=rows,
        version=version,
        current_version=current,
        at_version=at_version,
        version_error=error,
        undecodable=undecodable,
        replayable=aggregate is not None,
        api_url=aggregate_api_link(aggregate_type, aggregate_id)
        or api_link("event-list", query={"aggregate_id": aggregate_id}),
        replay_api_url=aggregate_api_link(aggregate_type, aggregate_id, "replay", version)
        if version
        else None,
        browser_url=admin_url(request, "eventstore_audittrail_changelist")
        + query_string(QueryDict(), {"aggregate_id": aggregate_id}),
        time_zone=timezone.get_current_timezone_name(),
    )
    return TemplateResponse(
        request, "eventstore/aggregate_timeline.html", context, status=400 if error else 200
    )


def correlation_timeline(
    request: HttpRequest, context: dict[str, Any], correlation_id: str
) -> TemplateResponse:
    """Show every event sharing one correlation id, in order, indented by causation.

    Each event is indented under the event that caused it (depths from
    :func:`timeline_entries`, as in the API), and the causation tree is drawn
    as nested lists. The change column shows what each event changed in its
    aggregate's state, the same diff as the aggregate timeline
    (:func:`changes_by_event`); an event whose aggregate has no class shows its data.
    """
    if not is_valid_correlation_id(correlation_id):
        raise Http404("Invalid correlation id.")
    total = eventstore.count(correlation_id=correlation_id)
    if not total:
        raise Http404("No events with this correlation id.")
    events = eventstore.search(correlation_id=correlation_id, limit=MAX_CORRELATION_EVENTS)
    entries = timeline_entries(events)
    changes = changes_by_event(eventstore, events)
    rows = [
        {
            **event_row(request, event),
            "depth": entry["depth"],
            "indent": entry["depth"] * 1.5,
            "changes": changes.get(str(event.event_id)),
        }
        for event, entry in zip(events, entries, strict=True)
    ]
    context.update(
        correlation_id=correlation_id,
        rows=rows,
        tree=_causation_tree(rows) if any(row["depth"] for row in rows) else None,
        total=total,
        truncated=total > len(rows),
        aggregates=len({event.aggregate_id for event in events}),
        api_url=api_link("correlation-timeline", args=[correlation_id]),
        browser_url=admin_url(request, "eventstore_audittrail_changelist")
        + query_string(QueryDict(), {"correlation_id": correlation_id}),
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
