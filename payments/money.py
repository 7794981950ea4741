"""Currency codes and amounts, by ISO 4217 (code table and minor units from CLDR via babel)."""

from __future__ import annotations

import decimal
import functools
from decimal import Decimal, InvalidOperation

from babel.core import get_global
from babel.numbers import get_currency_precision

from .exceptions import AmountNotInCurrency, InvalidAmount, UnknownCurrency

__all__ = [
    "MAX_DIGITS",
    "MAX_INTEGER_DIGITS",
    "AMOUNT_PATTERN",
    "active_currencies",
    "format_amount",
    "max_amount",
    "minor_units",
    "normalize_currency",
    "validate_amount",
]

#: Most digits an accepted amount has before the decimal point (a guard against absurd input).
MAX_INTEGER_DIGITS = 12
#: Most decimal places of any active currency (ISO 4217: BHD, JOD, KWD, LYD, OMR, TND have 3).
MAX_DECIMAL_PLACES = 3
#: Most significant digits of an accepted amount: 12 + 3 = 15. The read model's columns
#: (``max_digits=18, decimal_places=3``) hold every such amount, and SQLite keeps exactly
#: 15 significant digits of a number, so every accepted amount is stored and listed exactly.
MAX_DIGITS = MAX_INTEGER_DIGITS + MAX_DECIMAL_PLACES

#: The amounts accepted in every currency with :data:`MAX_DECIMAL_PLACES` minor units, as a
#: decimal string (ECMA 262 / Python regex, the published schema's pattern): above zero, at
#: most :data:`MAX_INTEGER_DIGITS` digits before the point (no leading zero) and at most
#: :data:`MAX_DECIMAL_PLACES` after. A currency with fewer minor units accepts fewer of them
#: (:class:`AmountNotInCurrency`).
AMOUNT_PATTERN = (
    f"^(?:[1-9][0-9]{{0,{MAX_INTEGER_DIGITS - 1}}}(?:\\.[0-9]{{1,{MAX_DECIMAL_PLACES}}})?"
    f"|0\\.(?:[1-9][0-9]{{0,2}}|0[1-9][0-9]?|00[1-9]))$"
)
assert MAX_DECIMAL_PLACES == 3, "AMOUNT_PATTERN spells out fractions of three places"

# Enough precision to quantize any finite Decimal without raising (a row or an event
# written outside the domain's rules may hold more digits than it accepts).
_WIDE = decimal.Context(prec=decimal.MAX_PREC, Emax=decimal.MAX_EMAX, Emin=decimal.MIN_EMIN)


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


def max_amount(currency: str) -> Decimal:
    """Return the largest accepted amount of ``currency``, in its own minor units.

    Twelve nines before the decimal point, then the currency's decimals:
    ``999999999999.99`` EUR, ``999999999999`` JPY, ``999999999999.999`` KWD.
    """
    return Decimal(10) ** MAX_INTEGER_DIGITS - Decimal(1).scaleb(-minor_units(currency))


def format_amount(value: Decimal, currency: str) -> str:
    """Return ``value`` as a decimal string in ``currency``'s minor units ("100.00" EUR).

    Never raises for a Decimal: a value with more digits than the domain accepts
    (written to a row or an event outside its rules) is shown whole, and a value
    that cannot be quantized (NaN, infinity) is shown as it is.
    """
    try:
        return str(value.quantize(Decimal(1).scaleb(-minor_units(currency)), context=_WIDE))
    except (InvalidOperation, ValueError, TypeError):
        return str(value)


def _digits(value: Decimal) -> int:
    """Count the digits of finite ``value`` as written, without fraction's trailing zeros.

    "100.00" has 3, "0.05" has 1, "1E+20" has 21.
    """
    _sign, digits, exponent = value.as_tuple()
    assert isinstance(exponent, int)
    count = len(digits)
    while exponent < 0 and count > 1 and digits[count - 1] == 0:
        count -= 1
        exponent += 1
    return count + max(exponent, 0)


def validate_amount(amount: object, currency: str, *, field: str = "amount") -> Decimal:
    """Return ``amount`` as a positive ``Decimal`` quantized to ``currency``'s minor units.

    ``amount`` may be a Decimal, an int or a decimal string; floats are refused
    (a binary float cannot hold most decimal amounts exactly). Trailing zeros
    beyond the minor units are accepted ("100.00" JPY is 100), other digits are not.

    Raises:
        InvalidAmount: saying what is wrong: not a decimal number; negative or zero;
            more than :data:`MAX_DIGITS` digits; :data:`MAX_INTEGER_DIGITS` digits
            or more before the point; more decimal places than any currency has.
        AmountNotInCurrency: (an InvalidAmount) for an amount some currency
            accepts but not this one: above :func:`max_amount` (written with the
            currency's decimals), or more decimal places than the currency has.
    """
    if isinstance(amount, bool) or isinstance(amount, float):
        raise InvalidAmount('Give the amount as a decimal string, such as "100.00".', field)
    try:
        value = Decimal(amount) if isinstance(amount, (int, str)) else amount
    except InvalidOperation:
        raise InvalidAmount(f"{amount!r} is not a decimal number.", field) from None
    if not isinstance(value, Decimal) or not value.is_finite():
        raise InvalidAmount(f"{amount!r} is not a decimal number.", field)
    if value < 0:
        raise InvalidAmount("The amount must be positive, not negative.", field)
    if value == 0:
        raise InvalidAmount("The amount must be greater than zero.", field)
    places = minor_units(currency)
    digits = _digits(value)
    if digits > MAX_DIGITS:
        raise InvalidAmount(
            f"The amount has too many digits ({digits}): at most {MAX_INTEGER_DIGITS} before "
            f"the decimal point and {places} after for {currency}.",
            field,
        )
    limit = max_amount(currency)
    if value > limit:
        # Below 10**12 only the currency's own decimals make it too large.
        error = InvalidAmount if value >= Decimal(10) ** MAX_INTEGER_DIGITS else AmountNotInCurrency
        raise error(f"The amount must not exceed {limit} {currency}.", field)
    quantum = Decimal(1).scaleb(-places)
    quantized = value.quantize(quantum)
    if quantized != value:
        # No currency has more decimals than MAX_DECIMAL_PLACES; fewer is this currency's rule.
        fits_some = value.quantize(Decimal(1).scaleb(-MAX_DECIMAL_PLACES)) == value
        error = AmountNotInCurrency if fits_some else InvalidAmount
        raise error(f"{currency} amounts have at most {places} decimal place(s) (ISO 4217).", field)
    return quantized
