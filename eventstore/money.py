"""Money in events: what a domain declares about its event classes, and how amounts are shown.

The event store knows nothing of any domain. A domain that records money tells
it, per event class, which role the event plays and where its data keeps the
figures, with the ``money`` class keyword of :class:`~eventstore.events.DomainEvent`::

    @event
    class PaymentProcessed(DomainEvent, money=MoneyRole("processed")):
        amount: Decimal
        currency: str

    @event
    class PaymentFailed(DomainEvent, money=MoneyRole("failed", reason="reason")):
        ...

The money analytics (:mod:`eventstore.queries.money`) read only the event
types that declare a role, by type and time range.

Currency minor units (EUR 2, JPY 0, KWD 3) come from ISO 4217 as CLDR ships
it with babel.
"""

from __future__ import annotations

import dataclasses
import decimal
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any, Literal, get_args

from babel.numbers import get_currency_precision

__all__ = [
    "MONEY_KINDS",
    "EventMoney",
    "MoneyKind",
    "MoneyRole",
    "event_money",
    "format_money",
    "minor_units",
]

MoneyKind = Literal["processed", "refunded", "failed"]
MONEY_KINDS: tuple[str, ...] = get_args(MoneyKind)

# Enough precision to quantize any finite Decimal without raising.
_WIDE = decimal.Context(prec=decimal.MAX_PREC, Emax=decimal.MAX_EMAX, Emin=decimal.MIN_EMIN)


@dataclasses.dataclass(frozen=True)
class MoneyRole:
    """The money an event records, as its class declares it.

    Attributes:
        kind: ``"processed"`` (money taken in: counts as processed volume),
            ``"refunded"`` (money given back: refunded volume) or ``"failed"``
            (an attempt that took no money: counts towards the failure rate).
        amount: the data field holding the amount, a decimal string
            (``"100.00"``), never a float.
        currency: the data field holding the ISO 4217 currency code.
        reason: the data field holding the failure reason (``"failed"`` only;
            None when the events carry none).

    Raises:
        ValueError: for an unknown kind, an empty field name, or a reason
            given for a kind other than ``"failed"``.
    """

    kind: MoneyKind
    amount: str = "amount"
    currency: str = "currency"
    reason: str | None = None

    def __post_init__(self) -> None:
        if self.kind not in MONEY_KINDS:
            raise ValueError(
                f"Unknown money kind {self.kind!r}: use one of {', '.join(MONEY_KINDS)}."
            )
        for name in (self.amount, self.currency, self.reason or "x"):
            if not isinstance(name, str) or not name:
                raise ValueError("Money fields are named by non-empty strings.")
        if self.reason is not None and self.kind != "failed":
            raise ValueError("Only a 'failed' money role has a reason field.")


def minor_units(currency: str) -> int:
    """Return the decimal places of ``currency`` (ISO 4217 via CLDR: EUR 2, JPY 0, KWD 3).

    An unknown code gets 2, babel's default.
    """
    return int(get_currency_precision(currency))


def format_money(value: Decimal, currency: str) -> str:
    """Return ``value`` as an exact decimal string in ``currency``'s minor units.

    ``Decimal("5")`` EUR gives ``"5.00"``, JPY ``"5"``, KWD ``"5.000"``. A value
    with more decimals than the currency has is shown whole, never rounded
    (``"0.125"`` EUR stays ``"0.125"``; ``"5.000"`` is ``"5.00"``); NaN and
    infinities are shown as they are.
    """
    try:
        shown = value.quantize(Decimal(1).scaleb(-minor_units(currency)), context=_WIDE)
    except (InvalidOperation, ValueError, TypeError):
        return str(value)
    return str(shown) if shown == value else str(value)


@dataclasses.dataclass(frozen=True)
class EventMoney:
    """The money of one event: ``amount`` exactly as stored, ``currency`` upper-case."""

    amount: Decimal
    currency: str

    def display(self) -> str:
        """Return the amount in the currency's minor units (see :func:`format_money`)."""
        return format_money(self.amount, self.currency)


#: The fields read when an event class declares no money role.
_DEFAULT_FIELDS = MoneyRole("processed")


def event_money(data: Mapping[str, Any], role: MoneyRole | None = None) -> EventMoney | None:
    """Return the money of event ``data``, or None when it carries none.

    ``role``: the event class's declared :class:`MoneyRole` (see
    :meth:`~eventstore.events.EventRegistry.money_role`), whose ``amount`` and
    ``currency`` name the data fields; without one (an undeclared class, an
    unknown type) the fields ``amount`` and ``currency`` are read, so any
    event showing money is shown with it. ``data[amount]`` must be a decimal
    string, an int or a Decimal (a float or a bool is not money) and
    ``data[currency]`` three ASCII letters; anything else (missing, malformed)
    gives None: the page shows no amount rather than a wrong one.
    """
    fields = role or _DEFAULT_FIELDS
    amount, currency = data.get(fields.amount), data.get(fields.currency)
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
