"""Settings of the projection tests' child processes: the tests' own, plus the test projection."""

from tests.settings import *  # noqa: F403
from tests.settings import EVENTSTORE_PROJECTIONS

EVENTSTORE_PROJECTIONS = [*EVENTSTORE_PROJECTIONS, "tests.projection_fixtures.AppliedLog"]
