"""Serializer fields of the payments API."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from typing import Any

from drf_spectacular.extensions import OpenApiSerializerFieldExtension
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from ..money import AMOUNT_PATTERN, MAX_INTEGER_DIGITS, active_currencies

__all__ = ["AmountField", "CurrencyField"]

# The syntax only (a sign is read so that a negative amount is told it is negative); the
# domain (payments.money.validate_amount) says what is wrong with the value.
_AMOUNT = re.compile(r"-?[0-9]+(\.[0-9]+)?", re.ASCII)
#: Longer strings are refused before they are parsed (the domain accepts 15 digits).
MAX_AMOUNT_LENGTH = 100


@extend_schema_field({"type": "string", "pattern": AMOUNT_PATTERN, "example": "100.00"})
class AmountField(serializers.Field):
    """A money amount given as a decimal string (``"100.00"``) or a whole number.

    JSON numbers with a fraction are refused: most decimal amounts have no exact
    binary float, so ``100.10`` could silently become ``100.09999999999999``.
    Output is the amount's decimal string. The schema publishes
    :data:`~payments.money.AMOUNT_PATTERN`: what every currency's limits allow
    (the domain refuses the rest with 400); a currency with fewer decimals than
    the amount has is a rule across fields (422).
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


class CurrencyField(serializers.CharField):
    """An active ISO 4217 code, any case (``"eur"`` is ``"EUR"``); published as their enum.

    The domain (:func:`payments.money.normalize_currency`) checks it; this field
    only bounds its length.
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(max_length=3, min_length=3, **kwargs)


class CurrencyFieldSchema(OpenApiSerializerFieldExtension):  # type: ignore[no-untyped-call]
    """The codes :func:`~payments.money.active_currencies` holds (read when the schema is built)."""

    target_class = CurrencyField

    def map_serializer_field(self, auto_schema: Any, direction: Any) -> Any:
        schema = auto_schema._map_serializer_field(self.target, direction, bypass_extensions=True)
        schema.pop("minLength", None)
        schema.pop("maxLength", None)
        return {**schema, "enum": sorted(active_currencies())}
