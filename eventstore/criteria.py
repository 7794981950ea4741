"""Search criteria shared by every backend.

A :class:`Criteria` is built once from keyword arguments (``event_type="A"``,
``aggregate_id=["p-1", "p-2"]``, ``timestamp__gte=dt``, ``organization_id="acme"``,
``metadata={"region": "eu"}``, ``text="visa"``, ...), validated there, and
then either matched record by record (:meth:`Criteria.matches`) or turned into
index look-ups by a backend.
"""

from __future__ import annotations

import dataclasses
import re
import unicodedata
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from . import codec
from .exceptions import InvalidQueryError
from .privacy.sealing import PERSONAL
from .records import RecordedEvent

__all__ = ["Criteria", "Range", "ensure_aware", "normalize_text", "searchable_text"]

_ID_FIELDS = {
    "event_type": "event_types",
    "aggregate_type": "aggregate_types",
    "aggregate_id": "aggregate_ids",
    "correlation_id": "correlation_ids",
    "causation_id": "causation_ids",
}
_METADATA_SHORTCUTS = ("organization_id", "user_id")
_RANGE_FIELDS = ("timestamp", "version", "position")
_RANGE_LOOKUPS = ("gte", "gt", "lte", "lt")


def ensure_aware(value: datetime, name: str) -> datetime:
    """Return ``value`` converted to UTC.

    Raises:
        InvalidQueryError: if ``value`` is not a datetime or is naive (no UTC offset).
    """
    if not isinstance(value, datetime):
        raise InvalidQueryError(f"{name} must be a datetime, got {type(value).__name__}.")
    if value.tzinfo is None or value.utcoffset() is None:
        raise InvalidQueryError(
            f"{name} is a naive datetime ({value.isoformat()}): give a timezone-aware one."
        )
    try:
        return value.astimezone(UTC)
    except OverflowError:
        raise InvalidQueryError(f"{name} is out of range: {value.isoformat()}.") from None


def normalize_text(text: str) -> str:
    """Return ``text`` in the form used for case-insensitive matching (NFKC, then casefold).

    Casefolding (Unicode §3.13) makes "É" match "é", "STRASSE" match "straße",
    and works for every script, Cyrillic included.
    """
    return unicodedata.normalize("NFKC", text).casefold()


@dataclasses.dataclass(frozen=True)
class Range:
    """Bounds on one field; ``None`` means unbounded. ``gte``/``lte`` are inclusive."""

    gte: Any = None
    gt: Any = None
    lte: Any = None
    lt: Any = None

    def contains(self, value: Any) -> bool:
        """Return True if ``value`` satisfies every bound."""
        return not (
            (self.gte is not None and value < self.gte)
            or (self.gt is not None and value <= self.gt)
            or (self.lte is not None and value > self.lte)
            or (self.lt is not None and value >= self.lt)
        )

    @property
    def lower(self) -> tuple[Any, bool] | None:
        """The tightest lower bound as ``(value, inclusive)``, or None."""
        if self.gte is None and self.gt is None:
            return None
        if self.gt is None or (self.gte is not None and self.gte > self.gt):
            return (self.gte, True)
        return (self.gt, False)

    @property
    def upper(self) -> tuple[Any, bool] | None:
        """The tightest upper bound as ``(value, inclusive)``, or None."""
        if self.lte is None and self.lt is None:
            return None
        if self.lt is None or (self.lte is not None and self.lte < self.lt):
            return (self.lte, True)
        return (self.lt, False)


@dataclasses.dataclass(frozen=True)
class Criteria:
    """Validated search criteria; every given condition must hold (AND).

    A set of accepted values matches when the event's value is any of them (OR).
    Results are always in position order; ``after_position`` (exclusive) and
    ``limit`` page through them.
    """

    event_types: frozenset[str] | None = None
    aggregate_types: frozenset[str] | None = None
    aggregate_ids: frozenset[str] | None = None
    correlation_ids: frozenset[str] | None = None
    causation_ids: frozenset[str] | None = None
    metadata: tuple[tuple[str, frozenset[Any]], ...] = ()
    timestamp: Range | None = None
    version: Range | None = None
    position: Range | None = None
    text: str | None = None
    after_position: int = 0
    limit: int | None = None

    @classmethod
    def build(cls, **kwargs: Any) -> Criteria:
        """Build criteria from keyword arguments.

        Keywords: ``event_type``, ``aggregate_type``, ``aggregate_id``,
        ``correlation_id``, ``causation_id`` (a string or an iterable of accepted
        strings); ``organization_id``, ``user_id`` and ``metadata`` (a mapping of
        key to a value or a list of accepted values) for metadata keys;
        ``<field>__gte|gt|lte|lt`` for ``timestamp`` (aware datetimes), ``version``
        and ``position`` (ints); ``text`` (case-insensitive substring of any string
        or number in data, taken literally: ``%``, ``_`` and ``*`` are plain
        characters); ``after_position`` (int ≥ 0, exclusive) and ``limit`` (int ≥ 0).

        Raises:
            InvalidQueryError: for an unknown keyword, a naive datetime, a
                negative or non-integer bound, or an empty list of values.
        """
        values: dict[str, Any] = {}
        metadata: dict[str, frozenset[Any]] = {}
        ranges: dict[str, dict[str, Any]] = {}
        for key, value in kwargs.items():
            if value is None:
                continue
            if key in _ID_FIELDS:
                values[_ID_FIELDS[key]] = _accepted(key, value)
            elif key in _METADATA_SHORTCUTS:
                metadata[key] = _accepted(key, value)
            elif key == "metadata":
                if not isinstance(value, Mapping):
                    raise InvalidQueryError("metadata must be a mapping of key to value(s).")
                for meta_key, meta_value in value.items():
                    if not isinstance(meta_key, str) or not METADATA_KEY.fullmatch(meta_key):
                        raise InvalidQueryError(
                            f"Metadata key {meta_key!r}: use 1 to 64 letters, digits and "
                            "single underscores, starting with a letter."
                        )
                    if meta_value is not None:
                        metadata[str(meta_key)] = _accepted(f"metadata.{meta_key}", meta_value)
            elif "__" in key and key.split("__", 1)[0] in _RANGE_FIELDS:
                field, lookup = key.split("__", 1)
                if lookup not in _RANGE_LOOKUPS:
                    raise InvalidQueryError(f"Unknown lookup {key!r}: use {_RANGE_LOOKUPS}.")
                if field == "timestamp":
                    value = ensure_aware(value, key)
                else:
                    value = _non_negative_int(key, value)
                ranges.setdefault(field, {})[lookup] = value
            elif key == "text":
                if not isinstance(value, str) or TEXT_SEPARATOR in value or "\x00" in value:
                    raise InvalidQueryError("text must be a string without control characters.")
                if value:
                    values["text"] = normalize_text(value)
            elif key in ("after_position", "limit"):
                values[key] = _non_negative_int(key, value)
            else:
                raise InvalidQueryError(f"Unknown search criterion {key!r}.")
        for field, bounds in ranges.items():
            values[field] = Range(**bounds)
        if metadata:
            values["metadata"] = tuple(sorted(metadata.items()))
        return cls(**values)

    def replace(self, **changes: Any) -> Criteria:
        """Return a copy with ``changes`` applied (for example a new ``limit``)."""
        return dataclasses.replace(self, **changes)

    def matches(self, record: RecordedEvent) -> bool:
        """Return True if ``record`` satisfies every condition except paging.

        Metadata and text are matched in the stored form, as the backends'
        indexes hold it: a sealed ``user_id`` by its blind index token (see
        :meth:`~eventstore.backends.base.BaseEventStore.search`), other sealed
        personal values never, and text never sees personal values.
        """
        if self.event_types is not None and record.event_type not in self.event_types:
            return False
        if self.aggregate_types is not None and record.aggregate_type not in self.aggregate_types:
            return False
        if self.aggregate_ids is not None and record.aggregate_id not in self.aggregate_ids:
            return False
        if self.correlation_ids is not None and record.correlation_id not in self.correlation_ids:
            return False
        if self.causation_ids is not None and record.causation_id not in self.causation_ids:
            return False
        if self.timestamp is not None and not self.timestamp.contains(record.timestamp):
            return False
        if self.version is not None and not self.version.contains(record.version):
            return False
        if self.position is not None and not self.position.contains(record.position):
            return False
        if self.metadata:
            stored = codec.loads(record.metadata_json)
            for key, accepted in self.metadata:
                value = stored.get(key, _MISSING)
                if type(value) is dict and PERSONAL in value:
                    value = value.get("index", _MISSING)
                if value is _MISSING or not _hashable(value) or value not in accepted:
                    return False
        return self.text is None or self.text in searchable_text(codec.loads(record.data_json))


_MISSING = object()

#: A metadata key usable in criteria: ``organization_id``, ``region``, ``plan_2``...
METADATA_KEY = re.compile(r"[A-Za-z](?:_?[A-Za-z0-9])*_?")

#: Separates values in :func:`searchable_text` (ASCII unit separator; refused in a search).
TEXT_SEPARATOR = "\x1f"


def _hashable(value: Any) -> bool:
    return not isinstance(value, (dict, list))


def _accepted(name: str, value: Any) -> frozenset[Any]:
    if isinstance(value, (str, int, bool)):
        return frozenset([value])
    if isinstance(value, Iterable) and not isinstance(value, Mapping):
        items = [_scalar(name, item) for item in value]
        if not items:
            raise InvalidQueryError(f"{name}: the list of accepted values is empty.")
        return frozenset(items)
    return frozenset([_scalar(name, value)])


def _scalar(name: str, value: Any) -> Any:
    try:
        converted = codec.to_json_value(value)
    except (TypeError, ValueError) as exc:
        raise InvalidQueryError(f"{name}: {exc}") from exc
    if isinstance(converted, (dict, list)):
        raise InvalidQueryError(f"{name}: accepted values must be scalars.")
    return converted


def _non_negative_int(name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise InvalidQueryError(f"{name} must be an integer ≥ 0, got {value!r}.")
    return value


def searchable_text(data: Any) -> str:
    """Return the text a ``text`` criterion searches in ``data``.

    The string and number values of ``data`` (keys excluded, nested objects and
    lists included), each :func:`normalize_text`-ed, joined by
    :data:`TEXT_SEPARATOR` so that no match spans two values. Backends that
    store it (the database backend) and those that compute it agree by using
    this one function. A sealed personal value (its placeholder, see
    :mod:`eventstore.privacy.sealing`) is left out: free text never finds
    personal data.
    """
    parts: list[str] = []

    def walk(value: Any) -> None:
        if isinstance(value, str):
            parts.append(normalize_text(value))
        elif isinstance(value, dict):
            if PERSONAL in value:
                return
            for item in value.values():
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)
        elif value is not None:
            parts.append(str(value).casefold())

    walk(data)
    return TEXT_SEPARATOR.join(parts)
