"""The projections page of the audit trail: position, lag, status and last error of each."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse

from ..projections.status import status_table


def projection_status_page(request: HttpRequest, context: dict[str, Any]) -> HttpResponse:
    """One row per declared projection (see :func:`eventstore.projections.status.status_table`)."""
    return TemplateResponse(
        request, "eventstore/projections.html", {**context, "projections": status_table()}
    )
