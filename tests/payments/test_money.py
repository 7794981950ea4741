"""ISO 4217 rules: codes and minor units (EUR 2, JPY 0, KWD 3), values by hand."""

from decimal import Decimal

import pytest

from payments.exceptions import InvalidAmount, UnknownCurrency
from payments.money import normalize_currency, validate_amount


@pytest.mark.parametrize(
    ("amount", "currency", "expected"),
    [
        ("100.00", "EUR", Decimal("100.00")),
        ("100.5", "EUR", Decimal("100.50")),
        ("100", "JPY", Decimal("100")),
        ("100.00", "JPY", Decimal("100")),
        ("1.234", "KWD", Decimal("1.234")),
        (7, "USD", Decimal("7.00")),
    ],
)
def test_valid_amounts_are_quantized_to_minor_units(amount, currency, expected):
    value = validate_amount(amount, currency)
    assert value == expected
    assert str(value) == str(expected)


@pytest.mark.parametrize(
    ("amount", "currency"),
    [
        ("10.001", "EUR"),
        ("100.5", "JPY"),
        ("1.2345", "KWD"),
        ("0", "EUR"),
        ("-5.00", "EUR"),
        ("NaN", "EUR"),
        ("Infinity", "EUR"),
        ("abc", "EUR"),
        (10.5, "EUR"),
        (True, "EUR"),
        ("1000000000000", "EUR"),
    ],
)
def test_invalid_amounts_are_refused(amount, currency):
    with pytest.raises(InvalidAmount):
        validate_amount(amount, currency)


@pytest.mark.parametrize(("code", "expected"), [("EUR", "EUR"), ("usd", "USD"), ("KWD", "KWD")])
def test_active_codes_are_accepted(code, expected):
    assert normalize_currency(code) == expected


@pytest.mark.parametrize("code", ["XXX", "DEM", "FRF", "ABC", "EURO", "", None, 978])
def test_unknown_historic_or_malformed_codes_are_refused(code):
    with pytest.raises(UnknownCurrency):
        normalize_currency(code)
