"""Project-wide test configuration (the eventstore pytest plugin is loaded by entry point)."""

import pytest
from django.core.cache import cache


@pytest.fixture(autouse=True)
def _projections_raise(settings):
    """A failing projection raises in tests instead of being only logged."""
    settings.EVENTSTORE_PROJECTIONS_RAISE = True


@pytest.fixture(autouse=True)
def _empty_cache():
    """Each test starts with an empty cache (throttling counts live there)."""
    cache.clear()
    yield
    cache.clear()
