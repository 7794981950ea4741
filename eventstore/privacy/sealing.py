"""The stored (sealed) form of personal data, and revealing it on read.

At append (:func:`seal`, called once per event by :mod:`eventstore.mapping`),
the personal values of each data subject of the event are encrypted together,
in one AES-256-GCM operation (:mod:`.cipher`), into one envelope kept in the
metadata under the reserved key ``"$personal"``; each personal value is
replaced where it was by a placeholder naming the key::

    data     {"amount": "10.00", "reason": {"$personal": "3f1c…"}}
    metadata {"organization_id": "acme",
              "user_id": {"$personal": "3f1c…", "index": "<blind token>"},
              "username": {"$personal": "3f1c…"},
              "$personal": [{"key": "3f1c…", "fields": ["data.reason",
                             "metadata.user_id", "metadata.username"],
                             "nonce": "…", "ciphertext": "…"}]}

The key id is a random UUID, not the subject: once the key is destroyed
nothing in the event links it to the person. ``user_id``'s placeholder also
holds its blind index token (:func:`~.cipher.blind_token`), which the indexes
of the backends keep instead of the id.

On read (:func:`reveal_data`, :func:`reveal_metadata`, used by
:class:`~eventstore.records.RecordedEvent`), each placeholder is replaced by
its value, or by :data:`~.declarations.ERASED` when the key is gone (erased),
or the envelope does not authenticate for its key and fields (a ciphertext
edited, or given to other fields: logged as a warning on ``eventstore.privacy``).
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Mapping
from typing import Any

from .. import codec
from .cipher import blind_token, open_values, seal_values
from .declarations import ERASED, ActingUser, personal_metadata_keys, user_subject
from .keys import KeyStore

__all__ = [
    "MARK",
    "PERSONAL",
    "erased_view",
    "is_placeholder",
    "is_sealed",
    "reveal_data",
    "reveal_metadata",
    "seal",
    "sealed_form_problem",
    "sealing_key_ids",
]

#: The reserved key of placeholders and of the metadata's envelopes.
PERSONAL = "$personal"
#: The reserved key as it appears in JSON text: no personal data where it is absent.
MARK = '"$personal"'
#: The metadata key whose placeholder carries a blind index token.
INDEXED_KEY = "user_id"

logger = logging.getLogger("eventstore.privacy")


def is_placeholder(value: Any) -> bool:
    """Whether ``value`` is the placeholder of a sealed personal value."""
    return type(value) is dict and PERSONAL in value


def is_sealed(metadata: Mapping[str, Any]) -> bool:
    """Whether event ``metadata`` is already in the sealed form (an import of an export)."""
    return PERSONAL in metadata


def sealed_form_problem(
    event_class: Any, data: Mapping[str, Any], metadata: Mapping[str, Any]
) -> str | None:
    """Return what is wrong with an event given in the sealed form, or None if nothing is.

    ``"$personal"`` is reserved: an event carrying it is kept as given (an
    import), so it must really be sealed: a non-empty list of envelopes (each
    with a ``key``, its ``fields``, a ``nonce`` and a ``ciphertext``), and no
    personal value in plain where a data subject exists (the acting user's
    ``user_id`` or a declared subject field), else the key would never have
    been used and erasure could not reach it.
    """
    envelopes = metadata.get(PERSONAL)
    if (
        not isinstance(envelopes, list)
        or not envelopes
        or not all(
            isinstance(envelope, dict)
            and isinstance(envelope.get("key"), str)
            and isinstance(envelope.get("fields"), list)
            and all(isinstance(path, str) for path in envelope["fields"])
            and isinstance(envelope.get("nonce"), str)
            and isinstance(envelope.get("ciphertext"), str)
            for envelope in envelopes
        )
    ):
        return (
            f"metadata key {PERSONAL!r} is reserved for sealed personal data: a list of "
            "envelopes with key, fields, nonce and ciphertext."
        )
    user_id = metadata.get("user_id")
    has_user = is_placeholder(user_id) or user_subject(user_id) is not None
    if has_user:
        for name in personal_metadata_keys():
            value = metadata.get(name)
            if value is not None and not is_placeholder(value):
                return f"metadata.{name} is in plain beside sealed personal data."
    personal = event_class.personal_data
    if personal is not None:
        subject = personal.subject
        # The acting user's placeholder names no subject in plain: its presence is enough.
        has_subject = (
            has_user if isinstance(subject, ActingUser) else subject.subject(data, metadata)
        )
        if has_subject:
            for name in personal.fields:
                value = data.get(name)
                if value is not None and not is_placeholder(value):
                    return f"data.{name} is in plain beside sealed personal data."
    return None


def sealing_key_ids(metadata_json: str) -> list[str]:
    """Return the key ids of the envelopes in an event's metadata text (``[]`` if none).

    ``metadata_json`` is the stored canonical text; envelopes are the list under
    ``"$personal"``, each naming its key under ``"key"``. Anything else there
    (not a list, an envelope without a str key) names no key.
    """
    if MARK not in metadata_json:
        return []
    envelopes = codec.loads(metadata_json).get(PERSONAL)
    if not isinstance(envelopes, list):
        return []
    return [
        envelope["key"]
        for envelope in envelopes
        if isinstance(envelope, dict) and isinstance(envelope.get("key"), str)
    ]


def seal(
    event_class: Any,
    data: Mapping[str, Any],
    metadata: Mapping[str, Any],
    keys: KeyStore,
) -> tuple[Mapping[str, Any], Mapping[str, Any]]:
    """Return ``(data, metadata)`` with the event's personal values sealed.

    Args:
        event_class: the registered class (its ``personal_data`` declaration, or None).
        data: the JSON-native payload (not modified).
        metadata: the merged metadata (not modified).
        keys: the store's key store; a subject's key is created on its first event.

    Returns:
        The same objects when nothing is personal (no subject, no value), else
        new dicts in the sealed form (see the module docstring). ``None`` values
        stay as they are.
    """
    groups: dict[str, list[tuple[str, str, Any]]] = {}
    user = user_subject(metadata.get("user_id")) if metadata else None
    if user is not None:
        for name in personal_metadata_keys():
            value = metadata.get(name)
            if value is not None:
                groups.setdefault(user, []).append((f"metadata.{name}", name, value))
    personal = event_class.personal_data
    if personal is not None:
        subject = personal.subject.subject(data, metadata)
        if subject is not None:
            for name in personal.fields:
                value = data.get(name)
                if value is not None:
                    groups.setdefault(subject, []).append((f"data.{name}", name, value))
    if not groups:
        return data, metadata
    data, metadata = dict(data), dict(metadata)
    envelopes = []
    for subject, places in groups.items():
        key = keys.key_for(subject)
        places.sort()
        envelopes.append(
            seal_values(key, [path for path, _, _ in places], [value for *_, value in places])
        )
        for path, name, value in places:
            placeholder: dict[str, Any] = {PERSONAL: key.key_id}
            if path[0] == "m":
                if name == INDEXED_KEY:
                    placeholder["index"] = blind_token(key, value)
                metadata[name] = placeholder
            else:
                data[name] = placeholder
    metadata[PERSONAL] = envelopes
    return data, metadata


def _opened(envelopes: Any, event_id: uuid.UUID, keys: KeyStore | None) -> dict[str, Any]:
    """Return ``{field path: value}`` of the envelopes that open.

    A path is in at most one envelope that opens: each names the paths it fills,
    authenticated with them (see :func:`~.cipher.associated_data`).
    """
    opened: dict[str, Any] = {}
    if keys is None or not isinstance(envelopes, list):
        return opened
    for envelope in envelopes:
        key_id = envelope.get("key") if isinstance(envelope, dict) else None
        key = keys.get(key_id) if isinstance(key_id, str) else None
        if key is None:
            continue  # erased
        values = open_values(key, envelope)
        if values is None:
            logger.warning(
                "Personal data of event %s does not authenticate (edited): read as %s.",
                event_id,
                ERASED,
            )
            continue
        for path, value in zip(envelope["fields"], values, strict=True):
            opened[path] = value
    return opened


def _fill(part: dict[str, Any], prefix: str, opened: dict[str, Any]) -> dict[str, Any]:
    for name, value in part.items():
        if type(value) is dict and PERSONAL in value:
            part[name] = opened.get(prefix + name, ERASED)
    return part


def reveal_metadata(
    metadata_json: str, event_id: uuid.UUID, keys: KeyStore | None
) -> dict[str, Any]:
    """Return the metadata with its personal values revealed (or :data:`ERASED`), no envelopes."""
    metadata: dict[str, Any] = codec.loads(metadata_json)
    envelopes = metadata.pop(PERSONAL, None)
    return _fill(metadata, "metadata.", _opened(envelopes, event_id, keys))


def reveal_data(
    data_json: str, metadata_json: str, event_id: uuid.UUID, keys: KeyStore | None
) -> dict[str, Any]:
    """Return the data with its personal values revealed (or :data:`ERASED`)."""
    data: dict[str, Any] = codec.loads(data_json)
    envelopes = codec.loads(metadata_json).get(PERSONAL) if MARK in metadata_json else None
    return _fill(data, "data.", _opened(envelopes, event_id, keys))


def erased_view(data: Mapping[str, Any]) -> dict[str, Any]:
    """Return ``data`` with every placeholder as :data:`ERASED` (what an import must replay as)."""
    return {name: ERASED if is_placeholder(value) else value for name, value in data.items()}
