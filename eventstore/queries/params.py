"""Whole numbers from query strings, parsed one way for every surface."""

from __future__ import annotations

__all__ = ["MAX_INT64", "parse_int"]

#: The largest value a position, version or page size may take (a signed 64-bit column).
MAX_INT64 = 2**63 - 1


def parse_int(raw: str | None, *, minimum: int = 1, maximum: int = MAX_INT64) -> int | None:
    """Return ``raw`` as an int if it is ASCII digits within ``minimum..maximum`` (inclusive).

    Only the ASCII digits 0-9 count (no sign, no spaces, no full-width or other
    Unicode digits that ``int()`` would accept). Returns None for None, an
    empty string, anything else or a number out of range; the caller words the
    error for its surface (a 400 naming the parameter, a page message, a 404
    for a cursor).
    """
    if not raw or not raw.isascii() or not raw.isdigit() or len(raw) > len(str(maximum)):
        return None
    value = int(raw)
    return value if minimum <= value <= maximum else None
