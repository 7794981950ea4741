"""Commands through the handler into the memory store, and the source document's scenarios."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from eventstore.context import correlation_scope
from eventstore.exceptions import ConcurrencyError
from payments.aggregate import Payment
from payments.commands import (
    CommandContext,
    FailPayment,
    PaymentCommandHandler,
    ProcessPayment,
    RefundPayment,
)
from payments.exceptions import PaymentError, RefundExceedsRemaining
from payments.queries import PaymentQueries

pytestmark = pytest.mark.django_db  # the read model projection writes on each append

CONTEXT = CommandContext(user_id="7", username="alice", correlation_id="req-1", command_id="cmd-1")


def test_source_scenario_history_of_one_processed_payment(event_store):
    PaymentCommandHandler().process(ProcessPayment("payment-123", "100.00", "EUR", "acme"), CONTEXT)
    history = PaymentQueries().history("payment-123")
    assert [event.event_type for event in history] == ["PaymentProcessed"]
    assert history[0].data == {"amount": "100.00", "currency": "EUR", "organization_id": "acme"}


def test_source_scenario_search_in_2024_finds_three(event_store, event_clock):
    handler = PaymentCommandHandler()
    event_clock.set(datetime(2024, 6, 15, 10, 0, tzinfo=UTC))
    for number, (amount, currency) in enumerate(
        [("100.00", "EUR"), ("200.00", "USD"), ("300.00", "EUR")], start=1
    ):
        handler.process(ProcessPayment(f"payment-{number}", amount, currency, "acme"), CONTEXT)
        event_clock.advance(hours=1)
    event_clock.set(datetime(2025, 1, 1, 0, 0, 1, tzinfo=UTC))
    handler.process(ProcessPayment("payment-2025", "1.00", "EUR", "acme"), CONTEXT)
    results = PaymentQueries().search(
        start=datetime(2024, 1, 1, tzinfo=UTC), end=datetime(2024, 12, 31, 23, 59, 59, tzinfo=UTC)
    )
    assert len(results) == 3
    assert results[0].event_type == "PaymentProcessed"
    assert [r.aggregate_id for r in results] == ["payment-1", "payment-2", "payment-3"]


def test_events_carry_who_for_whom_and_the_chain(event_store):
    _payment, events = PaymentCommandHandler().process(
        ProcessPayment("p-1", "5.00", "EUR", "acme"), CONTEXT
    )
    assert events[0].metadata == {
        "organization_id": "acme",
        "user_id": "7",
        "username": "alice",
        "command": "ProcessPayment",
        "command_id": "cmd-1",
    }
    assert (events[0].correlation_id, events[0].causation_id) == ("req-1", "cmd-1")


def test_a_refund_is_caused_by_the_payments_processing_event(event_store):
    handler = PaymentCommandHandler()
    _payment, processed = handler.process(ProcessPayment("p-1", "5.00", "EUR", "acme"), CONTEXT)
    refund_context = CommandContext(user_id="7", correlation_id="req-1", command_id="cmd-2")
    _payment, refunded = handler.refund(RefundPayment("p-1", "1.00"), refund_context)
    assert refunded[0].causation_id == str(processed[0].event_id)
    assert refunded[0].metadata["command_id"] == "cmd-2"
    # a fresh load (replay) finds the same cause
    _payment, again = handler.refund(RefundPayment("p-1", "1.00"), refund_context)
    assert again[0].causation_id == str(processed[0].event_id)


def test_context_takes_the_current_correlation_scope(event_store):
    with correlation_scope("outer-42"):
        context = CommandContext(user_id="1")
    assert context.correlation_id == "outer-42"
    assert CommandContext().correlation_id != CommandContext().correlation_id


def test_refund_flow_and_replay_to_a_version(event_store, recorded_events):
    handler = PaymentCommandHandler()
    handler.process(ProcessPayment("p-1", "100.00", "EUR", "acme"), CONTEXT)
    handler.refund(RefundPayment("p-1", "25.50"), CONTEXT)
    payment, _ = handler.refund(RefundPayment("p-1", "74.50"), CONTEXT)
    assert payment.state()["status"] == "refunded"
    with pytest.raises(RefundExceedsRemaining):
        handler.refund(RefundPayment("p-1", "0.01"), CONTEXT)
    queries = PaymentQueries()
    assert queries.state("p-1", 2).state()["refunded_amount"] == "25.50"
    assert queries.state("p-1", 2).state()["status"] == "partially_refunded"
    assert queries.state("p-1").version == 3
    assert [e.event_type for e in recorded_events] == [
        "PaymentProcessed",
        "PaymentRefunded",
        "PaymentRefunded",
    ]
    with pytest.raises(PaymentError):
        queries.state("p-1", 4)


def test_failed_attempts_are_recorded(event_store):
    handler = PaymentCommandHandler()
    handler.fail(FailPayment("p-9", "12.00", "EUR", "acme", "card_declined"), CONTEXT)
    payment, _ = handler.process(ProcessPayment("p-9", "12.00", "EUR", "acme"), CONTEXT)
    assert payment.version == 2
    assert payment.failed_attempts == 1
    assert [e.event_type for e in PaymentQueries().history("p-9")] == [
        "PaymentFailed",
        "PaymentProcessed",
    ]


@pytest.mark.parametrize("payment_id", ["", "a" * 65, "has space", "slash/no", "é"])
def test_bad_payment_ids_are_refused(event_store, payment_id):
    with pytest.raises(PaymentError) as caught:
        PaymentCommandHandler().process(ProcessPayment(payment_id, "1.00", "EUR", "acme"), CONTEXT)
    assert caught.value.field == "payment_id"
    assert event_store.count() == 0


def test_a_concurrent_change_between_load_and_append_is_a_conflict(event_store):
    handler = PaymentCommandHandler()
    handler.process(ProcessPayment("p-1", "100.00", "EUR", "acme"), CONTEXT)
    stale = handler.repository.load("p-1")
    handler.refund(RefundPayment("p-1", "10.00"), CONTEXT)
    stale.refund("95.00")
    with pytest.raises(ConcurrencyError) as caught:
        handler.repository.save(stale)
    assert (caught.value.expected_version, caught.value.actual_version) == (1, 2)
    assert Payment.from_events("p-1", event_store.read_aggregate("p-1")).refunded_amount == Decimal(
        "10.00"
    )


def test_correlation_timeline_spans_aggregates(event_store, event_clock):
    handler = PaymentCommandHandler()
    billing = CommandContext(user_id="1", correlation_id="billing-run")
    handler.process(ProcessPayment("p-1", "1.00", "EUR", "acme"), billing)
    event_clock.advance(seconds=1)
    handler.process(ProcessPayment("p-2", "2.00", "EUR", "acme"), CONTEXT)
    handler.process(ProcessPayment("p-3", "3.00", "EUR", "acme"), billing)
    timeline = PaymentQueries().correlation_timeline("billing-run")
    assert [e.aggregate_id for e in timeline] == ["p-1", "p-3"]
    assert timeline[0].timestamp + timedelta(seconds=1) == timeline[1].timestamp


def test_state_at_an_instant_replays_the_longest_prefix_of_a_stored_history(settings):
    """A history stored before times were kept non-decreasing (version 2 stamped after 3)."""
    settings.EVENTSTORES = {
        "default": {"BACKEND": "eventstore.backends.database.DatabaseEventStore"}
    }
    from eventstore import eventstore
    from eventstore.models import StoredEvent

    eventstore.clear()
    t1 = datetime(2024, 5, 1, 9, 0, tzinfo=UTC)
    eventstore.clock = lambda: t1
    handler = PaymentCommandHandler()
    handler.process(ProcessPayment("pay-1", "100.00", "EUR", "acme"), CONTEXT)
    handler.refund(RefundPayment("pay-1", "10.00", refund_id="r-1"), CONTEXT)
    handler.refund(RefundPayment("pay-1", "20.00", refund_id="r-2"), CONTEXT)
    rows = StoredEvent.objects.filter(aggregate_id="pay-1")
    rows.filter(version=2).update(timestamp=t1 + timedelta(hours=3))
    rows.filter(version=3).update(timestamp=t1 + timedelta(hours=2))
    queries = PaymentQueries(eventstore)
    # At t1 + 2h version 3 is stamped, version 2 is not: only the prefix [1] applies.
    assert queries.state_at("pay-1", t1 + timedelta(hours=2)).refunded_amount == Decimal("0.00")
    assert queries.state_at("pay-1", t1 + timedelta(hours=3)).refunded_amount == Decimal("30.00")


def test_a_command_run_once_per_command_id_gives_its_first_answer_again(event_store):
    """``once``: a retry of a command that already ran (its id is in the stream)."""
    handler = PaymentCommandHandler()
    once = CommandContext(user_id="7", command_id="cmd-refund", once=True)
    handler.process(ProcessPayment("p-1", "100.00", "EUR", "acme"), CONTEXT)
    first, recorded = handler.refund(RefundPayment("p-1", "30.00"), once)
    handler.refund(RefundPayment("p-1", "5.00"), CommandContext(user_id="7"))
    # The same command again: the payment as it left it (version 2), its events, no append.
    again, events = handler.refund(RefundPayment("p-1", "30.00"), once)
    assert (again.version, again.refunded_amount) == (2, Decimal("30.00"))
    assert [e.event_id for e in events] == [e.event_id for e in recorded]
    assert event_store.aggregate_version("p-1") == 3
    # Without ``once`` a command id is not looked up (a reused context runs again).
    _payment, events = handler.refund(RefundPayment("p-1", "1.00"), CONTEXT)
    assert len(events) == 1
