"""CSV cells and lines (eventstore.queries.csv)."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from eventstore.queries.csv import cell, csv_lines, csv_response


@pytest.mark.parametrize(
    ("value", "text"),
    [
        ("=1+2", "'=1+2"),
        ("+33 1 23", "'+33 1 23"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=1", "'\t=1"),
        ("\r=1", "'\r=1"),
        ("card_declined", "card_declined"),
        ("a=b", "a=b"),  # only the first character matters
        ("", ""),
    ],
)
def test_text_that_a_spreadsheet_would_run_is_neutralised(value, text):
    assert cell(value) == text


def test_numbers_times_and_empty_values():
    assert cell(Decimal("-10.00")) == "-10.00"  # a number, written by us: never neutralised
    assert cell(Decimal("5000")) == "5000"
    assert cell(Decimal("0.125")) == "0.125"
    assert cell(7) == "7"
    assert cell(True) == "true" and cell(False) == "false"
    assert cell(None) == ""
    paris = datetime(2024, 10, 27, 2, 30, fold=1, tzinfo=ZoneInfo("Europe/Paris"))
    assert cell(paris) == "2024-10-27T02:30:00+01:00"
    assert cell(datetime(2024, 1, 1, tzinfo=UTC)) == "2024-01-01T00:00:00+00:00"


def test_lines_come_one_at_a_time_and_quote_what_needs_it():
    lines = csv_lines(["reason", "amount"], iter([("a, b", Decimal("1.50")), ('say "hi"', 2)]))
    assert next(lines) == "reason,amount\r\n"
    assert next(lines) == '"a, b",1.50\r\n'
    assert next(lines) == '"say ""hi""",2\r\n'
    with pytest.raises(StopIteration):
        next(lines)


def test_the_response_streams_a_named_attachment():
    rows = ((f"row-{n}", n) for n in range(3))
    response = csv_response("table.csv", ["name", "n"], rows)
    assert response.streaming
    assert response["Content-Disposition"] == 'attachment; filename="table.csv"'
    text = b"".join(response.streaming_content).decode()
    assert list(csv.reader(io.StringIO(text))) == [
        ["name", "n"],
        ["row-0", "0"],
        ["row-1", "1"],
        ["row-2", "2"],
    ]
