"""GET /api/events/ gives the same results on the memory and the database backend.

The filters become store criteria on both backends; the database backend
translates them into SQL, the memory backend answers from its indexes.
"""

from datetime import UTC, datetime, timedelta

import pytest
from rest_framework.test import APIClient

import eventstore.testing.contract  # noqa: F401  (registers the contract.* event types)
from eventstore import eventstores
from eventstore.records import NewEvent

pytestmark = pytest.mark.django_db

BACKENDS = {
    "memory": "eventstore.backends.memory.InMemoryEventStore",
    "database": "eventstore.backends.database.DatabaseEventStore",
}
T0 = datetime(2024, 3, 10, 22, 30, tzinfo=UTC)  # 2024-03-10 23:30 in Paris


@pytest.fixture(params=sorted(BACKENDS))
def store(request, settings):
    settings.EVENTSTORES = {"default": {"BACKEND": BACKENDS[request.param]}}
    settings.TIME_ZONE = "Europe/Paris"
    store = eventstores["default"]
    store.clear()
    rows = [
        ("p-1", "contract.Happened", {"note": "Café"}, "acme", "u1", "corr-a", None, 0),
        ("p-2", "contract.Happened", {"note": "straße"}, "globex", "u2", "corr-a", "cmd-1", 1),
        (
            "p-3",
            "contract.Counted",
            {"count": 7, "amount": "1.50"},
            "acme",
            "u2",
            "corr-b",
            "cmd-1",
            2,
        ),
    ]
    for aggregate_id, event_type, data, org, user, corr, cause, hours in rows:
        store.append(
            aggregate_id,
            "Thing",
            [
                NewEvent(
                    event_type,
                    data,
                    metadata={"organization_id": org, "user_id": user},
                    correlation_id=corr,
                    causation_id=cause,
                    timestamp=T0 + timedelta(hours=hours),
                )
            ],
            0,
        )
    yield store
    store.clear()


@pytest.fixture
def api(admin_user):
    client = APIClient()
    client.force_authenticate(admin_user)
    return client


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("", ["p-1", "p-2", "p-3"]),
        ("event_type=contract.Happened", ["p-1", "p-2"]),
        ("event_type=contract.Happened&event_type=contract.Counted", ["p-1", "p-2", "p-3"]),
        ("aggregate_id=p-2", ["p-2"]),
        ("aggregate_type=Thing&organization_id=acme", ["p-1", "p-3"]),
        ("user_id=u2", ["p-2", "p-3"]),
        ("correlation_id=corr-a", ["p-1", "p-2"]),
        ("causation_id=cmd-1", ["p-2", "p-3"]),
        ("search=CAFÉ", ["p-1"]),
        ("search=STRASSE", ["p-2"]),
        ("search=1.5", ["p-3"]),
        # 2024-03-10 in Paris is 2024-03-09T23:00Z .. 2024-03-10T23:00Z: only p-1 (22:30Z).
        ("from=2024-03-10&to=2024-03-10", ["p-1"]),
        ("from=2024-03-11", ["p-2", "p-3"]),
        ("to=2024-03-11T00:30:00%2B01:00", ["p-1", "p-2"]),  # = 23:30Z, p-2 exactly: inclusive
        ("from=2024-03-10T23:30:00Z", ["p-2", "p-3"]),
    ],
)
def test_both_backends_filter_alike(store, api, query, expected):
    response = api.get(f"/api/events/?{query}")
    assert response.status_code == 200, response.json()
    assert [e["aggregate_id"] for e in response.json()["results"]] == expected


def test_both_backends_page_alike(store, api):
    first = api.get("/api/events/?page_size=2").json()
    second = api.get(first["next"]).json()
    assert [e["position"] for e in first["results"] + second["results"]] == [1, 2, 3]
    assert second["next"] is None
