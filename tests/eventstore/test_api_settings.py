"""The app's API answers store errors with 4xx/5xx whatever the project's DRF settings.

``REST_FRAMEWORK`` here has DRF's default ``EXCEPTION_HANDLER`` (not the site's,
which wraps eventstore's), or a project handler of its own: the eventstore
views still map store errors (``eventstore.api.errors.StoreErrorsMixin``).
"""

import pytest
from rest_framework.response import Response
from rest_framework.test import APIClient
from rest_framework.views import exception_handler as drf_exception_handler

from eventstore.exceptions import EventStoreError, InvalidBackendError, InvalidQueryError

pytestmark = pytest.mark.django_db


def answers_everything(exc, context):
    """A project handler that answers every error in its own shape."""
    return Response({"error": type(exc).__name__}, status=418)


def knows_drf_only(exc, context):
    """A project handler that wraps DRF's and knows nothing of the event store."""
    response = drf_exception_handler(exc, context)
    if response is not None:
        response.data = {"error": response.data}
    return response


def with_exception_handler(settings, handler=None):
    """The site's REST_FRAMEWORK with another EXCEPTION_HANDLER (None: DRF's default)."""
    rest_framework = dict(settings.REST_FRAMEWORK)
    rest_framework.pop("EXCEPTION_HANDLER")
    if handler:
        rest_framework["EXCEPTION_HANDLER"] = handler
    settings.REST_FRAMEWORK = rest_framework


@pytest.fixture
def api(admin_user):
    client = APIClient()
    client.force_authenticate(admin_user)
    return client


@pytest.fixture
def failing_search(event_store, monkeypatch):
    def fail_with(error):
        def fail(*args, **kwargs):
            raise error

        monkeypatch.setattr(event_store, "search", fail)
        monkeypatch.setattr(event_store, "count", fail)

    return fail_with


def test_with_drfs_handler_store_errors_are_not_500s(settings, api, failing_search):
    with_exception_handler(settings)
    failing_search(InvalidQueryError("bad query"))
    response = api.get("/api/events/")
    assert response.status_code == 400
    assert response.json() == {"detail": "bad query", "code": "invalid"}

    failing_search(EventStoreError("locked"))
    response = api.get("/api/counts/")
    assert response.status_code == 503
    assert response["Retry-After"] == "1"
    assert response.json()["code"] == "event_store_unavailable"


def test_a_misconfigured_store_is_a_500_that_retrying_cannot_fix(settings, api, failing_search):
    with_exception_handler(settings)
    failing_search(InvalidBackendError("Journal /srv/events.journal is locked by process 7"))
    response = api.get("/api/events/")
    assert response.status_code == 500
    assert "Retry-After" not in response
    assert response.json() == {
        "detail": "The event store is not configured correctly; the server log says why.",
        "code": "event_store_misconfigured",
    }


def test_with_drfs_handler_bodies_keep_their_code(settings, api, event_store):
    with_exception_handler(settings)
    response = api.get("/api/events/no-such-event/")
    assert response.status_code == 404
    assert response.json() == {"detail": "Unknown event id.", "code": "not_found"}


def test_a_project_handler_answers_first(settings, api, failing_search):
    with_exception_handler(settings, "tests.eventstore.test_api_settings.answers_everything")
    failing_search(InvalidQueryError("bad query"))
    response = api.get("/api/events/")
    assert (response.status_code, response.json()) == (418, {"error": "InvalidQueryError"})


def test_what_a_project_handler_leaves_the_store_mapping_answers(settings, api, failing_search):
    with_exception_handler(settings, "tests.eventstore.test_api_settings.knows_drf_only")
    failing_search(InvalidQueryError("bad query"))
    response = api.get("/api/events/")
    assert response.status_code == 400
    assert response.json() == {"detail": "bad query", "code": "invalid"}
    # DRF's own errors still go through the project's handler.
    response = api.get("/api/events/?no_such_filter=1")
    assert response.status_code == 400
    assert set(response.json()) == {"error"}
