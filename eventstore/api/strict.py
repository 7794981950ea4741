"""Refuse query parameters a read endpoint does not know, instead of ignoring them.

A misspelt filter (``?organisation_id=acme``) silently ignored would return
everyone's data as if filtered; here it is a 400 naming the parameter.
"""

from __future__ import annotations

from typing import Any

from rest_framework.exceptions import ValidationError
from rest_framework.request import Request

__all__ = ["KnownQueryParametersMixin"]

#: Parameters DRF itself reads on any endpoint (renderer choice).
ALWAYS_ALLOWED = frozenset({"format"})


class KnownQueryParametersMixin:
    """For DRF views: a ``GET`` with a parameter outside ``query_parameters`` is a 400."""

    #: The query parameters this view reads.
    query_parameters: frozenset[str] = frozenset()

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)  # type: ignore[misc]
        if request.method in ("GET", "HEAD"):
            unknown = set(request.query_params) - self.query_parameters - ALWAYS_ALLOWED
            if unknown:
                known = ", ".join(sorted(self.query_parameters)) or "none"
                message = f"Unknown parameter; this endpoint reads: {known}."
                raise ValidationError({name: [message] for name in sorted(unknown)})
