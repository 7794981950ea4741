"""The event detail page: one event with its data, metadata, cause and effects."""

from __future__ import annotations

from typing import Any

from django.http import Http404, HttpRequest
from django.template.response import TemplateResponse
from django.utils import timezone

from ..context import is_valid_correlation_id
from ..handler import eventstore
from .common import (
    PAGE_SIZE,
    admin_url,
    aggregate_api_link,
    api_link,
    event_row,
    pretty_json,
)

__all__ = ["event_detail"]


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
        row=event_row(request, event),
        metadata_pretty=pretty_json(event.metadata),
        chain_hash=event.chain_hash.hex(),
        cause=cause,
        effects=effects,
        previous=next((e for e in neighbours if e.version == event.version - 1), None),
        following=next((e for e in neighbours if e.version == event.version + 1), None),
        timeline_url=admin_url(request, "eventstore_aggregate_timeline", event.aggregate_id)
        + f"?version={event.version}#v{event.version}",
        correlation_url=admin_url(request, "eventstore_correlation_timeline", event.correlation_id)
        if event.correlation_id and is_valid_correlation_id(event.correlation_id)
        else None,
        api_url=api_link("event-detail", args=[str(event.event_id)]),
        history_api_url=aggregate_api_link(event.aggregate_type, event.aggregate_id),
        time_zone=timezone.get_current_timezone_name(),
    )
    return TemplateResponse(request, "eventstore/event_detail.html", context)
