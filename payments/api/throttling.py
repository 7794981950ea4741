"""Throttling of ``POST /api/auth/token/``: password guessing is slowed per client address."""

from __future__ import annotations

from typing import Any

from rest_framework.settings import api_settings
from rest_framework.throttling import SimpleRateThrottle

__all__ = ["TokenRateThrottle"]


class TokenRateThrottle(SimpleRateThrottle):
    """At most ``DEFAULT_THROTTLE_RATES["auth_token"]`` token requests per client address.

    Keyed by address whether or not the request carries credentials (unlike
    ``AnonRateThrottle``), so a logged-in session does not lift the limit. The
    address is ``REMOTE_ADDR``, or the ``X-Forwarded-For`` entry ``NUM_PROXIES``
    from the end behind that many trusted proxies. Counts live in Django's
    default cache (per process with the local-memory cache). A refused request
    is a 429 with ``Retry-After``.
    """

    scope = "auth_token"

    def get_rate(self) -> str | None:
        # Read at each request (not at import, as DRF's class attribute is), so that
        # settings overrides in tests and deployments take effect.
        rate: str | None = api_settings.DEFAULT_THROTTLE_RATES.get(self.scope)
        return rate

    def get_cache_key(self, request: Any, view: Any) -> str:
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}
