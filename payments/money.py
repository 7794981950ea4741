"""Currency codes and amounts, by ISO 4217 (code table and minor units from CLDR via babel)."""

from __future__ import annotations

import functools
from decimal import Decimal, InvalidOperation

from babel.core import get_global
from babel.numbers import get_currency_precision

from .exceptions import InvalidAmount, UnknownCurrency

__all__ = ["active_currencies", "minor_units", "normalize_currency", "validate_amount"]

#: Largest accepted amount, in major units (a guard against absurd input).
MAX_AMOUNT = Decimal("999999999999.999")


@functools.cache
def active_currencies() -> frozenset[str]:
    """Return the ISO 4217 codes of currencies that are legal tender somewhere today.

    Built from CLDR's territory/currency table (shipped with babel): a code is
    active when some territory uses it as tender with no end date. Historic
    codes (DEM, FRF), funds and metals (XAU, XDR) and the test code XXX are not.
    """
    codes = set()
    for currencies in get_global("territory_currencies").values():
        for code, _start, end, tender in currencies:
            if end is None and tender:
                codes.add(code)
    return frozenset(codes)


def normalize_currency(code: object) -> str:
    """Return ``code`` as an upper-case active ISO 4217 code ("eur" → "EUR").

    Raises:
        UnknownCurrency: if it is not a string naming an active ISO 4217 currency.
    """
    if not isinstance(code, str) or len(code.strip()) != 3:
        raise UnknownCurrency(f"{code!r} is not an ISO 4217 currency code (three letters).")
    normalized = code.strip().upper()
    if normalized not in active_currencies():
        raise UnknownCurrency(f"{code!r} is not an active ISO 4217 currency code.")
    return normalized


def minor_units(currency: str) -> int:
    """Return the number of decimal places of ``currency`` (ISO 4217: EUR 2, JPY 0, KWD 3)."""
    return get_currency_precision(currency)


def validate_amount(amount: object, currency: str, *, field: str = "amount") -> Decimal:
    """Return ``amount`` as a positive ``Decimal`` quantized to ``currency``'s minor units.

    ``amount`` may be a Decimal, an int or a decimal string; floats are refused
    (a binary float cannot hold most decimal amounts exactly). Trailing zeros
    beyond the minor units are accepted ("100.00" JPY is 100), other digits are not.

    Raises:
        InvalidAmount: if ``amount`` is not a finite number above zero, has more
            decimal places than the currency allows, or exceeds :data:`MAX_AMOUNT`.
    """
    if isinstance(amount, bool) or isinstance(amount, float):
        raise InvalidAmount('Give the amount as a decimal string, such as "100.00".', field)
    try:
        value = Decimal(amount) if isinstance(amount, (int, str)) else amount
    except InvalidOperation:
        raise InvalidAmount(f"{amount!r} is not a decimal number.", field) from None
    if not isinstance(value, Decimal) or not value.is_finite():
        raise InvalidAmount(f"{amount!r} is not a decimal number.", field)
    if value <= 0:
        raise InvalidAmount("The amount must be greater than zero.", field)
    if value > MAX_AMOUNT:
        raise InvalidAmount(f"The amount must not exceed {MAX_AMOUNT}.", field)
    places = minor_units(currency)
    quantum = Decimal(1).scaleb(-places)
    quantized = value.quantize(quantum)
    if quantized != value:
        raise InvalidAmount(
            f"{currency} amounts have at most {places} decimal place(s) (ISO 4217).", field
        )
    return quantized
