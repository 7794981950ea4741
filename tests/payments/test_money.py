"""ISO 4217 rules: codes and minor units (EUR 2, JPY 0, KWD 3), values by hand."""

from decimal import Decimal

import pytest

from payments.exceptions import InvalidAmount, UnknownCurrency
from payments.money import format_amount, max_amount, normalize_currency, validate_amount


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


@pytest.mark.parametrize(
    ("amount", "currency", "message"),
    [
        ("-10.00", "EUR", "The amount must be positive, not negative."),
        (-10, "EUR", "The amount must be positive, not negative."),
        ("0.00", "EUR", "The amount must be greater than zero."),
        # 32 digits: the limit is 12 + 3 = 15 significant digits.
        (
            "1" * 32,
            "EUR",
            "The amount has too many digits (32): at most 12 before the decimal point "
            "and 2 after for EUR.",
        ),
        (
            "1234567890123.456",
            "KWD",
            "The amount has too many digits (16): at most 12 before the decimal point "
            "and 3 after for KWD.",
        ),
        # 15 digits, but 13 before the point: the limit written in EUR's 2 decimals.
        ("9999999999999.99", "EUR", "The amount must not exceed 999999999999.99 EUR."),
        ("1000000000000", "JPY", "The amount must not exceed 999999999999 JPY."),
        ("1000000000000", "KWD", "The amount must not exceed 999999999999.999 KWD."),
        ("0.001", "EUR", "EUR amounts have at most 2 decimal place(s) (ISO 4217)."),
    ],
)
def test_refusals_say_what_is_wrong(amount, currency, message):
    with pytest.raises(InvalidAmount) as caught:
        validate_amount(amount, currency)
    assert caught.value.message == message


@pytest.mark.parametrize(
    ("amount", "currency", "expected"),
    [
        ("999999999999.99", "EUR", "999999999999.99"),
        ("999999999999", "JPY", "999999999999"),
        ("999999999999.999", "KWD", "999999999999.999"),
        # Trailing zeros are not digits of the amount: 100 has 3.
        ("100.000000000000000000000000000", "EUR", "100.00"),
    ],
)
def test_the_largest_amounts_are_accepted_in_minor_units(amount, currency, expected):
    assert str(validate_amount(amount, currency)) == expected


def test_max_amount_has_the_currencys_decimals():
    assert [str(max_amount(code)) for code in ("EUR", "JPY", "KWD")] == [
        "999999999999.99",
        "999999999999",
        "999999999999.999",
    ]


def test_format_amount_never_raises():
    assert format_amount(Decimal("12.5"), "EUR") == "12.50"
    # 31 digits before the point: more than the default context's 28 digits of precision.
    assert format_amount(Decimal("1" * 31), "EUR") == "1" * 31 + ".00"
    assert format_amount(Decimal("NaN"), "EUR") == "NaN"
