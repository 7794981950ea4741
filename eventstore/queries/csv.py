"""CSV for spreadsheets and SIEMs: safe cells, streamed lines, a download response.

Shared by every surface that exports a table (the money analytics tables, the
event export). A file has a header row, then one row per record:

- datetimes are ISO 8601 with their offset (``2024-10-27T02:30:00+01:00``; an
  offset with seconds, local mean time before 1900, is given in UTC as RFC 3339
  requires, see :func:`~eventstore.queries.analytics.rfc3339`);
- ``Decimal`` amounts are their exact decimal string (``"100.00"``, never a
  float's ``100.0``), ints their digits, booleans ``true``/``false``, None an
  empty cell;
- a text cell beginning with ``=``, ``+``, ``-``, ``@``, a tab or a carriage
  return is prefixed with ``'`` so that a spreadsheet shows it as text instead
  of running it as a formula (OWASP, "CSV Injection"). Numbers are written by
  this module, never taken from text, so ``-5.00`` stays a number.

Rows are written one at a time (:func:`csv_lines`), so an export of any size
is streamed, never built in memory.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.http import StreamingHttpResponse

from .analytics import rfc3339

__all__ = ["FORMULA_PREFIXES", "cell", "csv_lines", "csv_response"]

#: First characters that make a spreadsheet read a cell as a formula (OWASP).
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def cell(value: Any) -> str:
    """Return ``value`` as the text of one CSV cell (see the module docstring for each type).

    Other values (ids, UUIDs, dicts) are written with ``str()`` and neutralised
    like text.
    """
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal | int):
        return str(value)
    if isinstance(value, datetime) and value.utcoffset() is not None:
        return rfc3339(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    text = str(value)
    if text.startswith(FORMULA_PREFIXES):
        return "'" + text
    return text


class _Line:
    """A file-like object whose ``write`` returns what it is given (one CSV line)."""

    def write(self, value: str) -> str:
        return value


def csv_lines(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> Iterator[str]:
    """Yield the CSV text of ``header`` then of each row, one line at a time (CRLF ends).

    Every value goes through :func:`cell`; the header's too.
    """
    writer = csv.writer(_Line())
    yield writer.writerow([cell(name) for name in header])
    for row in rows:
        yield writer.writerow([cell(value) for value in row])


def csv_response(
    filename: str, header: Sequence[str], rows: Iterable[Sequence[Any]]
) -> StreamingHttpResponse:
    """Return a streamed ``text/csv`` download of ``header`` and ``rows`` named ``filename``.

    ``filename`` should be plain ASCII without quotes (the caller builds it from
    labels it controls).
    """
    response = StreamingHttpResponse(
        csv_lines(header, rows), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
