"""The JSON Lines form of recorded events, shared by export, import and the journal.

One event is one JSON object with, in this order: ``event_id``,
``aggregate_id``, ``aggregate_type``, ``event_type``, ``version``,
``position``, ``timestamp`` (ISO 8601, UTC offset, microseconds),
``correlation_id``, ``causation_id``, ``schema_version``, ``metadata``,
``data``, ``hash`` (the event's chain hash, 64 lowercase hex digits, see
:mod:`eventstore.integrity`). ``metadata`` and ``data`` are written as the
exact JSON text the store holds, so export → import → export gives the same
bytes. Lines written before the chain existed have no ``hash``; they are read
with an empty ``chain_hash``.
"""

from __future__ import annotations

import json
import re
import uuid
from datetime import datetime
from typing import Any

from . import codec
from .exceptions import InvalidEventError
from .records import ENVELOPE_FIELDS, RecordedEvent

__all__ = ["record_to_json", "record_from_object", "record_from_json"]

_FIELDS = (*ENVELOPE_FIELDS, "metadata", "data")
_HEX64 = re.compile("[0-9a-f]{64}")


def record_to_json(record: RecordedEvent) -> str:
    """Return ``record`` as one line of JSON text (no trailing newline)."""
    head = json.dumps(
        {
            "event_id": str(record.event_id),
            "aggregate_id": record.aggregate_id,
            "aggregate_type": record.aggregate_type,
            "event_type": record.event_type,
            "version": record.version,
            "position": record.position,
            "timestamp": record.timestamp.isoformat(timespec="microseconds"),
            "correlation_id": record.correlation_id,
            "causation_id": record.causation_id,
            "schema_version": record.schema_version,
        },
        ensure_ascii=False,
        separators=(",", ":"),
    )
    text = f'{head[:-1]},"metadata":{record.metadata_json},"data":{record.data_json}'
    if record.chain_hash:
        return f'{text},"hash":"{record.chain_hash.hex()}"}}'
    return text + "}"


def record_from_object(obj: Any) -> RecordedEvent:
    """Build a :class:`RecordedEvent` from a decoded JSON object of :func:`record_to_json`.

    Raises:
        InvalidEventError: naming the field that is missing or malformed.
    """
    if not isinstance(obj, dict):
        raise InvalidEventError("An event line must be a JSON object.")
    missing = [name for name in _FIELDS if name not in obj]
    if missing:
        raise InvalidEventError(f"Missing field(s): {', '.join(missing)}.")
    try:
        timestamp = datetime.fromisoformat(obj["timestamp"])
        event_id = uuid.UUID(obj["event_id"])
    except (TypeError, ValueError) as exc:
        raise InvalidEventError(f"Bad event_id or timestamp: {exc}") from None
    if timestamp.utcoffset() is None:
        raise InvalidEventError("timestamp needs a UTC offset.")
    for name in ("version", "position", "schema_version"):
        value = obj[name]
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise InvalidEventError(f"{name} must be an integer ≥ 1.")
    for name in ("aggregate_id", "aggregate_type", "event_type"):
        if not isinstance(obj[name], str) or not obj[name]:
            raise InvalidEventError(f"{name} must be a non-empty string.")
    for name in ("correlation_id", "causation_id"):
        if obj[name] is not None and not isinstance(obj[name], str):
            raise InvalidEventError(f"{name} must be a string or null.")
    if not isinstance(obj["data"], dict) or not isinstance(obj["metadata"], dict):
        raise InvalidEventError("data and metadata must be JSON objects.")
    chain_hash = obj.get("hash")
    if chain_hash is None:
        chain_hash = b""
    elif isinstance(chain_hash, str) and _HEX64.fullmatch(chain_hash):
        chain_hash = bytes.fromhex(chain_hash)
    else:
        raise InvalidEventError("hash must be 64 lowercase hexadecimal digits.")
    try:  # text the store refuses (NUL, no UTF-8 form) is refused here too
        data_json, metadata_json = codec.dumps(obj["data"]), codec.dumps(obj["metadata"])
    except (TypeError, ValueError) as exc:
        raise InvalidEventError(str(exc)) from None
    return RecordedEvent(
        event_id=event_id,
        aggregate_id=obj["aggregate_id"],
        aggregate_type=obj["aggregate_type"],
        event_type=obj["event_type"],
        version=obj["version"],
        position=obj["position"],
        timestamp=timestamp,
        correlation_id=obj["correlation_id"],
        causation_id=obj["causation_id"],
        schema_version=obj["schema_version"],
        data_json=data_json,
        metadata_json=metadata_json,
        chain_hash=chain_hash,
    )


def record_from_json(line: str) -> RecordedEvent:
    """Parse one line of :func:`record_to_json`.

    Raises:
        InvalidEventError: if the line is not valid JSON or lacks a field.
    """
    try:
        obj = json.loads(line)
    except ValueError as exc:
        raise InvalidEventError(f"Not valid JSON: {exc}") from None
    return record_from_object(obj)
