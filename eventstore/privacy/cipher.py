"""The cipher of personal data: AES-256-GCM per subject key, and the blind index.

- Encryption: AES-256-GCM (NIST SP 800-38D) with ``cryptography``'s ``AESGCM``,
  a fresh random 96-bit nonce per new plaintext (SP 800-38D §8.2.2, the RBG
  construction), a 128-bit tag. The associated data binds a ciphertext to its
  key and its fields (:func:`associated_data`): given other fields or another
  key id, it no longer decrypts.
- Reuse: the same values of one subject in the same fields (a user's id and
  name, in every event that user causes) are sealed once per process and the
  same envelope (nonce and ciphertext) is stored again: the same bits, so the
  nonce is never used for a different plaintext (SP 800-38D §8: uniqueness is
  required across distinct inputs), and equal texts share memory. What it
  tells a reader of the stored form (these events carry equal values of one
  subject) the key id already tells. Copying an envelope into another event
  of its subject is what an import does; an edit of a stored event is the hash
  chain's to find (:mod:`eventstore.integrity`).
- Blind index: ``HMAC-SHA256(index key, canonical JSON of the value)`` (RFC 2104,
  FIPS 180-4), base64url without padding (43 characters). The index key is
  ``HMAC-SHA256(subject key, "eventstore blind index v1")``, so the token of a
  value can be computed only while the subject's key exists.

Binary values in stored JSON are base64url without padding (RFC 4648 §5).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import uuid
from collections.abc import Sequence
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from .. import codec

__all__ = [
    "KEY_BYTES",
    "NONCE_BYTES",
    "SubjectKey",
    "associated_data",
    "b64decode",
    "b64encode",
    "blind_token",
    "open_values",
    "seal_values",
]

#: AES-256: 32 bytes of key.
KEY_BYTES = 32
#: 96-bit nonces (NIST SP 800-38D §5.2.1.1 recommends 96 bits).
NONCE_BYTES = 12

_INDEX_LABEL = b"eventstore blind index v1"
_SCALARS = frozenset({str, int, bool, type(None)})
_AAD_LABEL = b"eventstore personal data v1"
_AAD_PREFIX = _AAD_LABEL + b"\x00"


class SubjectKey:
    """One data subject's key: a random id (not derived from the subject), the secret bytes.

    Attributes:
        key_id: a random UUID string; what stored events name (never the subject).
        subject: ``<kind>:<id>``.
        secret: 32 random bytes (AES-256).
        aead: the ``AESGCM`` built once from ``secret``.
        index_key: the HMAC key of the subject's blind index tokens.

    Raises:
        ValueError: if ``secret`` is not 32 bytes.
    """

    __slots__ = ("key_id", "subject", "secret", "aead", "index_key", "tokens", "sealed", "opened")

    def __init__(self, key_id: str, subject: str, secret: bytes) -> None:
        if len(secret) != KEY_BYTES:
            raise ValueError(f"A subject key is {KEY_BYTES} bytes, got {len(secret)}.")
        self.key_id = key_id
        self.subject = subject
        self.secret = bytes(secret)
        self.aead = AESGCM(self.secret)
        self.index_key = hmac.new(self.secret, _INDEX_LABEL, hashlib.sha256).digest()
        #: Blind index tokens computed with this key, by value text (see blind_token()).
        self.tokens: dict[str, str] = {}
        #: Envelopes sealed with this key, by (field paths, plaintext) (see seal_values()).
        self.sealed: dict[tuple[tuple[str, ...], bytes], dict[str, Any]] = {}
        #: Values opened with this key, by (fields, nonce, ciphertext) (see open_values()).
        self.opened: dict[tuple[tuple[str, ...], str, str], list[Any]] = {}

    @classmethod
    def generate(cls, subject: str) -> SubjectKey:
        """Return a new key for ``subject``: a random UUID id, 32 bytes from ``os.urandom``."""
        return cls(str(uuid.uuid4()), subject, os.urandom(KEY_BYTES))

    def __copy__(self) -> SubjectKey:  # immutable: snapshots share it
        return self

    def __deepcopy__(self, memo: dict[int, Any]) -> SubjectKey:
        return self

    def __repr__(self) -> str:  # never the secret
        return f"SubjectKey({self.key_id!r}, {self.subject!r})"


def b64encode(raw: bytes) -> str:
    """Return base64url without padding (RFC 4648 §5)."""
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def b64decode(text: str) -> bytes:
    """Decode base64url with or without padding.

    Raises:
        ValueError: if ``text`` is not base64url.
    """
    if not isinstance(text, str):
        raise ValueError("expected base64url text")
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def associated_data(key_id: str, fields: Sequence[str]) -> bytes:
    """Return the AES-GCM associated data of one subject's sealed values in an event.

    ``label NUL key-id NUL field paths joined by NUL``: the ciphertext
    authenticates the key named and the field paths (``data.reason``,
    ``metadata.user_id``) it fills.
    """
    return b"".join((_AAD_PREFIX, key_id.encode("ascii"), b"\x00", "\x00".join(fields).encode()))


#: Most envelopes (and opened values) kept per key: a subject's usual values are few.
_REUSE_LIMIT = 64


def seal_values(key: SubjectKey, fields: Sequence[str], values: Sequence[Any]) -> dict[str, Any]:
    """Encrypt ``values`` (JSON-native, one per field path) as one envelope.

    The first time these values are sealed in these fields with ``key`` (in this
    process), with a fresh random nonce; later, the same envelope again (see the
    module docstring; up to 64 kept per key).

    Returns:
        A new dict ``{"key": key id, "fields": [paths], "nonce": b64url(12
        bytes), "ciphertext": b64url(ciphertext || 16-byte tag)}``; the
        plaintext is the canonical JSON list of the values, in the order of
        ``fields``.
    """
    listed = list(values)
    if not all(type(value) in _SCALARS for value in listed):
        listed = codec.to_native(listed)
    plaintext = codec.dumps(listed, native=True).encode()
    reuse = (tuple(fields), plaintext)
    envelope = key.sealed.get(reuse)
    if envelope is None:
        nonce = os.urandom(NONCE_BYTES)
        sealed = key.aead.encrypt(nonce, plaintext, associated_data(key.key_id, fields))
        envelope = {
            "key": key.key_id,
            "fields": list(fields),
            "nonce": b64encode(nonce),
            "ciphertext": b64encode(sealed),
        }
        if len(key.sealed) < _REUSE_LIMIT:
            key.sealed[reuse] = envelope
    return {**envelope, "fields": list(envelope["fields"])}


def open_values(key: SubjectKey, envelope: dict[str, Any]) -> list[Any] | None:
    """Decrypt an envelope of :func:`seal_values`; None if it does not authenticate.

    None when the ciphertext, nonce, fields or key id were changed (the tag or
    the associated data differs), or it is malformed. What opened is kept with
    the key (up to 64 envelopes), so an envelope read again is not decrypted again.
    """
    try:
        fields = envelope["fields"]
        nonce, ciphertext = envelope["nonce"], envelope["ciphertext"]
        reuse = (tuple(fields), nonce, ciphertext)
        known = key.opened.get(reuse)
        if known is not None:
            return list(known)
        plaintext = key.aead.decrypt(
            b64decode(nonce), b64decode(ciphertext), associated_data(key.key_id, fields)
        )
        values = codec.loads(plaintext.decode())
    except (InvalidTag, KeyError, TypeError, ValueError, AttributeError):
        return None
    if not isinstance(values, list) or len(values) != len(fields):
        return None
    if len(key.opened) < _REUSE_LIMIT:
        key.opened[reuse] = list(values)
    return values


def blind_token(key: SubjectKey, value: Any) -> str:
    """Return the blind index token of a value (a metadata ``user_id``) under ``key``.

    ``base64url(HMAC-SHA256(key.index_key, text))`` where the text is the value
    itself for a string, its JSON form otherwise (``7`` and ``"7"`` give one
    token, as the database's ``user_id`` column holds both as ``"7"``): equal
    values give equal tokens under one key; without the key nobody can tell
    which value a token stands for, or compute it.
    """
    text = value if isinstance(value, str) else codec.dumps(value)
    token = key.tokens.get(text)
    if token is None:
        token = b64encode(hmac.new(key.index_key, text.encode(), hashlib.sha256).digest())
        if len(key.tokens) < 16:  # a subject's key indexes its own id: one entry, bounded
            key.tokens[text] = token
    return token
