"""CSV cells (formula injection neutralised, exact numbers, ISO 8601) and streamed lines."""

from __future__ import annotations

import csv
import io
import uuid
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from eventstore.queries.csv import csv_cell, csv_lines


@pytest.mark.parametrize(
    ("text", "cell"),
    [
        ("=1+2", "'=1+2"),
        ("+1", "'+1"),
        ("-1", "'-1"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tx", "'\tx"),
        ("\rx", "'\rx"),
        ("card declined", "card declined"),
        ("a=1", "a=1"),
        ("'quoted", "'quoted"),
        ("", ""),
    ],
)
def test_text_beginning_with_a_formula_trigger_is_prefixed_with_a_quote(text, cell):
    assert csv_cell(text) == cell


def test_numbers_are_exact_and_not_neutralised():
    assert csv_cell(Decimal("5.00")) == "5.00"
    assert csv_cell(Decimal("-5.00")) == "-5.00"
    assert csv_cell(Decimal("1E+2")) == "100"
    assert csv_cell(Decimal("0.000001")) == "0.000001"
    assert csv_cell(Decimal("123456789012.345")) == "123456789012.345"
    assert csv_cell(-3) == "-3"
    assert csv_cell(0.1) == "0.1"


def test_datetimes_are_iso_8601_with_offset_and_naive_ones_refused():
    moment = datetime(2024, 3, 1, 10, 0, 5, 120000, tzinfo=UTC)
    assert csv_cell(moment) == "2024-03-01T10:00:05.120000+00:00"
    paris = datetime(2024, 3, 1, 11, 0, tzinfo=timezone(timedelta(hours=1)))
    assert csv_cell(paris) == "2024-03-01T11:00:00+01:00"
    assert csv_cell(date(2024, 3, 1)) == "2024-03-01"
    with pytest.raises(ValueError, match="naive"):
        csv_cell(datetime(2024, 3, 1, 10, 0))  # noqa: DTZ001


def test_other_values():
    assert csv_cell(None) == ""
    assert csv_cell(True) == "true"
    assert csv_cell(uuid.UUID(int=1)) == "00000000-0000-0000-0000-000000000001"
    assert csv_cell({"a": Decimal("1.50")}) == '{"a":"1.50"}'
    assert csv_cell(["=x"]) == '["=x"]'


def test_lines_are_streamed_one_row_at_a_time_and_read_back():
    read = []

    def rows():
        for n in range(3):
            read.append(n)
            yield [n, f"=row{n}", "a,b", 'say "hi"', "two\nlines"]

    lines = csv_lines(["position", "note", "comma", "quote", "newline"], rows())
    assert next(lines) == b"position,note,comma,quote,newline\r\n"
    assert read == []
    assert next(lines) == b'0,\'=row0,"a,b","say ""hi""","two\nlines"\r\n'
    assert read == [0]
    rest = b"".join(lines)
    parsed = list(csv.reader(io.StringIO(rest.decode(), newline="")))
    assert parsed == [
        ["1", "'=row1", "a,b", 'say "hi"', "two\nlines"],
        ["2", "'=row2", "a,b", 'say "hi"', "two\nlines"],
    ]
