"""Organization scoping of every read endpoint of the event API, on both backends.

The users here are members (no ``eventstore.view_audit_trail`` permission, not
staff): they must see their organizations' events only, whichever backend
answers (the database backend filters a QuerySet, the memory backend its
indexes). A staff user holding the permission sees everything, which shows the
fixture holds the events the members must not see.
"""

from datetime import UTC, datetime, timedelta

import pytest
from django.contrib.auth.models import Group, Permission
from rest_framework.test import APIClient

import eventstore.testing.contract  # noqa: F401  (registers the contract.* event types)
from eventstore import eventstores
from eventstore.records import NewEvent

pytestmark = pytest.mark.django_db

BACKENDS = {
    "memory": "eventstore.backends.memory.InMemoryEventStore",
    "database": "eventstore.backends.database.DatabaseEventStore",
}
T0 = datetime(2024, 3, 10, 9, 0, tzinfo=UTC)
DAY = "from=2024-03-10T00:00:00Z&to=2024-03-10T23:59:59Z"
HAPPENED, COUNTED = "contract.Happened", "contract.Counted"

# aggregate id, event type, organization (None: no organization), correlation id, hours after T0
ROWS = [
    ("a-1", HAPPENED, "acme", "corr-shared", 0),
    ("g-1", HAPPENED, "globex", "corr-shared", 1),
    ("a-2", COUNTED, "acme", "corr-acme", 2),
    ("g-2", COUNTED, "globex", "corr-globex", 3),
    ("n-1", HAPPENED, None, "corr-shared", 4),
    ("i-1", COUNTED, "initech", "corr-initech", 5),
]
EVERYONE = [row[0] for row in ROWS]


@pytest.fixture(params=sorted(BACKENDS))
def store(request, settings):
    settings.EVENTSTORES = {"default": {"BACKEND": BACKENDS[request.param]}}
    store = eventstores["default"]
    store.clear()
    for aggregate_id, event_type, org, correlation_id, hours in ROWS:
        data = {"note": aggregate_id} if event_type == HAPPENED else {"count": hours}
        metadata = {"user_id": "u1"} | ({"organization_id": org} if org else {})
        store.append(
            aggregate_id,
            "Thing",
            [
                NewEvent(
                    event_type,
                    data,
                    metadata=metadata,
                    correlation_id=correlation_id,
                    timestamp=T0 + timedelta(hours=hours),
                )
            ],
            0,
        )
    yield store
    store.clear()


@pytest.fixture
def client_for(django_user_model, store, settings):
    """Return an API client authenticated as a new member of the given organizations.

    Membership is a group per organization (``tests.eventstore.ledger.organizations_of``).
    """
    settings.EVENTSTORE_USER_ORGANIZATIONS = "tests.eventstore.ledger.organizations_of"
    organizations = {
        slug: Group.objects.create(name=slug) for slug in ("acme", "globex", "initech")
    }

    def make(*slugs, permission=False, staff=False):
        user = django_user_model.objects.create_user(
            "user-" + "-".join(slugs or ("none",)) + ("-perm" if permission else ""),
            is_staff=staff,
        )
        for slug in slugs:
            user.groups.add(organizations[slug])
        if permission:
            user.user_permissions.add(Permission.objects.get(codename="view_audit_trail"))
        client = APIClient()
        client.force_authenticate(user)
        return client

    return make


def event_of(store, aggregate_id):
    return store.read_aggregate(aggregate_id)[0]


def results(response):
    assert response.status_code == 200, response.json()
    return [e["aggregate_id"] for e in response.json()["results"]]


def all_pages(client, url):
    """Follow ``next`` links; return every aggregate id in order."""
    seen = []
    while url:
        response = client.get(url)
        seen += results(response)
        url = response.json()["next"]
    return seen


# -- GET /api/events/ ---------------------------------------------------------------------


def test_a_member_lists_their_organizations_events_only(client_for):
    alice = client_for("acme")
    assert results(alice.get("/api/events/")) == ["a-1", "a-2"]
    assert all_pages(alice, "/api/events/?page_size=1") == ["a-1", "a-2"]


def test_a_member_of_two_organizations_lists_both(client_for):
    dave = client_for("acme", "globex")
    assert results(dave.get("/api/events/")) == ["a-1", "g-1", "a-2", "g-2"]
    assert all_pages(dave, "/api/events/?page_size=3") == ["a-1", "g-1", "a-2", "g-2"]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("organization_id=globex", []),
        ("organization_id=acme", ["a-1", "a-2"]),
        ("aggregate_id=g-1", []),
        ("aggregate_id=n-1", []),
        ("correlation_id=corr-shared", ["a-1"]),
        (f"event_type={COUNTED}", ["a-2"]),
        ("search=g-1", []),
        ("user_id=u1", ["a-1", "a-2"]),
    ],
)
def test_filters_never_widen_a_members_scope(client_for, query, expected):
    assert results(client_for("acme").get(f"/api/events/?{query}")) == expected


def test_a_member_of_no_organization_sees_no_event(client_for):
    bob = client_for()
    assert results(bob.get("/api/events/")) == []
    assert results(bob.get("/api/events/?organization_id=acme")) == []


def test_without_an_organizations_setting_members_see_nothing(client_for, settings):
    alice = client_for("acme")
    settings.EVENTSTORE_USER_ORGANIZATIONS = None
    assert results(alice.get("/api/events/")) == []


def test_the_audit_trail_permission_shows_every_event(client_for):
    assert results(client_for(permission=True).get("/api/events/")) == EVERYONE
    assert results(client_for("acme", permission=True).get("/api/events/")) == EVERYONE


def test_staff_status_alone_does_not_widen_the_scope(client_for):
    assert results(client_for("acme", staff=True).get("/api/events/")) == ["a-1", "a-2"]


# -- GET /api/events/{id}/ ----------------------------------------------------------------


def test_a_member_reads_their_event_and_not_the_others(client_for, store):
    alice = client_for("acme")
    own = event_of(store, "a-1")
    response = alice.get(f"/api/events/{own.event_id}/")
    assert response.status_code == 200
    assert response.json()["aggregate_id"] == "a-1"
    assert response.json()["metadata"] == {"user_id": "u1", "organization_id": "acme"}
    for other in ("g-1", "n-1", "i-1"):
        response = alice.get(f"/api/events/{event_of(store, other).event_id}/")
        assert response.status_code == 404, other
    everything = client_for(permission=True)
    for aggregate_id in EVERYONE:
        assert everything.get(f"/api/events/{event_of(store, aggregate_id).event_id}/").json()[
            "aggregate_id"
        ] == (aggregate_id)


# -- correlations and replay ----------------------------------------------------------------


@pytest.mark.parametrize(
    "url", ["/api/correlations/{}/timeline/", "/api/replay/by-correlation/{}/"]
)
def test_a_correlation_shows_the_members_events_only(client_for, url):
    alice = client_for("acme")
    body = alice.get(url.format("corr-shared")).json()
    assert (body["count"], [e["aggregate_id"] for e in body["events"]]) == (1, ["a-1"])
    assert alice.get(url.format("corr-globex")).status_code == 404
    assert client_for().get(url.format("corr-shared")).status_code == 404
    body = client_for(permission=True).get(url.format("corr-shared")).json()
    assert [e["aggregate_id"] for e in body["events"]] == ["a-1", "g-1", "n-1"]


def test_replay_by_type_shows_the_members_events_only(client_for):
    alice = client_for("acme")
    assert results(alice.get(f"/api/replay/by-type/?event_type={HAPPENED}")) == ["a-1"]
    assert results(
        alice.get(f"/api/replay/by-type/?event_type={HAPPENED}&event_type={COUNTED}&{DAY}")
    ) == ["a-1", "a-2"]
    assert all_pages(
        alice, f"/api/replay/by-type/?event_type={HAPPENED}&event_type={COUNTED}&page_size=1"
    ) == ["a-1", "a-2"]
    assert results(client_for().get(f"/api/replay/by-type/?event_type={HAPPENED}")) == []
    everything = client_for(permission=True)
    assert results(everything.get(f"/api/replay/by-type/?event_type={HAPPENED}")) == [
        "a-1",
        "g-1",
        "n-1",
    ]


# -- counts and analytics -------------------------------------------------------------------


def test_counts_count_the_members_events_only(client_for):
    alice = client_for("acme")
    assert alice.get("/api/counts/").json() == {
        "total": 2,
        "by_event_type": {HAPPENED: 1, COUNTED: 1},
    }
    assert alice.get("/api/counts/?aggregate_id=a-2").json() == {"aggregate_id": "a-2", "count": 1}
    assert alice.get("/api/counts/?aggregate_id=g-1").json()["count"] == 0
    assert alice.get("/api/counts/?aggregate_id=n-1").json()["count"] == 0
    assert client_for().get("/api/counts/").json() == {"total": 0, "by_event_type": {}}
    assert client_for(permission=True).get("/api/counts/").json() == {
        "total": 6,
        "by_event_type": {HAPPENED: 3, COUNTED: 3},
    }


def test_analytics_count_the_members_events_only(client_for):
    alice = client_for("acme")
    query = f"event_type={HAPPENED}&event_type={COUNTED}&{DAY}&tz=UTC"
    statistics = alice.get(f"/api/analytics/statistics/?{query}").json()
    assert (statistics["total"], statistics["by_organization"]) == (2, {"acme": 2})
    assert len(statistics["by_hour"]) == 24  # every hour of the day, empty ones with 0
    assert {hour: n for hour, n in statistics["by_hour"].items() if n} == {
        "2024-03-10T09:00+00:00": 1,
        "2024-03-10T11:00+00:00": 1,
    }
    trends = alice.get(f"/api/analytics/trends/?{query}&interval=day").json()
    assert [(b["bucket"], b["count"]) for b in trends["buckets"]] == [("2024-03-10", 2)]
    dave = client_for("acme", "globex").get(f"/api/analytics/statistics/?{query}").json()
    assert dave["by_organization"] == {"acme": 2, "globex": 2}
    nobody = client_for().get(f"/api/analytics/statistics/?{query}").json()
    assert nobody["total"] == 0
    everything = client_for(permission=True).get(f"/api/analytics/statistics/?{query}").json()
    assert everything["total"] == 6
