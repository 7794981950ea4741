"""Serializer fields of the payments API."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from ..money import MAX_INTEGER_DIGITS

__all__ = ["AmountField"]

# The syntax only (a sign is read so that a negative amount is told it is negative); the
# domain (payments.money.validate_amount) says what is wrong with the value.
_AMOUNT = re.compile(r"-?[0-9]+(\.[0-9]+)?", re.ASCII)
#: Longer strings are refused before they are parsed (the domain accepts 15 digits).
MAX_AMOUNT_LENGTH = 100


@extend_schema_field({"type": "string", "pattern": r"^[0-9]+(\.[0-9]+)?$", "example": "100.00"})
class AmountField(serializers.Field):
    """A money amount given as a decimal string (``"100.00"``) or a whole number.

    JSON numbers with a fraction are refused: most decimal amounts have no exact
    binary float, so ``100.10`` could silently become ``100.09999999999999``.
    Output is the amount's decimal string.
    """

    default_error_messages = {
        "float": 'Give the amount as a decimal string, such as "100.00", not a JSON number.',
        "invalid": 'Give the amount as a decimal string, such as "100.00".',
        "too_long": "The amount has too many digits: at most {integer} before the decimal "
        "point and the currency's decimals after.",
    }

    def to_internal_value(self, data: Any) -> Decimal:
        if isinstance(data, bool):
            self.fail("invalid")
        if isinstance(data, float):
            self.fail("float")
        if isinstance(data, int):
            return Decimal(data)
        if not isinstance(data, str):
            self.fail("invalid")
        if len(data.strip()) > MAX_AMOUNT_LENGTH and _AMOUNT.fullmatch(data.strip()):
            self.fail("too_long", integer=MAX_INTEGER_DIGITS)
        if not _AMOUNT.fullmatch(data.strip()):
            self.fail("invalid")
        try:
            return Decimal(data.strip())
        except InvalidOperation:
            self.fail("invalid")

    def to_representation(self, value: Any) -> str:
        return str(value)
