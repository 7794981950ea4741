"""``Idempotency-Key`` support for command endpoints.

A ``POST`` with an ``Idempotency-Key`` header (1 to 255 visible ASCII
characters) is run once per user and key: its answer is kept, and a retry
with the same key and the same method, path and body gets that answer again
(with an ``Idempotent-Replayed: true`` header) and appends nothing. The same
key with a different request is refused with 422 (``idempotency_key_reused``);
a retry that arrives while the first is still running gets 409. Only answers
the view returns are kept: a request refused with an error (a rule, a
conflict, a server error) stored nothing, and its retry runs again.
"""

from __future__ import annotations

import functools
import hashlib
import json
import re
from collections.abc import Callable
from typing import Any

from django.db import IntegrityError, transaction
from rest_framework.exceptions import APIException, ValidationError
from rest_framework.request import Request
from rest_framework.response import Response

from ..models import IdempotencyRecord

__all__ = ["IDEMPOTENCY_HEADER", "idempotent"]

IDEMPOTENCY_HEADER = "Idempotency-Key"
# Visible ASCII but the comma, which joins repeated headers ("a, b" is two keys).
_KEY = re.compile(r"[\x21-\x2b\x2d-\x7e]{1,255}")


class IdempotencyKeyReused(APIException):
    status_code = 422
    default_detail = "This Idempotency-Key was used for a different request."
    default_code = "idempotency_key_reused"


class IdempotencyKeyInUse(APIException):
    status_code = 409
    default_detail = "A request with this Idempotency-Key is still being processed."
    default_code = "idempotency_key_in_use"


def _fingerprint(request: Request) -> str:
    data = request.data
    body = data.lists() if hasattr(data, "lists") else data
    canonical = json.dumps(
        [request.method, request.path, dict(body) if hasattr(data, "lists") else body],
        sort_keys=True,
        default=str,
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


def idempotent(method: Callable[..., Response]) -> Callable[..., Response]:
    """Make a DRF view's ``post`` honour the ``Idempotency-Key`` header (see the module)."""

    @functools.wraps(method)
    def wrapper(view: Any, request: Request, *args: Any, **kwargs: Any) -> Response:
        key = request.headers.get(IDEMPOTENCY_HEADER)
        if key is None:
            return method(view, request, *args, **kwargs)
        if not _KEY.fullmatch(key):
            raise ValidationError(
                {IDEMPOTENCY_HEADER: ["Use 1 to 255 visible ASCII characters, without commas."]}
            )
        fingerprint = _fingerprint(request)
        kept = IdempotencyRecord.objects.filter(user=request.user, key=key).first()
        if kept is not None:
            if kept.fingerprint != fingerprint:
                raise IdempotencyKeyReused()
            if kept.status_code == 0:
                raise IdempotencyKeyInUse()
            headers = {"Idempotent-Replayed": "true"}
            if kept.location:
                headers["Location"] = kept.location
            return Response(kept.body, status=kept.status_code, headers=headers)
        try:
            with transaction.atomic():
                record = IdempotencyRecord.objects.create(
                    user=request.user, key=key, fingerprint=fingerprint, status_code=0, body={}
                )
        except IntegrityError:
            raise IdempotencyKeyInUse() from None
        try:
            response = method(view, request, *args, **kwargs)
        except Exception:
            record.delete()  # nothing was kept: a retry runs again
            raise
        if response.status_code >= 500:
            record.delete()
        else:
            record.status_code = response.status_code
            record.body = response.data
            record.location = response.get("Location", "")
            record.save(update_fields=["status_code", "body", "location"])
        return response

    return wrapper
