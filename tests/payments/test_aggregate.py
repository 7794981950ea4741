"""Payment rules, decided on the aggregate (no store involved)."""

import uuid
from decimal import Decimal

import pytest

from eventstore.testing import AggregateScenario
from payments.aggregate import Payment
from payments.events import PaymentFailed, PaymentProcessed, PaymentRefunded
from payments.exceptions import (
    InvalidAmount,
    InvalidReason,
    PaymentAlreadyProcessed,
    PaymentIdTaken,
    PaymentNotFound,
    PaymentNotRefundable,
    RefundExceedsRemaining,
)


def processed(amount="100.00", currency="EUR"):
    payment = Payment("p-1")
    payment.process(amount, currency, "acme")
    return payment


def test_processing_records_one_event_with_the_exact_amount():
    payment = processed()
    assert payment.pending_events == [
        PaymentProcessed(amount=Decimal("100.00"), currency="EUR", organization_id="acme")
    ]
    assert payment.state()["status"] == "processed"


def test_partial_then_full_refund():
    payment = processed()
    payment.refund("30.00", refund_id="r1")
    assert payment.state()["status"] == "partially_refunded"
    assert payment.remaining_amount == Decimal("70.00")
    payment.refund("70", refund_id="r2")
    assert payment.state()["status"] == "refunded"
    assert payment.state()["refunded_amount"] == "100.00"
    assert payment.pending_events[-1] == PaymentRefunded(
        amount=Decimal("70.00"), currency="EUR", refund_id="r2"
    )


PROCESSED = PaymentProcessed(amount=Decimal("100.00"), currency="EUR", organization_id="acme")


def test_scenario_refund_of_a_processed_payment():
    (
        AggregateScenario(Payment, "p-1")
        .given(PROCESSED)
        .when(lambda payment: payment.refund("100", refund_id="r-1"))
        .then(PaymentRefunded(amount=Decimal("100.00"), currency="EUR", refund_id="r-1"))
    )


def test_scenario_refund_beyond_what_remains():
    (
        AggregateScenario(Payment, "p-1")
        .given(PROCESSED, PaymentRefunded(amount=Decimal("99.99"), currency="EUR", refund_id="r"))
        .when(lambda payment: payment.refund("0.02"))
        .then_raises(RefundExceedsRemaining, match="0.01 EUR that remains")
    )


def test_refund_never_exceeds_what_remains():
    payment = processed()
    payment.refund("60.00")
    with pytest.raises(RefundExceedsRemaining):
        payment.refund("40.01")
    assert len(payment.pending_events) == 2


def test_no_refund_of_an_unknown_or_failed_payment():
    with pytest.raises(PaymentNotFound):
        Payment("nothing").refund("1.00")
    failed = Payment("p-2")
    failed.fail("10.00", "EUR", "acme", "card_declined")
    with pytest.raises(PaymentNotRefundable):
        failed.refund("1.00")


def test_processing_twice_is_refused():
    payment = processed()
    with pytest.raises(PaymentAlreadyProcessed):
        payment.process("100.00", "EUR", "acme")


def test_a_failed_attempt_can_be_retried_by_the_same_organization_only():
    payment = Payment("p-3")
    payment.fail("10.00", "EUR", "acme", "insufficient_funds")
    assert payment.pending_events == [
        PaymentFailed(
            amount=Decimal("10.00"),
            currency="EUR",
            organization_id="acme",
            reason="insufficient_funds",
        )
    ]
    with pytest.raises(PaymentIdTaken):
        payment.process("10.00", "EUR", "globex")
    payment.process("10.00", "EUR", "acme")
    assert payment.state()["status"] == "processed"
    with pytest.raises(PaymentAlreadyProcessed):
        payment.fail("10.00", "EUR", "acme", "late failure")


# -- state, amounts in the currency's minor units, and the refusals' messages and fields -----


def test_the_state_of_a_new_payment():
    payment = Payment("p-0")
    assert payment.state() == {
        "payment_id": "p-0",
        "status": None,
        "amount": None,
        "currency": None,
        "refunded_amount": "0",
        "organization_id": None,
        "failure_reason": None,
        "version": 0,
    }
    assert payment.processed_event_id is None
    assert payment.failed_attempts == 0
    assert payment.remaining_amount == Decimal(0)


def test_the_state_of_a_processed_then_refunded_payment():
    payment = processed()
    assert payment.state() == {
        "payment_id": "p-1",
        "status": "processed",
        "amount": "100.00",
        "currency": "EUR",
        "refunded_amount": "0.00",
        "organization_id": "acme",
        "failure_reason": None,
        "version": 0,  # the stored version: nothing is stored yet
    }
    payment.refund("30")
    assert payment.state()["refunded_amount"] == "30.00"


def test_amounts_follow_the_currencys_minor_units():
    yen = Payment("p-jpy")
    with pytest.raises(InvalidAmount):
        yen.process("5000.5", "JPY", "acme")
    yen.process("5000", "JPY", "acme")
    assert yen.state()["amount"] == "5000"
    assert yen.state()["refunded_amount"] == "0"
    with pytest.raises(InvalidAmount):
        yen.refund("10.5")
    yen.refund("10.00")
    assert yen.pending_events[-1].amount == Decimal("10")
    assert str(yen.pending_events[-1].amount) == "10"
    failed = Payment("p-kwd")
    with pytest.raises(InvalidAmount):
        failed.fail("1.0001", "KWD", "acme", "declined")
    failed.fail("1.5", "KWD", "acme", "declined")
    assert str(failed.pending_events[-1].amount) == "1.500"


def test_a_refund_in_the_payments_currency_is_accepted_in_any_spelling():
    payment = processed()
    payment.refund("1.00", currency="eur")
    with pytest.raises(InvalidAmount) as caught:
        payment.refund("1.00", currency="USD")
    assert (str(caught.value), caught.value.field) == (
        "Refunds of this payment are in EUR, not USD.",
        "currency",
    )
    assert len(payment.pending_events) == 2


def test_generated_refund_ids_are_fresh_uuids():
    payment = processed()
    payment.refund("1.00")
    payment.refund("1.00")
    ids = [event.refund_id for event in payment.pending_events[1:]]
    assert len({str(uuid.UUID(refund_id)) for refund_id in ids}) == 2


def test_refusals_name_the_payment_and_the_field():
    payment = processed()
    with pytest.raises(PaymentAlreadyProcessed) as caught:
        payment.process("1.00", "EUR", "acme")
    assert str(caught.value) == "Payment 'p-1' was already processed."
    with pytest.raises(PaymentAlreadyProcessed) as caught:
        payment.fail("1.00", "EUR", "acme", "late")
    assert str(caught.value) == "Payment 'p-1' was already processed."
    with pytest.raises(RefundExceedsRemaining) as caught:
        payment.refund("100.01")
    assert caught.value.field == "amount"
    failed = Payment("p-2")
    failed.fail("10.00", "EUR", "acme", "card_declined")
    with pytest.raises(PaymentNotRefundable) as caught:
        failed.refund("1.00")
    assert str(caught.value) == "Payment 'p-2' failed: nothing to refund."
    for attempt in (
        lambda: failed.process("10.00", "EUR", "globex"),
        lambda: failed.fail("10.00", "EUR", "globex", "again"),
    ):
        with pytest.raises(PaymentIdTaken) as caught:
            attempt()
        assert str(caught.value) == "Payment id 'p-2' is taken by another organization."


def test_failed_attempts_by_the_same_organization_add_up():
    payment = Payment("p-4")
    payment.fail("10.00", "EUR", "acme", "card_declined")
    payment.fail("10.00", "EUR", "acme", "  insufficient_funds  ")
    assert payment.failed_attempts == 2
    assert payment.state()["failure_reason"] == "insufficient_funds"
    assert payment.state()["status"] == "failed"


@pytest.mark.parametrize("reason", ["", "   ", None, 5, "x" * 501])
def test_a_failed_attempt_needs_a_reason_of_1_to_500_characters(reason):
    payment = Payment("p-5")
    with pytest.raises(InvalidReason) as caught:
        payment.fail("10.00", "EUR", "acme", reason)
    assert (str(caught.value), caught.value.field) == (
        "Give a reason of 1 to 500 characters.",
        "reason",
    )
    assert payment.pending_events == []


def test_a_reason_of_exactly_500_characters_is_accepted():
    payment = Payment("p-6")
    payment.fail("10.00", "EUR", "acme", "x" * 500)
    assert payment.state()["failure_reason"] == "x" * 500
