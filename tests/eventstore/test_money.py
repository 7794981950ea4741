"""Money roles declared by event classes, the money formatter, and the money analytics
read through a test-only till domain (no payments app: the store knows no domain).

The till's events keep their figures in fields of their own names (``total``,
``ccy``, ``why``), which only their declaration tells the analytics.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from eventstore.events import DomainEvent, EventRegistry, event, registry
from eventstore.money import MoneyRole, format_money, minor_units
from eventstore.queries.money import money_analytics
from eventstore.records import NewEvent


@event
class TillSale(DomainEvent, event_type="till.Sale", money=MoneyRole("processed", "total", "ccy")):
    total: Decimal
    ccy: str


@event
class TillReturn(
    DomainEvent,
    event_type="till.Return",
    aliases=("till.Refund",),
    money=MoneyRole("refunded", "total", "ccy"),
):
    total: Decimal
    ccy: str


@event
class TillDeclined(
    DomainEvent,
    event_type="till.Declined",
    schema_version=2,
    money=MoneyRole("failed", "total", "ccy", reason="why"),
):
    total: Decimal
    ccy: str
    why: str


@event
class TillLooseSale(
    DomainEvent, event_type="till.LooseSale", money=MoneyRole("processed", "total", "ccy")
):
    """Written by an old import with no checks: its fields may hold anything."""

    total: Any = None
    ccy: Any = None


@registry.upcaster("till.Declined", 1)
def _declined_v1(data):
    # Version 1 called the amount "sum".
    return {**data, "total": data.pop("sum")}


DAY = datetime(2024, 3, 10, tzinfo=UTC)
END = datetime(2024, 3, 10, 23, 59, 59, tzinfo=UTC)


def add(store, event_type, data, *, hour, schema_version=None, organization="acme"):
    new = NewEvent(
        event_type,
        data,
        timestamp=DAY.replace(hour=hour),
        metadata={"organization_id": organization},
        schema_version=schema_version,
    )
    store.append(f"till-{event_type}-{hour}-{organization}", "Till", [new], 0)


def test_a_class_declares_its_money_role_and_the_registry_lists_it_by_stored_name():
    roles = registry.money_roles()
    assert roles["till.Sale"] == MoneyRole("processed", amount="total", currency="ccy")
    assert roles["till.Return"] is roles["till.Refund"]  # the former name too
    assert roles["till.Declined"].reason == "why"
    assert TillSale.money_role is roles["till.Sale"]
    assert EventRegistry().money_roles() == {}


def test_a_field_named_money_stays_free_for_payloads():
    @dataclass(frozen=True)
    class Tip(DomainEvent, event_type="till.Tip", register=False):
        money: Decimal

    assert Tip(money=Decimal("1.00")).to_data() == {"money": "1.00"}
    assert Tip.money_role is None


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (("spent",), "Unknown money kind"),
        (("processed", ""), "non-empty"),
        (("refunded", "amount", "currency", "why"), "Only a 'failed'"),
    ],
)
def test_bad_declarations_are_refused(arguments, message):
    with pytest.raises(ValueError, match=message):
        MoneyRole(*arguments)


def test_the_money_keyword_takes_a_money_role_only():
    with pytest.raises(TypeError, match="MoneyRole"):

        class Bad(DomainEvent, event_type="till.Bad", register=False, money="processed"):  # type: ignore[arg-type]
            pass


def test_amounts_are_shown_in_the_currencys_minor_units():
    assert (minor_units("EUR"), minor_units("JPY"), minor_units("KWD")) == (2, 0, 3)
    assert format_money(Decimal("5"), "EUR") == "5.00"
    assert format_money(Decimal("5.000"), "EUR") == "5.00"
    assert format_money(Decimal("1500"), "JPY") == "1500"
    assert format_money(Decimal("1.5"), "KWD") == "1.500"
    assert format_money(Decimal("-10"), "EUR") == "-10.00"
    assert format_money(Decimal("0.125"), "EUR") == "0.125"  # never rounded away


def test_the_analytics_read_the_declared_fields_upcast_and_skip_unreadable_events(event_store):
    # By hand, CHF: sales 10.00 + 2.50 = 12.50; a return (stored under the former
    # name) of 2.50; net 10.00; a declined v1 event of 4.00 ("sum" upcast to "total").
    # Refund rate 2.50 / 12.50 = 0.2000; failure rate 1 / (2 + 1) = 0.3333.
    add(event_store, "till.Sale", {"total": "10.00", "ccy": "CHF"}, hour=9)
    add(event_store, "till.Sale", {"total": "2.50", "ccy": "CHF"}, hour=10)
    add(event_store, "till.Refund", {"total": "2.50", "ccy": "CHF"}, hour=11)
    add(
        event_store,
        "till.Declined",
        {"sum": "4.00", "ccy": "CHF", "why": "no cash"},
        hour=12,
        schema_version=1,
    )
    # Unreadable: a float amount, no currency, not a number. Left out, counted.
    add(event_store, "till.LooseSale", {"total": 1.1, "ccy": "CHF"}, hour=13)
    add(event_store, "till.LooseSale", {"total": "3.00"}, hour=14)
    add(event_store, "till.LooseSale", {"total": "lots", "ccy": "CHF"}, hour=15)
    # Another organization's sale in another currency.
    add(event_store, "till.Sale", {"total": "7", "ccy": "JPY"}, hour=16, organization="globex")

    result = money_analytics(event_store, DAY, END, interval="day", tz="UTC")
    assert [volume.currency for volume in result.currencies] == ["CHF", "JPY"]
    chf = result.currencies[0]
    assert (chf.processed, chf.refunded, chf.net) == (
        Decimal("12.50"),
        Decimal("2.50"),
        Decimal("10.00"),
    )
    assert (chf.payments, chf.refunds, chf.failures, chf.failed_amount) == (
        2,
        1,
        1,
        Decimal("4.00"),
    )
    assert (chf.refund_rate, chf.failure_rate) == (Decimal("0.2000"), Decimal("0.3333"))
    assert [(r.reason, r.failures) for r in chf.failure_reasons] == [("no cash", 1)]
    assert result.skipped == 3
    scoped = money_analytics(
        event_store, DAY, END, interval="day", tz="UTC", organization_ids={"acme"}
    )
    assert [volume.currency for volume in scoped.currencies] == ["CHF"]
    assert scoped.skipped == 3


def test_no_money_types_give_no_currencies(event_store):
    add(event_store, "till.Sale", {"total": "10.00", "ccy": "CHF"}, hour=9)
    result = money_analytics(
        event_store, DAY, END, interval="day", tz="UTC", event_registry=EventRegistry()
    )
    assert (result.currencies, result.event_types, result.skipped) == ((), (), 0)


def test_pages_and_exports_read_the_money_where_the_class_declares_it(event_store):
    from eventstore.money import EventMoney, event_money
    from eventstore.queries.export import data_columns, event_csv_header, event_csv_row

    assert registry.money_role("till.Refund") is TillReturn.money_role  # a former name
    assert registry.money_role("till.Unknown") is None
    data = {"total": "7.5", "ccy": "jpy", "amount": "1.00", "currency": "EUR"}
    # Declared fields win over look-alike ones; undeclared classes keep amount/currency.
    assert event_money(data, TillSale.money_role) == EventMoney(Decimal("7.5"), "JPY")
    assert event_money(data) == EventMoney(Decimal("1.00"), "EUR")
    add(event_store, "till.Return", {"total": "2.50", "ccy": "EUR"}, hour=9)
    (stored,) = event_store.read_all()
    assert data_columns(["till.Return"]) == []  # total and ccy are the money columns
    row = dict(zip(event_csv_header(), event_csv_row(stored), strict=True))
    assert (row["amount"], row["currency"]) == (Decimal("2.50"), "EUR")
