"""Serializer fields of the payments API."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

__all__ = ["AmountField"]

_AMOUNT = re.compile(r"[0-9]{1,30}(\.[0-9]{1,30})?", re.ASCII)


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
    }

    def to_internal_value(self, data: Any) -> Decimal:
        if isinstance(data, bool):
            self.fail("invalid")
        if isinstance(data, float):
            self.fail("float")
        if isinstance(data, int):
            return Decimal(data)
        if not isinstance(data, str) or not _AMOUNT.fullmatch(data.strip()):
            self.fail("invalid")
        try:
            return Decimal(data.strip())
        except InvalidOperation:
            self.fail("invalid")

    def to_representation(self, value: Any) -> str:
        return str(value)
