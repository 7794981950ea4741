"""Signed JSON Lines export files: writing one from a store, and checking one without any store.

An export is one line per event (:mod:`eventstore.serialization`, each with
its ``hash``) in position order, then one last line::

    {"signature": {"algorithm": "HMAC-SHA256", "key_id": "…", "events": N,
                   "first_position": F, "last_position": L,
                   "previous_hash": "<64 hex>", "head_hash": "<64 hex>", "mac": "<64 hex>"}}

``previous_hash`` is the chain hash before position F (64 zeros for a
whole-store export), ``head_hash`` the hash of position L (``previous_hash``
when N is 0; then F and L are 0), ``mac`` the HMAC of :mod:`eventstore.signing`
over the bytes of the event lines and the other fields.

:func:`check_export` reads a file once, line by line (constant memory): each
event line must parse, follow the previous one's position and link from its
hash; the signature line must be last, made with this key, and match.
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Callable, Iterator
from typing import IO, Any

from .backends.base import BaseEventStore
from .exceptions import EventStoreError
from .integrity import ZERO_HASH, record_hash
from .records import RecordedEvent
from .serialization import record_from_object, record_to_json
from .signing import ALGORITHM, Signer, key_id

__all__ = [
    "SIGNATURE_FIELDS",
    "ExportChecked",
    "ExportFileError",
    "check_export",
    "export_records",
    "write_export",
]

#: The fields of the signature line, in the order written.
SIGNATURE_FIELDS = (
    "algorithm",
    "key_id",
    "events",
    "first_position",
    "last_position",
    "previous_hash",
    "head_hash",
    "mac",
)
PAGE = 10_000
_HEX64 = re.compile("[0-9a-f]{64}")


class ExportFileError(EventStoreError):
    """An export file is refused: ``line`` is the 1-based line number that is wrong.

    ``str()`` starts with what is wrong; :meth:`where` adds the file and line.
    """

    def __init__(self, line: int, message: str) -> None:
        super().__init__(message)
        self.line = line

    def where(self, path: str) -> str:
        """Return ``"<path>:<line>: <message>"``."""
        return f"{path}:{self.line}: {self}"


@dataclasses.dataclass(frozen=True)
class ExportChecked:
    """What :func:`check_export` found: the events, their positions and hashes, the signature.

    ``signed`` is False for a file without a signature line (accepted only
    when asked); ``hashed`` is False for a file whose events have no hashes
    (written before the chain existed).
    """

    events: int
    first_position: int
    last_position: int
    previous_hash: bytes | None
    head_hash: bytes | None
    signed: bool
    hashed: bool
    key_id: str | None

    def summary(self) -> str:
        """One line for people."""
        span = (
            f"positions {self.first_position}-{self.last_position}" if self.events else "no events"
        )
        if not self.signed:
            chain = "its chain links" if self.hashed else "no hashes"
            return f"Read {self.events:,} events, {span}: UNSIGNED file ({chain}); not verified."
        head = (self.head_hash or b"").hex()  # whole: auditors anchor it
        return (
            f"Verified {self.events:,} events, {span}, head {head}: the chain is intact and "
            f"the signature (key {self.key_id}) matches."
        )


def write_export(
    store: BaseEventStore, target: IO[str], key: bytes, from_position: int = 1
) -> dict[str, Any]:
    """Write the events of ``store`` from ``from_position`` on, then the signature line.

    ``target`` is a text file (opened with ``newline="\\n"`` so the bytes
    signed are the bytes written). Reads the store a page at a time.

    Returns:
        The signature's fields.

    Raises:
        EventStoreError: ``from_position - 1`` is not stored (nothing to link from).
    """
    previous = ZERO_HASH
    if from_position > 1:
        before = store.read_all(after_position=from_position - 2, limit=1)
        if not before or before[0].position != from_position - 1:
            raise EventStoreError(
                f"Position {from_position - 1} is not stored: an export from position "
                f"{from_position} has nothing to link from."
            )
        previous = before[0].chain_hash
    signer = Signer(key)
    count, first, head, position = 0, 0, previous, from_position - 1
    while page := store.read_all(after_position=position, limit=PAGE):
        text = "".join(record_to_json(record) + "\n" for record in page)
        target.write(text)
        signer.update(text.encode())
        count += len(page)
        first = first or page[0].position
        position, head = page[-1].position, page[-1].chain_hash
    fields: dict[str, Any] = {
        "algorithm": ALGORITHM,
        "key_id": key_id(key),
        "events": count,
        "first_position": first,
        "last_position": position if count else 0,
        "previous_hash": previous.hex(),
        "head_hash": head.hex(),
    }
    fields["mac"] = signer.mac(fields)
    target.write(json.dumps({"signature": fields}, separators=(",", ":")) + "\n")
    return fields


def export_records(path: str) -> Iterator[tuple[int, RecordedEvent]]:
    """Yield ``(line number, record)`` of each event line of a file :func:`check_export` passed.

    Raises:
        ExportFileError: a line does not parse (a file changed since it was checked).
        OSError: the file cannot be read.
    """
    with open(path, "rb") as source:
        for number, raw in enumerate(source, start=1):
            obj = _parse(number, raw)
            if obj is not None and not _is_signature(obj):
                yield number, _record(number, obj)


def check_export(
    path: str,
    key: bytes,
    *,
    unsigned: bool = False,
    on_record: Callable[[int, RecordedEvent], None] | None = None,
) -> ExportChecked:
    """Check an export file in one streaming pass; raise at the first problem.

    Args:
        key: the signing key (:func:`eventstore.signing.signing_key`).
        unsigned: accept a file without a signature line (other systems, older
            versions); a signature line that is present must still verify.
        on_record: called with ``(line number, record)`` of each event line
            once its chain link checked (an import's own checks).

    Raises:
        ExportFileError: naming the line: a line that does not parse, an event
            out of position order or whose hash does not link, events with and
            without hashes mixed, a missing signature line (unless
            ``unsigned``), a malformed one, one made with another key, or whose
            MAC, event count, positions or hashes do not match the events.
        OSError: the file cannot be read.
    """
    signer = Signer(key)
    first: RecordedEvent | None = None
    last: RecordedEvent | None = None
    count, hashed, signature, signature_line, number, first_line = 0, None, None, 0, 0, 0
    with open(path, "rb") as source:
        for number, raw in enumerate(source, start=1):
            if signature is not None:
                if raw.strip():
                    raise ExportFileError(
                        number, f"Text after the signature line (line {signature_line})."
                    )
                continue
            obj = _parse(number, raw)
            if obj is None:
                signer.update(raw)
                continue
            if _is_signature(obj):
                signature, signature_line = obj["signature"], number
                continue
            record = _record(number, obj)
            signer.update(raw)
            if hashed is None:
                hashed = bool(record.chain_hash)
            elif hashed != bool(record.chain_hash):
                raise ExportFileError(number, "Events with and without hash are mixed.")
            if last is not None:
                _check_link(number, last, record)
            if first is None:
                first, first_line = record, number
            last = record
            count += 1
            if on_record is not None:
                on_record(number, record)
    if signature is None:
        if unsigned:
            return ExportChecked(
                count,
                first.position if first else 0,
                last.position if last else 0,
                None,
                last.chain_hash if last and hashed else None,
                False,
                bool(hashed),
                None,
            )
        raise ExportFileError(
            number + 1,
            "No signature line after the events: the file is unsigned (for a file from "
            "another system or an older version, give --unsigned).",
        )
    return _check_signature(signature_line, signature, signer, count, first, last, first_line)


def _parse(number: int, raw: bytes) -> dict[str, Any] | None:
    """The JSON object of a line, None for a blank line."""
    if not raw.strip():
        return None
    try:
        obj = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise ExportFileError(number, f"Not valid JSON: {exc}") from None
    if not isinstance(obj, dict):
        raise ExportFileError(number, "A line must be a JSON object.")
    return obj


def _is_signature(obj: dict[str, Any]) -> bool:
    return "signature" in obj


def _record(number: int, obj: dict[str, Any]) -> RecordedEvent:
    try:
        return record_from_object(obj)
    except EventStoreError as exc:
        raise ExportFileError(number, str(exc)) from None


def _check_link(number: int, previous: RecordedEvent, record: RecordedEvent) -> None:
    """Check position order and the hash link; not for events without hashes (other systems)."""
    if not record.chain_hash:
        return
    expected = previous.position + 1
    if record.position != expected:
        what = "missing" if record.position > expected else "out of order"
        raise ExportFileError(
            number,
            f"Position {expected} is {what}: this line holds position {record.position}.",
        )
    if record.chain_hash:
        computed = record_hash(previous.chain_hash, record)
        if computed != record.chain_hash:
            raise ExportFileError(
                number,
                f"The event at position {record.position} ({record.event_id}) does not match "
                f"its hash: written {record.chain_hash.hex()}, computed {computed.hex()}.",
            )


def _check_signature(
    number: int,
    signature: Any,
    signer: Signer,
    count: int,
    first: RecordedEvent | None,
    last: RecordedEvent | None,
    first_line: int,
) -> ExportChecked:
    if not isinstance(signature, dict) or set(signature) != set(SIGNATURE_FIELDS):
        raise ExportFileError(
            number, f"Malformed signature line: it needs exactly {', '.join(SIGNATURE_FIELDS)}."
        )
    for name in ("previous_hash", "head_hash", "mac"):
        if not isinstance(signature[name], str) or not _HEX64.fullmatch(signature[name]):
            raise ExportFileError(
                number, f"Malformed signature line: {name} must be 64 hex digits."
            )
    for name in ("events", "first_position", "last_position"):
        value = signature[name]
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise ExportFileError(number, f"Malformed signature line: {name} must be an int ≥ 0.")
    if signature["algorithm"] != ALGORITHM:
        raise ExportFileError(
            number, f"Signature algorithm {signature['algorithm']!r} is not {ALGORITHM}."
        )
    ours = key_id(signer.key)
    if signature["key_id"] != ours:
        raise ExportFileError(
            number,
            f"The file was signed with another key (key id {signature['key_id']!r}; this "
            f"server's key id is {ours!r}).",
        )
    if not signer.verifies(signature):
        raise ExportFileError(
            number,
            "The signature's MAC does not match: the file was changed after it was signed.",
        )
    previous = bytes.fromhex(signature["previous_hash"])
    head = bytes.fromhex(signature["head_hash"])
    found = (
        count,
        first.position if first else 0,
        last.position if last else 0,
        last.chain_hash if last else previous,
    )
    claimed = (signature["events"], signature["first_position"], signature["last_position"], head)
    if found != claimed:
        raise ExportFileError(
            number,
            f"The signature covers {signature['events']} events, positions "
            f"{signature['first_position']}-{signature['last_position']}, head "
            f"{signature['head_hash']}; the file holds {count}, positions {found[1]}-{found[2]}, "
            f"head {found[3].hex()}.",
        )
    if first is not None and (
        not first.chain_hash or record_hash(previous, first) != first.chain_hash
    ):
        raise ExportFileError(
            first_line,
            f"The first event (position {first.position}) does not link from the signature's "
            f"previous_hash {signature['previous_hash']}.",
        )
    return ExportChecked(
        count,
        found[1],
        found[2],
        previous,
        head,
        True,
        bool(first is None or first.chain_hash),
        ours,
    )
