"""The payments read model (``PaymentSummary``) as the ``payments.summary`` projection.

How projections are run (checkpoints, failures, store identity, commands, the
admin page) is tested with the event store's own test ledger in
tests/eventstore/test_projections.py; here, what this view derives from payment
events, on the site's settings (``payments.summary`` declared, inline on the
memory store).
"""

import pytest

from eventstore.backends import memory
from eventstore.handler import eventstores
from eventstore.models import Checkpoint
from eventstore.projections import get_projection, rebuild
from payments.commands import CommandContext, PaymentCommandHandler, ProcessPayment, RefundPayment
from payments.models import PaymentSummary

pytestmark = pytest.mark.django_db


def pay(payment_id, amount="10.00"):
    return PaymentCommandHandler().process(
        ProcessPayment(payment_id, amount, "EUR", "acme"), CommandContext()
    )


def summaries():
    return sorted(PaymentSummary.objects.values_list("payment_id", "created_position"))


def checkpoint(name):
    return Checkpoint.objects.get(name=name)


def test_inline_projection_fills_the_view_and_moves_the_checkpoint(event_store):
    pay("p-1")
    pay("p-2")
    PaymentCommandHandler().refund(RefundPayment("p-1", "4.00", refund_id="r-1"), CommandContext())
    assert summaries() == [("p-1", 1), ("p-2", 2)]
    assert PaymentSummary.objects.get(payment_id="p-1").refunded_amount == 4
    row = checkpoint("payments.summary")
    assert (row.position, row.status, row.store_identity) == (
        3,
        "caught_up",
        event_store.identity(),
    )


def test_a_restarted_memory_store_with_a_kept_read_model_rebuilds_it(event_store):
    pay("p-1")
    pay("p-2")
    old_identity = event_store.identity()
    memory.forget("default")  # what a new process sees: the store is gone, the view is kept
    eventstores.reset()
    store = eventstores["default"]
    assert store.identity() != old_identity
    pay("q-1")  # position 1 again: continuing the old rows would hit created_position 1
    assert summaries() == [("q-1", 1)]
    row = checkpoint("payments.summary")
    assert (row.position, row.store_identity, row.status) == (1, store.identity(), "caught_up")


def test_rebuild_while_writes_continue_ends_caught_up(event_store):
    for number in range(5):
        pay(f"p-{number}")
    PaymentSummary.objects.filter(payment_id="p-0").update(status="tampered")
    seen = []

    def progress(position, target):
        seen.append((position, target))
        if len(seen) == 1:
            pay("late")  # appended during the rebuild

    result = rebuild(get_projection("payments.summary"), batch_size=2, progress=progress)
    assert seen == [(2, 5), (4, 5), (5, 5)]
    assert (result.status, result.position) == ("caught_up", 6)
    assert PaymentSummary.objects.get(payment_id="p-0").status == "processed"
    assert [p for p, _ in summaries()] == ["late", "p-0", "p-1", "p-2", "p-3", "p-4"]


def test_run_projection_fixture(event_store, settings, run_projection):
    settings.EVENTSTORE_PROJECTIONS_INLINE = False
    pay("p-1")
    result = run_projection("payments.summary")
    assert (result.status, result.position, result.applied) == ("caught_up", 1, 1)
    assert summaries() == [("p-1", 1)]
