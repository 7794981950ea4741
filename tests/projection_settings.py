"""Settings of the child processes of the projection tests: the site's, plus the test projection."""

from gyroscops.settings import *  # noqa: F403
from gyroscops.settings import EVENTSTORE_PROJECTIONS

EVENTSTORE_PROJECTIONS = [*EVENTSTORE_PROJECTIONS, "tests.projection_fixtures.AppliedLog"]
