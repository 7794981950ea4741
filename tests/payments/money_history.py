"""The money history of tests/payments/test_money_analytics.py (its docstring tabulates it)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from payments.commands import (
    CommandContext,
    FailPayment,
    PaymentCommandHandler,
    ProcessPayment,
    RefundPayment,
)

PARIS = ZoneInfo("Europe/Paris")
START = datetime(2024, 10, 26, tzinfo=PARIS)  # 2024-10-25T22:00Z
END = datetime(2024, 10, 31, tzinfo=PARIS) - timedelta(microseconds=1)  # the 30th's last instant


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def record_history(event_clock):
    """Append the table's ten events, moving ``event_clock`` (the store's clock) along."""
    handler = PaymentCommandHandler()
    context = CommandContext(user_id="1", username="alice")
    steps = [
        (
            utc(2024, 10, 26, 21, 30),
            handler.process,
            ProcessPayment("p-1", "100.00", "EUR", "acme"),
        ),
        (utc(2024, 10, 27, 0, 30), handler.process, ProcessPayment("p-2", "5000", "JPY", "globex")),
        (
            utc(2024, 10, 27, 1, 30),
            handler.fail,
            FailPayment("p-3", "20.00", "EUR", "acme", "card_declined"),
        ),
        (utc(2024, 10, 27, 1, 35), handler.process, ProcessPayment("p-3", "20.00", "EUR", "acme")),
        (utc(2024, 10, 27, 22, 59), handler.refund, RefundPayment("p-1", "30.00")),
        (
            utc(2024, 10, 27, 23, 0),
            handler.process,
            ProcessPayment("p-4", "250.50", "EUR", "globex"),
        ),
        (
            utc(2024, 10, 28, 8),
            handler.fail,
            FailPayment("p-5", "999", "JPY", "globex", "insufficient_funds"),
        ),
        (
            utc(2024, 10, 28, 9),
            handler.fail,
            FailPayment("p-6", "10.00", "EUR", "acme", "card_declined"),
        ),
        (utc(2024, 10, 29, 10), handler.refund, RefundPayment("p-2", "5000")),
        (utc(2024, 10, 31, 12), handler.process, ProcessPayment("p-7", "1.00", "EUR", "acme")),
    ]
    for when, method, command in steps:
        event_clock.set(when)
        method(command, context)
