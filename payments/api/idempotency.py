"""``Idempotency-Key`` support for command endpoints.

A ``POST`` with an ``Idempotency-Key`` header (1 to 255 visible ASCII
characters) is run once per user and key: its answer is kept, and a retry
with the same key and the same method, path and body gets that answer again
(with an ``Idempotent-Replayed: true`` header) and appends nothing. The same
key with a different request is refused with 422 (``idempotency_key_reused``);
a retry that arrives while the first is still running gets 409
(``idempotency_key_in_use``). Only answers the view returns are kept: a
request refused with an error (a rule, a conflict, a server error) stored
nothing, and its retry runs again.

The first request claims the key (a row without an answer). The claim is
released on every way out of the view, ``BaseException`` included (gunicorn's
worker timeout raises ``SystemExit``). A claim left by a process that died
without releasing it (killed) expires: once older than
``settings.IDEMPOTENCY_CLAIM_TIMEOUT`` seconds (default
:data:`DEFAULT_CLAIM_TIMEOUT`, 300), a retry takes it over.

A retry that runs again (a released or expired claim) gets a definitive
answer from the store, never a second command: the request's command id
(recorded as ``command_id`` in its events' metadata) and, for ``POST
/api/payments/`` without a ``payment_id``, the generated payment id are
derived from the user, the key and the request (:func:`command_id`). If the
events of that command are stored, the answer is the original one (the
payment's state after them, 201); if not, the command runs now.
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
import re
import uuid
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import IntegrityError, transaction
from django.utils import timezone
from rest_framework.exceptions import APIException, ValidationError
from rest_framework.request import Request
from rest_framework.response import Response

from ..models import IdempotencyRecord

__all__ = [
    "DEFAULT_CLAIM_TIMEOUT",
    "IDEMPOTENCY_HEADER",
    "IDEMPOTENCY_KEY_PATTERN",
    "command_id",
    "idempotent",
]

logger = logging.getLogger(__name__)

#: Seconds after which a claim without an answer is taken over by a retry (the default
#: of ``settings.IDEMPOTENCY_CLAIM_TIMEOUT``): longer than any request may run.
DEFAULT_CLAIM_TIMEOUT = 300
# Names the command ids derived from idempotency keys (uuid5).
_NAMESPACE = uuid.UUID("3f0b2a52-5c0e-4e57-9a57-1d5e0c9b7a61")

IDEMPOTENCY_HEADER = "Idempotency-Key"
#: Visible ASCII but the comma, which joins repeated headers ("a, b" is two keys).
IDEMPOTENCY_KEY_PATTERN = re.compile(r"[\x21-\x2b\x2d-\x7e]{1,255}")


class IdempotencyKeyReused(APIException):
    status_code = 422
    default_detail = "This Idempotency-Key was used for a different request."
    default_code = "idempotency_key_reused"


class IdempotencyKeyInUse(APIException):
    status_code = 409
    default_detail = "A request with this Idempotency-Key is still being processed."
    default_code = "idempotency_key_in_use"


def claim_timeout() -> timedelta:
    """Return ``settings.IDEMPOTENCY_CLAIM_TIMEOUT`` (seconds, default 300) as a timedelta."""
    seconds = getattr(settings, "IDEMPOTENCY_CLAIM_TIMEOUT", DEFAULT_CLAIM_TIMEOUT)
    if isinstance(seconds, bool) or not isinstance(seconds, (int, float)) or seconds <= 0:
        raise ImproperlyConfigured("IDEMPOTENCY_CLAIM_TIMEOUT must be a number of seconds above 0.")
    return timedelta(seconds=seconds)


def command_id(request: Request) -> str | None:
    """Return the command id the view must use for ``request``, or None for a new one.

    Set for a request with an ``Idempotency-Key``: the same for every retry of
    that request (same user, key, method, path and body), so that a retry can
    find in the store what an earlier attempt did.
    """
    return getattr(request, "_idempotency_command_id", None)


def _fingerprint(request: Request) -> str:
    data = request.data
    body = data.lists() if hasattr(data, "lists") else data
    canonical = json.dumps(
        [request.method, request.path, dict(body) if hasattr(data, "lists") else body],
        sort_keys=True,
        default=str,
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


def _in_use() -> IdempotencyKeyInUse:
    seconds = int(claim_timeout().total_seconds())
    return IdempotencyKeyInUse(
        f"A request with this Idempotency-Key is still being processed. Retry later: "
        f"a request that has not answered after {seconds} seconds is taken over by its retry."
    )


def _take_over(claim: IdempotencyRecord) -> IdempotencyRecord:
    """Return ``claim`` claimed again by this request if it expired, else raise 409.

    One retry wins: the claim is renewed only if nobody renewed or answered it since.
    """
    now = timezone.now()
    if claim.created_at > now - claim_timeout():
        raise _in_use()
    renewed = IdempotencyRecord.objects.filter(
        pk=claim.pk, status_code=0, created_at=claim.created_at
    ).update(created_at=now)
    if not renewed:
        raise _in_use()
    claim.created_at = now
    logger.warning(
        "Idempotency-Key %r: a claim from %s was never answered; its retry takes it over.",
        claim.key,
        claim.created_at.isoformat(),
    )
    return claim


def _release(record: IdempotencyRecord) -> None:
    """Delete the claim ``record`` if still ours and unanswered; never raise.

    If the database cannot be reached now, the claim expires after the timeout.
    """
    try:
        IdempotencyRecord.objects.filter(
            pk=record.pk, status_code=0, created_at=record.created_at
        ).delete()
    except Exception:
        logger.exception("Idempotency-Key %r: the claim could not be released.", record.key)


def idempotent(method: Callable[..., Response]) -> Callable[..., Response]:
    """Make a DRF view's ``post`` honour the ``Idempotency-Key`` header (see the module)."""

    @functools.wraps(method)
    def wrapper(view: Any, request: Request, *args: Any, **kwargs: Any) -> Response:
        key = request.headers.get(IDEMPOTENCY_HEADER)
        if key is None:
            return method(view, request, *args, **kwargs)
        if not IDEMPOTENCY_KEY_PATTERN.fullmatch(key):
            raise ValidationError(
                {IDEMPOTENCY_HEADER: ["Use 1 to 255 visible ASCII characters, without commas."]}
            )
        fingerprint = _fingerprint(request)
        kept = IdempotencyRecord.objects.filter(user=request.user, key=key).first()
        if kept is not None:
            if kept.fingerprint != fingerprint:
                raise IdempotencyKeyReused()
            if kept.status_code == 0:
                record = _take_over(kept)
            else:
                headers = {"Idempotent-Replayed": "true"}
                if kept.location:
                    headers["Location"] = kept.location
                return Response(kept.body, status=kept.status_code, headers=headers)
        else:
            try:
                with transaction.atomic():
                    record = IdempotencyRecord.objects.create(
                        user=request.user, key=key, fingerprint=fingerprint, status_code=0, body={}
                    )
            except IntegrityError:
                raise _in_use() from None
        seed = f"{request.user.pk}\n{key}\n{fingerprint}"
        request._idempotency_command_id = str(uuid.uuid5(_NAMESPACE, seed))  # type: ignore[attr-defined]
        try:
            response = method(view, request, *args, **kwargs)
        except BaseException:
            # Any way out without an answer, SystemExit and KeyboardInterrupt included:
            # release the claim, so that the retry runs (and finds what was stored).
            _release(record)
            raise
        if response.status_code >= 500:
            _release(record)
        else:
            # An update, not a save: the claim may have been taken over and released since.
            IdempotencyRecord.objects.filter(pk=record.pk).update(
                status_code=response.status_code,
                body=response.data,
                location=response.get("Location", ""),
            )
        return response

    return wrapper
