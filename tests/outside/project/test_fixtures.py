"""The app's pytest fixtures (``event_store``, ``recorded_events``, ``event_clock``) and
the database backend's publishing on commit."""

from datetime import UTC, datetime
from decimal import Decimal

import pytest
import shop

from eventstore import NO_STREAM, eventstore
from eventstore.testing import AggregateScenario


def test_event_store_is_an_empty_memory_store(event_store):
    assert type(event_store).__name__ == "InMemoryEventStore"
    assert event_store.count() == 0


def test_recorded_events_and_event_clock(event_store, recorded_events, event_clock):
    event_clock.set(datetime(2024, 6, 1, 12, tzinfo=UTC))
    records = eventstore.append(
        "order-9", "Order", [shop.OrderPlaced(total=Decimal("1.00"), currency="EUR")], NO_STREAM
    )
    assert recorded_events == records
    assert records[0].timestamp == datetime(2024, 6, 1, 12, tzinfo=UTC)
    assert event_store.read_aggregate("order-9") == records


def test_an_aggregate_given_when_then():
    AggregateScenario(shop.Order, "order-1").given(
        shop.OrderPlaced(total=Decimal("5.00"), currency="EUR")
    ).when(lambda order: order.ship("DHL")).then(shop.OrderShipped(carrier="DHL"))


def test_run_projection_catches_a_projection_up(orders, run_projection):
    result = run_projection("shop.shipped")
    assert (result.status, result.applied) == ("caught_up", 2)
    assert {"order-1", "order-2"} <= shop.SHIPPED


def test_the_database_store_publishes_on_commit(
    db, recorded_events, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        records = shop.place_and_ship("order-7", "acme", "checkout-7")
        assert recorded_events == []  # inside the test's transaction: not yet committed
    assert recorded_events == records


@pytest.mark.django_db(transaction=True)
def test_in_a_transactional_test_the_database_store_publishes_at_once(recorded_events):
    records = shop.place_and_ship("order-8", "acme", "checkout-8")
    assert recorded_events == records
