"""Payment rules, decided on the aggregate (no store involved)."""

from decimal import Decimal

import pytest

from eventstore.testing import AggregateScenario
from payments.aggregate import Payment
from payments.events import PaymentFailed, PaymentProcessed, PaymentRefunded
from payments.exceptions import (
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
