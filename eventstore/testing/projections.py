"""Run a projection to catch-up in a test, then assert on its view.

::

    def test_summary(event_store, run_projection):
        handler.process(ProcessPayment("p-1", "10.00", "EUR", "acme"), context)
        result = run_projection("payments.summary")
        assert result.status == "caught_up"
        assert PaymentSummary.objects.get(payment_id="p-1").amount == 10

Inline projections already run synchronously after each append on the memory
store (the pytest plugin's and :class:`~eventstore.testing.EventStoreTestMixin`'s
store); this helper is for projections followed by the daemon (database
backend, ``EVENTSTORE_PROJECTIONS_INLINE = False``), and to check the checkpoint.
"""

from __future__ import annotations

from typing import Any

__all__ = ["run_projection"]


def run_projection(projection: Any, *, store: Any = None, raise_errors: bool = True) -> Any:
    """Catch ``projection`` (a declared name or a Projection) up; return the CatchUpResult.

    Raises:
        ProjectionError: if it fails (unless ``raise_errors=False``).
    """
    from ..projections import Projection, catch_up, get_projection

    if not isinstance(projection, Projection):
        projection = get_projection(projection)
    return catch_up(projection, store=store, raise_errors=raise_errors)
