"""CSV cells and rows for exports opened in spreadsheets: safe, exact, streamed.

Formula injection ("CSV Injection", OWASP: https://owasp.org/www-community/attacks/CSV_Injection):
a spreadsheet (Excel, LibreOffice Calc, Google Sheets) reads a cell that begins
with ``=``, ``+``, ``-`` or ``@``, and in some of them one that begins with a
tab (0x09) or a carriage return (0x0D), as a formula, so a value written by
an outsider (a failure reason "=HYPERLINK(...)") would run when an auditor
opens the export. Following OWASP's guidance, such a text cell is prefixed
with a single quote (``'=1+2``), which spreadsheets show as text; the quote
stays visible to a program reading the file, the lesser evil. OWASP's other
point, separators and quotes inside a value starting a new cell, is handled
by quoting (RFC 4180 via :mod:`csv`): a value holding ``,``, ``"``, CR or LF
is wrapped in double quotes with inner quotes doubled.

Only text is neutralised: a number the export itself writes (an int, a
Decimal such as ``-5.00``) is a number, not a formula, and stays as it is.
"""

from __future__ import annotations

import csv
import json
import uuid
from collections.abc import Iterable, Iterator, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any

__all__ = ["CSV_CONTENT_TYPE", "FORMULA_TRIGGERS", "csv_cell", "csv_lines"]

#: The media type of the exports (RFC 4180), UTF-8 encoded.
CSV_CONTENT_TYPE = "text/csv; charset=utf-8"
#: First characters that make a spreadsheet read a cell as a formula (OWASP "CSV Injection").
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: Any) -> str:
    """Return ``value`` as the text of one CSV cell, safe to open in a spreadsheet.

    - None: the empty string.
    - bool: ``true`` / ``false`` (as in JSON).
    - int: its digits; Decimal: its exact value in plain notation, never
      exponent form and never rounded (``Decimal("5.00")`` → ``5.00``,
      ``Decimal("1E+2")`` → ``100``); float: the shortest text that reads back
      as the same float (``repr``).
    - datetime: ISO 8601 with its UTC offset (``2024-03-01T10:00:00+00:00``);
      date: ISO 8601 (``2024-03-01``).
    - UUID: its canonical hyphenated form.
    - dict, list, tuple: compact JSON (Decimals inside as exact JSON numbers' text).
    - anything else: ``str(value)``.

    Text (a ``str``, or what ``str()``/JSON gave) that begins with one of
    :data:`FORMULA_TRIGGERS` is prefixed with ``'`` (OWASP "CSV Injection"):
    ``"=1+2"`` → ``"'=1+2"``, ``"-3"`` as text → ``"'-3"``.

    Raises:
        ValueError: if ``value`` is a naive datetime (its instant is unknown;
            the project's datetimes are timezone-aware).
    """
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, datetime):
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"Cannot write the naive datetime {value!r} to CSV: add a time zone.")
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, dict | list | tuple):
        text = json.dumps(value, separators=(",", ":"), ensure_ascii=False, default=_json_default)
    else:
        text = str(value)
    return "'" + text if text.startswith(FORMULA_TRIGGERS) else text


def _json_default(value: Any) -> Any:
    """Encode what :func:`json.dumps` cannot: Decimal, datetime, UUID (for nested cells)."""
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


class _Line:
    """A file-like object whose ``write`` returns what it is given (for :class:`csv.writer`)."""

    def write(self, text: str) -> str:
        return text


def csv_lines(
    header: Sequence[str], rows: Iterable[Sequence[Any]], *, encoding: str = "utf-8"
) -> Iterator[bytes]:
    """Yield a CSV file line by line, encoded: the header row, then one line per row.

    Each row's values go through :func:`csv_cell`; lines end with CRLF and
    cells are quoted only when they hold a separator, a quote, CR or LF (RFC
    4180). Rows are read lazily, one at a time, so the whole file is never in
    memory: made for :class:`django.http.StreamingHttpResponse`. No byte-order
    mark is written (the header's first cell stays ``position``, not
    ``\\ufeffposition``).

    Raises:
        ValueError: from :func:`csv_cell` (a naive datetime), when that row is reached.
    """
    writer = csv.writer(_Line(), lineterminator="\r\n")
    yield str(writer.writerow([csv_cell(name) for name in header])).encode(encoding)
    for row in rows:
        yield str(writer.writerow([csv_cell(value) for value in row])).encode(encoding)
