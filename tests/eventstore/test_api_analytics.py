"""GET /api/analytics/statistics/ and /trends/: parameters, time zones, scoping, errors."""

from datetime import UTC, datetime

import pytest
from django.contrib.auth.models import Group
from rest_framework.test import APIClient

import eventstore.testing.contract  # noqa: F401  (registers the contract.* event types)
from eventstore.records import NewEvent

pytestmark = pytest.mark.django_db


def put(store, number, when, org, user="u1"):
    store.append(
        f"a-{number}",
        "Thing",
        [
            NewEvent(
                "contract.Happened",
                {"note": str(number)},
                metadata={"organization_id": org, "user_id": user},
                timestamp=when,
            )
        ],
        0,
    )


@pytest.fixture
def events(event_store):
    # Paris, fall back on 2024-10-27: 01:00Z is 03:00 CEST → 02:00 CET.
    put(event_store, 1, datetime(2024, 10, 26, 22, 30, tzinfo=UTC), "acme")  # 27th 00:30+02
    put(event_store, 2, datetime(2024, 10, 27, 0, 30, tzinfo=UTC), "acme")  # 02:30+02:00
    put(event_store, 3, datetime(2024, 10, 27, 1, 30, tzinfo=UTC), "globex", "u2")  # 02:30+01:00
    put(event_store, 4, datetime(2024, 10, 27, 22, 59, tzinfo=UTC), "acme")  # 23:59+01:00
    put(event_store, 5, datetime(2024, 10, 27, 23, 0, tzinfo=UTC), "acme")  # 28th 00:00+01:00
    return event_store


@pytest.fixture
def staff_api(admin_user):
    client = APIClient()
    client.force_authenticate(admin_user)
    return client


PARIS_DAY = "event_type=contract.Happened&from=2024-10-27&to=2024-10-27&tz=Europe/Paris"


def test_statistics_of_a_25_hour_day(events, staff_api):
    body = staff_api.get(f"/api/analytics/statistics/?{PARIS_DAY}").json()
    assert body["time_zone"] == "Europe/Paris"
    assert body["total"] == 4  # events 1-4; event 5 is the 28th in Paris
    assert body["by_day"] == {"2024-10-27": 4}
    assert body["by_hour"] == {
        "2024-10-27T00:00+02:00": 1,
        "2024-10-27T02:00+02:00": 1,
        "2024-10-27T02:00+01:00": 1,
        "2024-10-27T23:00+01:00": 1,
    }
    assert body["by_organization"] == {"acme": 3, "globex": 1}
    assert body["by_user"] == {"u1": 3, "u2": 1}
    assert body["start"] == "2024-10-27T00:00:00+02:00"


def test_hour_trend_of_a_25_hour_day_has_25_buckets(events, staff_api):
    body = staff_api.get(f"/api/analytics/trends/?{PARIS_DAY}&interval=hour").json()
    assert len(body["buckets"]) == 25
    assert [b["count"] for b in body["buckets"]].count(1) == 4
    assert body["buckets"][2]["bucket"] == "2024-10-27T02:00+02:00"
    assert body["buckets"][3]["bucket"] == "2024-10-27T02:00+01:00"


def test_week_trend_uses_iso_weeks_and_default_time_zone(events, staff_api, settings):
    settings.TIME_ZONE = "UTC"
    body = staff_api.get(
        "/api/analytics/trends/?event_type=contract.Happened&from=2024-10-20&to=2024-11-03"
        "&interval=week"
    ).json()
    assert body["time_zone"] == "UTC"
    # 2024-10-20 is a Sunday (W42); Monday 21st starts W43; 28th W44 (event 5 at 23:00Z
    # on the 27th is still W43 in UTC); 3 Nov (Sunday) is in W44.
    assert [(b["bucket"], b["count"]) for b in body["buckets"]] == [
        ("2024-W42", 0),
        ("2024-W43", 5),
        ("2024-W44", 0),
    ]


def test_members_see_their_organizations_only(events, django_user_model, settings):
    # A user's organizations are their groups' names (tests/eventstore/ledger.py).
    settings.EVENTSTORE_USER_ORGANIZATIONS = "tests.eventstore.ledger.organizations_of"
    carol = django_user_model.objects.create_user("carol")
    carol.groups.add(Group.objects.create(name="globex"))
    dave = django_user_model.objects.create_user("dave")
    dave.groups.add(Group.objects.get(name="globex"), Group.objects.create(name="acme"))
    nobody = django_user_model.objects.create_user("erin")
    totals = {}
    for user in (carol, dave, nobody):
        client = APIClient()
        client.force_authenticate(user)
        body = client.get(f"/api/analytics/statistics/?{PARIS_DAY}").json()
        totals[user.username] = (body["total"], body["by_organization"])
    assert totals["carol"] == (1, {"globex": 1})
    assert totals["dave"] == (4, {"acme": 3, "globex": 1})
    assert totals["erin"] == (0, {})


@pytest.mark.parametrize(
    ("query", "parameter"),
    [
        ("from=2024-10-27&to=2024-10-27", "event_type"),
        ("event_type=Nope&from=2024-10-27&to=2024-10-27", "event_type"),
        ("event_type=contract.Happened&to=2024-10-27", "from"),
        ("event_type=contract.Happened&from=2024-10-27&to=2024-10-27&tz=Mars/Olympus", "tz"),
        ("event_type=contract.Happened&from=2024-10-27&to=2024-10-27&tz=../../etc", "tz"),
    ],
)
def test_bad_parameters_are_400_naming_them(events, staff_api, query, parameter):
    response = staff_api.get(f"/api/analytics/statistics/?{query}")
    assert response.status_code == 400
    assert parameter in response.json()


@pytest.mark.parametrize("endpoint", ["statistics/?", "trends/?interval=day&"])
def test_to_before_from_is_422_naming_to(events, staff_api, endpoint):
    # Both bounds fit the schema: the order is a rule across them.
    query = "event_type=contract.Happened&from=2024-10-28&to=2024-10-27"
    response = staff_api.get(f"/api/analytics/{endpoint}{query}")
    assert response.status_code == 422
    assert response.json() == {"to": ["'to' must not be before 'from'."]}


def test_trend_parameter_errors(events, staff_api):
    base = "event_type=contract.Happened&from=2024-10-27&to=2024-10-27"
    assert "interval" in staff_api.get(f"/api/analytics/trends/?{base}").json()
    assert staff_api.get(f"/api/analytics/trends/?{base}&interval=year").status_code == 400
    too_long = "event_type=contract.Happened&from=2000-01-01&to=2024-01-01&interval=hour"
    response = staff_api.get(f"/api/analytics/trends/?{too_long}")
    assert response.status_code == 422  # each parameter is valid; together too many buckets
    assert response.json()["code"] == "invalid_query"
    assert "10000" in response.json()["detail"].replace(",", "")


def test_times_before_a_zones_standard_offset_are_rfc_3339(events, staff_api):
    # London's local mean time was -00:01:15 (seconds): RFC 3339 offsets have none.
    query = "event_type=contract.Happened&from=1800-01-01&to=1800-01-01&tz=Europe/London"
    body = staff_api.get(f"/api/analytics/statistics/?{query}").json()
    assert (body["start"], body["end"]) == (
        "1800-01-01T00:01:15+00:00",
        "1800-01-02T00:01:14.999999+00:00",
    )
    trend = staff_api.get(f"/api/analytics/trends/?{query}&interval=day").json()
    assert [bucket["start"] for bucket in trend["buckets"]] == ["1800-01-01T00:01:15+00:00"]
