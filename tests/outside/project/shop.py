"""The project's own domain: orders recorded as events (what a user of the app writes).

A real project defines its events in one of its apps and imports them when
Django starts (e.g. in ``AppConfig.ready``); this tiny project has no app of its
own, so ``urls.py`` and ``conftest.py`` import this module.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from eventstore import NO_STREAM, DomainEvent, event, eventstore
from eventstore.aggregates import Aggregate, applies
from eventstore.projections import Projection


@event
class OrderPlaced(DomainEvent):
    total: Decimal
    currency: str


@event
class OrderShipped(DomainEvent):
    carrier: str


class Order(Aggregate):
    """An order: placed, then shipped."""

    aggregate_type = "Order"

    def __init__(self, aggregate_id: str) -> None:
        super().__init__(aggregate_id)
        self.status = "new"
        self.total: Decimal | None = None
        self.carrier: str | None = None

    def ship(self, carrier: str) -> None:
        if self.status != "placed":
            raise ValueError(f"cannot ship an order that is {self.status}")
        self.record(OrderShipped(carrier=carrier))

    @applies(OrderPlaced)
    def _placed(self, placed: OrderPlaced) -> None:
        self.status = "placed"
        self.total = placed.total

    @applies(OrderShipped)
    def _shipped(self, shipped: OrderShipped) -> None:
        self.status = "shipped"
        self.carrier = shipped.carrier

    def state(self) -> dict[str, Any]:
        return {
            **super().state(),
            "status": self.status,
            "total": None if self.total is None else str(self.total),
            "carrier": self.carrier,
        }


#: The view of :class:`ShippedOrders`: ids of shipped orders (a real one writes models).
SHIPPED: set[str] = set()


class ShippedOrders(Projection):
    """A projection (``EVENTSTORE_PROJECTIONS``): which orders have shipped."""

    name = "shop.shipped"
    event_types = ["OrderShipped"]

    def apply(self, events: list[Any], store: Any) -> None:
        SHIPPED.update(event.aggregate_id for event in events)

    def reset(self) -> None:
        SHIPPED.clear()


def organizations_for_user(user: Any) -> list[str]:
    """``EVENTSTORE_USER_ORGANIZATIONS``: here a user's organizations are their groups."""
    return list(user.groups.values_list("name", flat=True))


def place_and_ship(order_id: str, organization_id: str, correlation_id: str) -> list[Any]:
    """Append an order's two events, the second caused by the first; return the records."""
    metadata = {"organization_id": organization_id, "user_id": "1", "username": "seed"}
    placed = eventstore.append(
        order_id,
        "Order",
        [OrderPlaced(total=Decimal("42.50"), currency="EUR")],
        NO_STREAM,
        metadata=metadata,
        correlation_id=correlation_id,
    )
    shipped = eventstore.append(
        order_id,
        "Order",
        [OrderShipped(carrier="DHL")],
        1,
        metadata=metadata,
        correlation_id=correlation_id,
        causation_id=str(placed[0].event_id),
    )
    return placed + shipped


def seed() -> None:
    """Two orders of two organizations (run by tests/outside/run.sh with manage.py shell)."""
    place_and_ship("order-1", "acme", "checkout-1")
    place_and_ship("order-2", "globex", "checkout-2")
