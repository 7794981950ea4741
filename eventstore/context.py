"""The correlation id of the current request or process chain.

The :class:`~eventstore.middleware.CorrelationIdMiddleware` sets it for each
request; code that appends events reads it with :func:`get_correlation_id`.
It lives in a ``contextvars.ContextVar``, so threads and async tasks each see
their own.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

__all__ = [
    "CORRELATION_ID_PATTERN",
    "correlation_scope",
    "get_correlation_id",
    "is_valid_correlation_id",
    "new_correlation_id",
]

#: A valid id: 1 to 128 ASCII letters, digits, ``-``, ``_``, ``.`` or ``:`` (UUIDs included).
CORRELATION_ID_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,127}")

_correlation_id: ContextVar[str | None] = ContextVar("eventstore_correlation_id", default=None)


def is_valid_correlation_id(value: object) -> bool:
    """Return True if ``value`` is a string matching :data:`CORRELATION_ID_PATTERN`."""
    return isinstance(value, str) and CORRELATION_ID_PATTERN.fullmatch(value) is not None


def new_correlation_id() -> str:
    """Return a new random id (a UUID4 in canonical form)."""
    return str(uuid.uuid4())


def get_correlation_id() -> str | None:
    """Return the current correlation id, or None outside any scope."""
    return _correlation_id.get()


@contextmanager
def correlation_scope(correlation_id: str | None = None) -> Iterator[str]:
    """Run the block with ``correlation_id`` (a new one if None) as the current id.

    Raises:
        ValueError: if ``correlation_id`` is given but not valid.
    """
    if correlation_id is None:
        correlation_id = new_correlation_id()
    elif not is_valid_correlation_id(correlation_id):
        raise ValueError(f"Invalid correlation id {correlation_id!r}.")
    token = _correlation_id.set(correlation_id)
    try:
        yield correlation_id
    finally:
        _correlation_id.reset(token)
