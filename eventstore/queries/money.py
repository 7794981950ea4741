"""Money carried by events: the amount and currency of an event's data, and how to show them.

An event carries money when its data has an ``amount`` (a decimal string or
number) and a ``currency`` (an ISO 4217 code), as the payments events do.
Amounts are read as :class:`~decimal.Decimal`, never float. Minor units come
from CLDR via babel (ISO 4217: EUR 2, JPY 0, KWD 3).
"""

from __future__ import annotations

import dataclasses
import decimal
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from babel.numbers import get_currency_precision

__all__ = ["EventMoney", "event_money", "format_money"]

# Enough precision to quantize any finite Decimal without raising.
_WIDE = decimal.Context(prec=decimal.MAX_PREC, Emax=decimal.MAX_EMAX, Emin=decimal.MIN_EMIN)


@dataclasses.dataclass(frozen=True)
class EventMoney:
    """The money of one event: ``amount`` exactly as stored, ``currency`` upper-case."""

    amount: Decimal
    currency: str

    def display(self) -> str:
        """Return the amount in the currency's minor units (see :func:`format_money`)."""
        return format_money(self.amount, self.currency)


def event_money(data: Mapping[str, Any]) -> EventMoney | None:
    """Return the money of event ``data``, or None when it carries none.

    ``data["amount"]`` must be a decimal string, an int or a Decimal (a float
    or a bool is not money) and ``data["currency"]`` three ASCII letters;
    anything else (missing, malformed) gives None: the page shows no amount
    rather than a wrong one.
    """
    amount, currency = data.get("amount"), data.get("currency")
    if not isinstance(currency, str) or len(currency) != 3 or not currency.isascii():
        return None
    if not currency.isalpha() or isinstance(amount, bool):
        return None
    if isinstance(amount, str | int):
        try:
            amount = Decimal(amount)
        except InvalidOperation:
            return None
    if not isinstance(amount, Decimal) or not amount.is_finite():
        return None
    return EventMoney(amount, currency.upper())


def format_money(amount: Decimal, currency: str) -> str:
    """Return ``amount`` with ``currency``'s decimal places: EUR "5.00", JPY "500", KWD "5.000".

    The places are ISO 4217's minor units from CLDR (babel); an unknown code
    gets babel's default of 2. An amount with more places than the currency
    has (written outside the domain's rules) is shown whole, never rounded:
    an auditor must see what was recorded. No grouping separators, so the text
    reads back as the same Decimal.
    """
    places = get_currency_precision(currency)
    exponent = amount.as_tuple().exponent
    if isinstance(exponent, int) and -exponent > places:
        return format(amount, "f")
    return format(amount.quantize(Decimal(1).scaleb(-places), context=_WIDE), "f")
