"""The key and the MAC that sign export files (HMAC-SHA256, RFC 2104 with FIPS 180-4 SHA-256).

Key: the ``EVENTSTORE_SIGNING_KEY`` setting (a str, taken as its UTF-8 bytes,
or bytes). When it is unset, a key is derived from ``SECRET_KEY`` the way
:func:`django.utils.crypto.salted_hmac` derives its keys, under the fixed salt
:data:`KEY_SALT`::

    key = HMAC-SHA256(key=SHA-256(KEY_SALT + SECRET_KEY), msg=b"export signing key")

so exports are signed out of the box, and changing ``SECRET_KEY`` changes the
key. The key's id, written in each signature, is the first 16 hex digits of
SHA-256(key): it names the key without revealing it.

MAC of an export: HMAC-SHA256 over the exact bytes of every line before the
signature line (each with its ``\\n``), then the canonical JSON (keys sorted,
no spaces, UTF-8) of the signature's other fields.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

from django.utils.crypto import salted_hmac

from .exceptions import InvalidBackendError

__all__ = ["ALGORITHM", "KEY_SALT", "Signer", "key_id", "signing_key", "signed_fields_bytes"]

ALGORITHM = "HMAC-SHA256"
#: Salt of the key derived from ``SECRET_KEY`` when ``EVENTSTORE_SIGNING_KEY`` is unset.
KEY_SALT = "eventstore.signing.export-key"


def signing_key() -> bytes:
    """Return the export signing key (see the module docstring).

    Raises:
        InvalidBackendError: ``EVENTSTORE_SIGNING_KEY`` is set but is not a
            non-empty str or bytes, or neither it nor ``SECRET_KEY`` is set.
    """
    from django.conf import settings

    key = getattr(settings, "EVENTSTORE_SIGNING_KEY", None)
    if key is None:
        if not settings.SECRET_KEY:
            raise InvalidBackendError(
                "Neither EVENTSTORE_SIGNING_KEY nor SECRET_KEY is set: exports cannot be signed."
            )
        return salted_hmac(
            KEY_SALT, "export signing key", secret=settings.SECRET_KEY, algorithm="sha256"
        ).digest()
    if isinstance(key, str) and key:
        return key.encode()
    if isinstance(key, bytes) and key:
        return key
    raise InvalidBackendError("EVENTSTORE_SIGNING_KEY must be a non-empty str or bytes.")


def key_id(key: bytes) -> str:
    """Return the non-secret id of ``key``: the first 16 hex digits of its SHA-256."""
    return hashlib.sha256(key).hexdigest()[:16]


def signed_fields_bytes(fields: dict[str, Any]) -> bytes:
    """Return the canonical JSON bytes of a signature's fields (``mac`` left out)."""
    rest = {name: value for name, value in fields.items() if name != "mac"}
    return json.dumps(rest, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


class Signer:
    """An HMAC-SHA256 fed the lines of an export as they are written or read."""

    def __init__(self, key: bytes) -> None:
        self.key = key
        self._mac = hmac.new(key, digestmod=hashlib.sha256)

    def update(self, line: bytes) -> None:
        """Add the exact bytes of one line (with its ``\\n``)."""
        self._mac.update(line)

    def mac(self, fields: dict[str, Any]) -> str:
        """Return the hex MAC of the lines so far and ``fields`` (the object is not changed)."""
        final = self._mac.copy()
        final.update(signed_fields_bytes(fields))
        return final.hexdigest()

    def verifies(self, fields: dict[str, Any]) -> bool:
        """Whether ``fields["mac"]`` is the MAC of the lines so far (constant-time compare)."""
        given = fields.get("mac")
        return isinstance(given, str) and hmac.compare_digest(given, self.mac(fields))
