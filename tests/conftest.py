"""Project-wide test configuration (the eventstore pytest plugin is loaded by entry point)."""

import pytest


@pytest.fixture(autouse=True)
def _projections_raise(settings):
    """A failing projection raises in tests instead of being only logged."""
    settings.EVENTSTORE_PROJECTIONS_RAISE = True
