"""JSON encoding of event payloads that keeps ``Decimal``, datetimes and UUIDs exact.

Stored data is plain JSON (RFC 8259). Values JSON has no type for are written as
strings: a ``Decimal`` as its exact decimal string (``Decimal("100.00")`` →
``"100.00"``, never a binary float), an aware ``datetime`` in ISO 8601 extended
format with its UTC offset, a ``date`` as ``YYYY-MM-DD``, a ``UUID`` in its
canonical 36-character form. Reading them back into Python types is driven by
the field annotations of the event class (see :func:`from_json_value`), never
by a type name found in the data.
"""

from __future__ import annotations

import json
import math
import re
import types
import typing
from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

__all__ = ["check_utf8", "dumps", "loads", "to_json_value", "to_native", "from_json_value"]

# "\u0000" preceded by an even number of backslashes: an escaped NUL, not the text "\u0000".
_NUL_ESCAPE = re.compile(r"(?<!\\)(?:\\\\)*\\u0000")


def to_json_value(value: Any) -> Any:
    """Return ``value`` converted to JSON-native types (dict, list, str, int, float, bool, None).

    Raises:
        TypeError: for a value of a type JSON cannot represent exactly (a set, an
            arbitrary object) and for a naive ``datetime`` (ISO 8601 needs an offset
            here: every stored time is timezone-aware).
        ValueError: for a non-finite number (NaN, infinity), which JSON lacks.
    """
    if value is None or isinstance(value, (str, bool, int)):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"{value!r} is not a finite number and has no JSON form.")
        return value
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise ValueError(f"{value!r} is not a finite number and has no JSON form.")
        return str(value)
    if isinstance(value, datetime):
        if value.tzinfo is None or value.utcoffset() is None:
            raise TypeError(f"Naive datetime {value.isoformat()} refused: use an aware one.")
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, UUID):
        return str(value)
    if isinstance(value, Mapping):
        out = {}
        for key, item in value.items():
            if not isinstance(key, str):
                raise TypeError(f"JSON object keys must be strings, got {key!r}.")
            out[key] = to_json_value(item)
        return out
    if isinstance(value, (list, tuple)):
        return [to_json_value(item) for item in value]
    raise TypeError(f"Value of type {type(value).__name__} is not JSON serializable.")


# One encoder for every call: json.dumps() with options builds a new one each time.
_ENCODER = json.JSONEncoder(
    ensure_ascii=False, separators=(",", ":"), allow_nan=False, sort_keys=True
)
# JSONEncoder.encode() also builds its C scanner on every call; build it once. Same
# arguments as JSONEncoder.iterencode() passes (no circular check: the values encoded
# are fresh trees from to_json_value() or flat objects, and deep nesting is a
# RecursionError either way), so the text is the same as _ENCODER.encode()'s.
_c_make_encoder: Any = getattr(json.encoder, "c_make_encoder", None)
_C_ENCODE = (
    None
    if _c_make_encoder is None
    else _c_make_encoder(
        None,
        _ENCODER.default,
        json.encoder.encode_basestring,
        None,
        _ENCODER.key_separator,
        _ENCODER.item_separator,
        True,
        False,
        False,
    )
)
#: Types that need no conversion by to_json_value() (bool is an int subclass: exact types).
_NATIVE_SCALARS = frozenset({str, int, bool, type(None)})


def to_native(value: Any) -> Any:
    """Return ``value`` as JSON-native values: itself if it already is, else :func:`to_json_value`.

    A dict of string keys to ``str``/``int``/``bool``/``None`` values (the usual
    payload) is returned as it is, without a copy; anything else is converted.
    Raises the errors of :func:`to_json_value`.
    """
    if type(value) is not dict:
        return to_json_value(value)
    scalars = _NATIVE_SCALARS
    for key, item in value.items():
        if type(key) is not str or type(item) not in scalars:
            return to_json_value(value)
    return value


def dumps(value: Any, *, native: bool = False) -> str:
    """Encode ``value`` as canonical JSON text: compact, keys sorted, UTF-8 kept as is.

    Sorted keys make the text independent of insertion order, so every backend
    (PostgreSQL's ``jsonb`` reorders keys) gives the same text for the same data.
    ``native=True`` skips the conversion by :func:`to_json_value`, for values that
    are already JSON-native (such as :meth:`DomainEvent.to_data` output).

    Raises the same errors as :func:`to_json_value`, and ``ValueError`` for a NUL
    character (U+0000) in a string, which PostgreSQL cannot store, or for text
    that has no UTF-8 form (a lone surrogate such as U+D800: RFC 8259 §8.1 asks
    for UTF-8, and RFC 3629 §3 excludes surrogates from it).
    """
    if not native:
        value = to_native(value)
    if _C_ENCODE is None or type(value) is str:
        text = _ENCODER.encode(value)
    else:
        text = "".join(_C_ENCODE(value, 0))
    if "\\u0000" in text and _NUL_ESCAPE.search(text):
        raise ValueError("Strings must not contain the NUL character (U+0000).")
    if not text.isascii():
        check_utf8(text)
    return text


def check_utf8(text: str) -> None:
    """Raise ``ValueError`` if ``text`` cannot be encoded as UTF-8 (it holds a lone surrogate).

    The message names the code point and its index, e.g. ``U+D800 at index 1``.
    """
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise ValueError(
            f"Text must be encodable as UTF-8: lone surrogate U+{ord(text[exc.start]):04X} "
            f"at index {exc.start}."
        ) from None


def loads(text: str) -> Any:
    """Decode JSON text into fresh Python objects (a new dict on every call)."""
    return json.loads(text)


def from_json_value(value: Any, annotation: Any) -> Any:
    """Convert a JSON-native ``value`` back into the Python type named by ``annotation``.

    Supports ``str``, ``int``, ``float``, ``bool``, ``Decimal``, ``datetime``
    (ISO 8601 with offset), ``date``, ``UUID``, ``X | None``, ``list[X]``,
    ``tuple[X, ...]``, ``dict[str, X]`` and ``Any`` (left as decoded).

    Raises:
        ValueError: if the value cannot be converted (malformed decimal or date),
            or is not of the annotated JSON type (a number for a ``str`` field,
            a string for an ``int`` one, a bool for an ``int``).
    """
    if value is None or annotation is Any:
        return value
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        args = [arg for arg in typing.get_args(annotation) if arg is not type(None)]
        return from_json_value(value, args[0]) if len(args) == 1 else value
    if origin in (list, tuple):
        (item_type, *_rest) = typing.get_args(annotation) or (Any,)
        items = [from_json_value(item, item_type) for item in value]
        return tuple(items) if origin is tuple else items
    if origin is dict:
        _key_type, item_type = typing.get_args(annotation) or (str, Any)
        return {key: from_json_value(item, item_type) for key, item in value.items()}
    if annotation is Decimal:
        try:
            return Decimal(str(value))
        except ArithmeticError as exc:
            raise ValueError(f"{value!r} is not a decimal number.") from exc
    if annotation is datetime:
        parsed = datetime.fromisoformat(value)
        if parsed.tzinfo is None:
            raise ValueError(f"{value!r} has no UTC offset.")
        return parsed
    if annotation is date:
        return date.fromisoformat(value)
    if annotation is UUID:
        return UUID(value)
    if annotation in _SCALARS and not _SCALARS[annotation](value):
        raise ValueError(f"{value!r} is not a {annotation.__name__}.")
    return value


#: JSON-native checks for scalar annotations (a JSON integer is also a valid float).
_SCALARS: dict[Any, Any] = {
    str: lambda value: isinstance(value, str),
    bool: lambda value: isinstance(value, bool),
    int: lambda value: isinstance(value, int) and not isinstance(value, bool),
    float: lambda value: isinstance(value, (int, float)) and not isinstance(value, bool),
}
