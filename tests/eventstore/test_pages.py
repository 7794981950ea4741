"""The staff audit-trail pages: permission gate, event browser, detail, timelines, analytics."""

import random
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth.models import Permission

import eventstore.testing.contract  # noqa: F401  (registers the contract.* event types)
from eventstore import eventstores
from eventstore.admin import charts
from eventstore.admin.common import PAGE_SIZE
from eventstore.queries import analytics, paging
from eventstore.queries.counting import MatchCount
from eventstore.records import NewEvent

from .ledger import Account, save

pytestmark = pytest.mark.django_db

INDEX = "/admin/eventstore/audittrail/"
ANALYTICS = f"{INDEX}analytics/"
BACKENDS = {
    "memory": "eventstore.backends.memory.InMemoryEventStore",
    "database": "eventstore.backends.database.DatabaseEventStore",
}


@pytest.fixture
def history(event_store):
    """Four events of two accounts of acme, all in the correlation ``teller-1``.

    acc-1: alice opens it in EUR (caused by a command), deposits 100.00 (caused by
    the opening) and bob withdraws 30.00 (caused by the deposit); then alice opens
    acc-2 in USD (caused by another command).
    """
    who = {"organization_id": "acme", "correlation_id": "teller-1"}
    account = Account("acc-1")
    account.open("alice", "EUR")
    (opened,) = save(
        event_store, account, username="alice", extra={"user_id": "1"}, causation_id="cmd-1", **who
    )
    account.deposit("100.00")
    (deposited,) = save(
        event_store, account, username="alice", causation_id=str(opened.event_id), **who
    )
    account.withdraw("30.00")
    save(event_store, account, username="bob", causation_id=str(deposited.event_id), **who)
    other = Account("acc-2")
    other.open("alice", "USD")
    save(event_store, other, username="alice", causation_id="cmd-2", **who)
    return event_store


def _things(store, count, *, start=datetime(2024, 1, 1, tzinfo=UTC), step=timedelta(hours=1)):
    """Append ``count`` one-event aggregates, alternating two organizations and two types."""
    for number in range(count):
        store.append(
            f"t-{number:04d}",
            "Thing",
            [
                NewEvent(
                    "contract.Happened" if number % 3 else "contract.Counted",
                    {"note": f"note {number}"} if number % 3 else {"count": number},
                    metadata={"organization_id": "acme" if number % 2 else "globex"},
                    correlation_id=f"corr-{number % 7}",
                    timestamp=start + number * step,
                )
            ],
            0,
        )


def _positions(response):
    return [row["event"].position for row in response.context["rows"]]


# -- permission ------------------------------------------------------------------------------


def _page_urls(store):
    event = store.read_all()[0]
    return [
        INDEX,
        f"{INDEX}event/{event.event_id}/",
        f"{INDEX}aggregate/acc-1/",
        f"{INDEX}correlation/teller-1/",
        ANALYTICS,
    ]


def test_anonymous_users_go_to_the_login_page(client, history):
    for url in _page_urls(history):
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith("/admin/login/")


def test_staff_without_the_permission_get_403(client, django_user_model, history):
    user = django_user_model.objects.create_user("staff", password="pw", is_staff=True)
    client.force_login(user)
    for url in _page_urls(history):
        assert client.get(url).status_code == 403, url
    assert INDEX not in client.get("/admin/").content.decode()


def test_non_staff_users_with_the_permission_are_sent_to_login(client, django_user_model, history):
    user = django_user_model.objects.create_user("member", password="pw")
    user.user_permissions.add(Permission.objects.get(codename="view_audit_trail"))
    client.force_login(user)
    assert client.get(INDEX).status_code == 302


def test_admin_index_links_the_audit_trail_only_for_permitted_staff(auditor, client):
    page = auditor.get("/admin/").content.decode()
    assert INDEX in page
    assert "Audit trail" in page


def test_every_page_renders_in_the_admin_look(auditor, history):
    for url in _page_urls(history):
        response = auditor.get(url)
        assert response.status_code == 200, url
        assert response.context["site_header"]  # the admin site's each_context
        assert 'class="breadcrumbs"' in response.content.decode()


# -- event browser ---------------------------------------------------------------------------


def test_recent_events_page(auditor, history):
    response = auditor.get(INDEX)
    rows = response.context["rows"]
    assert [(row["event"].aggregate_id, row["event"].version) for row in rows] == [
        ("acc-2", 1),
        ("acc-1", 3),
        ("acc-1", 2),
        ("acc-1", 1),
    ]  # newest first
    page = response.content.decode()
    assert "4 events in 2 aggregates" in page
    assert page.index("acc-2") < page.index("ledger.MoneyWithdrawn")  # newest first
    assert f"{INDEX}aggregate/acc-1/" in page


def test_browser_pages_newest_first_without_gaps_or_repeats(auditor, event_store):
    _things(event_store, 2 * PAGE_SIZE + 7)
    first = auditor.get(INDEX)
    assert _positions(first) == list(range(107, 57, -1))
    assert first.context["newer_url"] is None
    second = auditor.get(INDEX + first.context["older_url"])
    assert _positions(second) == list(range(57, 7, -1))
    third = auditor.get(INDEX + second.context["older_url"])
    assert _positions(third) == list(range(7, 0, -1))
    assert third.context["older_url"] is None
    back = auditor.get(INDEX + third.context["newer_url"])
    assert _positions(back) == _positions(second)
    assert _positions(auditor.get(INDEX + back.context["newer_url"])) == _positions(first)


def test_browser_filters_validate_like_the_api_and_page_the_matches(auditor, event_store):
    _things(event_store, 400)
    response = auditor.get(INDEX, {"organization_id": "acme", "event_type": "contract.Counted"})
    expected = [p for p in range(400, 0, -1) if (p - 1) % 2 == 1 and (p - 1) % 3 == 0]
    assert _positions(response) == expected[:PAGE_SIZE]
    assert response.context["match_count"] == MatchCount(len(expected), exact=True)
    page = response.content.decode()
    assert f"{len(expected)} results" in page
    assert "Organization: acme" in page  # the active filter, with a link removing it
    older = auditor.get(INDEX + response.context["older_url"])
    assert _positions(older) == expected[PAGE_SIZE:]


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"event_type": "NoSuchEvent"}, "NoSuchEvent is not one of the available choices"),
        ({"from": "yesterday"}, "Enter an ISO 8601 date"),
        ({"from": "2024-01-02", "to": "2024-01-01"}, "must not be before"),
        ({"correlation_id": "bad id"}, "Enter a valid correlation id"),
        ({"older_than": "12x"}, "enter a position"),
        ({"organisation_id": "acme"}, "Unknown parameter &#x27;organisation_id&#x27;"),
    ],
)
def test_invalid_filters_show_an_error_and_no_results(auditor, history, params, message):
    response = auditor.get(INDEX, params)
    assert response.status_code == 400
    assert response.context["rows"] == []
    page = response.content.decode()
    assert message in page
    assert "Please correct the error" in page


def test_search_box_finds_text_in_data(auditor, event_store):
    _things(event_store, 30)
    response = auditor.get(INDEX, {"search": "NOTE 2"})
    assert {row["event"].aggregate_id for row in response.context["rows"]} == {
        "t-0002",
        "t-0020",
        "t-0022",
        "t-0023",
        "t-0025",
        "t-0026",
        "t-0028",
        "t-0029",
    }


def test_id_fields_link_to_the_filtered_list(auditor, history):
    response = auditor.get(INDEX)
    row = response.context["rows"][-1]  # the oldest: acc-1's ledger.AccountOpened
    urls = row["filter_urls"]
    assert urls["aggregate_id"] == "?aggregate_id=acc-1"
    assert urls["correlation_id"] == "?correlation_id=teller-1"
    assert urls["causation_id"] == "?causation_id=cmd-1"
    assert urls["user_id"] == "?user_id=1"
    page = response.content.decode()
    assert 'href="?aggregate_id=acc-1"' in page
    filtered = auditor.get(INDEX + urls["aggregate_id"])
    assert [r["event"].event_type for r in filtered.context["rows"]] == [
        "ledger.MoneyWithdrawn",
        "ledger.MoneyDeposited",
        "ledger.AccountOpened",
    ]
    # The withdrawal was caused by the deposit: its causation link finds it, and only it.
    withdrawal, deposit, _ = filtered.context["rows"]
    assert withdrawal["event"].causation_id == str(deposit["event"].event_id)
    caused = auditor.get(INDEX, {"causation_id": withdrawal["event"].causation_id})
    assert [r["event"].event_type for r in caused.context["rows"]] == ["ledger.MoneyWithdrawn"]


def test_browser_links_to_the_same_search_in_the_api(auditor, history):
    response = auditor.get(INDEX, {"event_type": "ledger.AccountOpened", "older_than": "99"})
    assert response.context["api_url"] == "/api/events/?event_type=ledger.AccountOpened"


@pytest.mark.parametrize("backend", sorted(BACKENDS))
def test_newest_first_matches_a_full_read_on_both_backends(settings, backend, monkeypatch):
    settings.EVENTSTORES = {"default": {"BACKEND": BACKENDS[backend]}}
    store = eventstores["default"]
    store.clear()
    _things(store, 120)
    monkeypatch.setattr(paging, "FIRST_WINDOW", 4)  # many windows on a small store
    rng = random.Random(6)
    for criteria in (
        {},
        {"organization_id": "acme"},
        {"event_type": ["contract.Counted"]},
        {"correlation_id": "corr-3", "organization_id": "globex"},
        {"aggregate_id": "t-0001"},
        {"aggregate_id": "nothing"},
    ):
        everything = [event.position for event in reversed(store.search(**criteria))]
        for _ in range(5):
            size = rng.randint(1, 12)
            cursor = rng.randint(1, 125)
            older = paging.newest_first(store, criteria, older_than=cursor, size=size)
            below = [p for p in everything if p < cursor]
            assert [e.position for e in older.events] == below[:size]
            assert (older.older_than is not None) == (len(below) > size)
            newer = paging.newest_first(store, criteria, newer_than=cursor, size=size)
            above = [p for p in everything if p > cursor]
            assert [e.position for e in newer.events] == above[-size:]
            assert (newer.newer_than is not None) == (len(above) > size)
        newest = paging.newest_first(store, criteria, size=10)
        assert [e.position for e in newest.events] == everything[:10]
    store.clear()


def test_newer_page_is_the_events_just_above_the_cursor(event_store):
    _things(event_store, 30)
    page = paging.newest_first(event_store, {}, newer_than=10, size=5)
    assert [event.position for event in page.events] == [15, 14, 13, 12, 11]
    assert page.newer_than == 15
    assert page.older_than == 11


# -- event detail ----------------------------------------------------------------------------


def test_event_detail_shows_every_field_and_links(auditor, history):
    opened, deposited, withdrawn, _ = history.read_all()
    response = auditor.get(f"{INDEX}event/{deposited.event_id}/")
    assert response.status_code == 200
    page = response.content.decode()
    for text in (
        str(deposited.event_id),
        "ledger.MoneyDeposited",
        "teller-1",
        "&quot;amount&quot;: &quot;100.00&quot;",
        "&quot;username&quot;: &quot;alice&quot;",
    ):
        assert text in page
    assert response.context["cause"] == opened
    assert (response.context["previous"], response.context["following"]) == (opened, withdrawn)
    assert f"{INDEX}event/{opened.event_id}/" in page
    assert f"{INDEX}aggregate/acc-1/?version=2#v2" in page
    assert f"{INDEX}correlation/teller-1/" in page
    # The ledger's own API is not installed here: no link to it (see the ledger_urls test).
    assert response.context["history_api_url"] is None
    assert response.context["effects"] == [withdrawn]
    effects = auditor.get(f"{INDEX}event/{opened.event_id}/").context["effects"]
    assert effects == [deposited]


def test_event_detail_of_an_unknown_or_malformed_id_is_404(auditor, history):
    assert auditor.get(f"{INDEX}event/00000000-0000-0000-0000-000000000000/").status_code == 404
    assert auditor.get(f"{INDEX}event/not-a-uuid/").status_code == 404


# -- aggregate timeline ----------------------------------------------------------------------


def test_account_timeline_shows_each_event_and_the_state_after_it(auditor, history):
    response = auditor.get(f"{INDEX}aggregate/acc-1/")
    assert response.status_code == 200
    assert response.context["aggregate_type"] == "ledger.Account"
    rows = response.context["rows"]
    assert [row["event"].event_type for row in rows] == [
        "ledger.AccountOpened",
        "ledger.MoneyDeposited",
        "ledger.MoneyWithdrawn",
    ]
    # Worked out by hand: opened with 0.00, +100.00 → 100.00, -30.00 → 70.00.
    assert [row["state"]["status"] for row in rows] == ["empty", "in_credit", "in_credit"]
    assert [row["state"]["balance"] for row in rows] == ["0.00", "100.00", "70.00"]
    assert [row["state"]["version"] for row in rows] == [1, 2, 3]
    assert [row["who"] for row in rows] == ["alice", "alice", "bob"]
    assert rows[0]["changes"] == [
        ("account_id", None, "acc-1"),
        ("owner", None, "alice"),
        ("currency", None, "EUR"),
        ("status", None, "empty"),
        ("balance", None, "0.00"),
    ]
    assert rows[1]["changes"] == [("status", "empty", "in_credit"), ("balance", "0.00", "100.00")]
    assert rows[2]["changes"] == [("balance", "100.00", "70.00")]
    # Each event after the first was caused by the one before it.
    assert [row["event"].causation_id for row in rows] == [
        "cmd-1",
        str(rows[0]["event"].event_id),
        str(rows[1]["event"].event_id),
    ]
    assert {row["event"].correlation_id for row in rows} == {"teller-1"}
    page = response.content.decode()
    assert f"{INDEX}correlation/teller-1/" in page
    # No ledger API in this URLconf: the timeline links to the event store's API.
    assert response.context["api_url"] == "/api/events/?aggregate_id=acc-1"
    assert "/api/events/?aggregate_id=acc-1" in page
    assert auditor.get(f"{INDEX}aggregate/unknown/").status_code == 404


def test_timeline_shows_the_state_at_a_version(auditor, history):
    response = auditor.get(f"{INDEX}aggregate/acc-1/", {"version": "2"})
    assert response.status_code == 200
    assert response.context["at_version"]["event"].event_type == "ledger.MoneyDeposited"
    assert response.context["at_version"]["state"]["status"] == "in_credit"
    assert response.context["at_version"]["state"]["balance"] == "100.00"
    assert response.context["replay_api_url"] is None  # no ledger API installed here
    for bad in ("0", "4", "x", "-1"):
        response = auditor.get(f"{INDEX}aggregate/acc-1/", {"version": bad})
        assert response.status_code == 400
        assert "enter a whole number from 1 to 3" in response.content.decode()


@pytest.mark.urls("tests.eventstore.ledger_urls")
def test_pages_link_to_the_api_the_aggregate_class_names(auditor, history):
    opened = history.read_all()[0]
    detail = auditor.get(f"{INDEX}event/{opened.event_id}/")
    assert detail.context["history_api_url"] == "/api/ledger/acc-1/history/"
    assert 'href="/api/ledger/acc-1/history/"' in detail.content.decode()
    timeline = auditor.get(f"{INDEX}aggregate/acc-1/")
    assert timeline.context["api_url"] == "/api/ledger/acc-1/history/"
    at_version = auditor.get(f"{INDEX}aggregate/acc-1/", {"version": "1"})
    assert at_version.context["replay_api_url"] == "/api/ledger/acc-1/replay/?version=1"
    assert "/api/ledger/acc-1/replay/?version=1" in at_version.content.decode()


def test_timeline_times_are_in_the_site_time_zone(auditor, history, settings):
    settings.TIME_ZONE = "Asia/Kolkata"
    event = history.read_all()[0]
    page = auditor.get(f"{INDEX}aggregate/acc-1/").content.decode()
    local = event.timestamp.astimezone(ZoneInfo("Asia/Kolkata"))
    assert local.strftime("%Y-%m-%d %H:%M:%S IST") in page
    assert "Times in Asia/Kolkata" in page


# -- correlation timeline --------------------------------------------------------------------


def test_correlation_timeline_spans_aggregates(auditor, history):
    response = auditor.get(f"{INDEX}correlation/teller-1/")
    assert response.status_code == 200
    assert [row["event"].aggregate_id for row in response.context["rows"]] == [
        "acc-1",
        "acc-1",
        "acc-1",
        "acc-2",
    ]
    assert (response.context["total"], response.context["aggregates"]) == (4, 2)
    assert auditor.get(f"{INDEX}correlation/nothing/").status_code == 404
    assert auditor.get(f"{INDEX}correlation/bad%20id/").status_code == 404


def test_correlation_timeline_draws_the_causation_chain(auditor, history):
    response = auditor.get(f"{INDEX}correlation/teller-1/")
    # acc-1: opened ← deposited ← withdrawn, one chain; acc-2's opening is a root of its own.
    assert [row["depth"] for row in response.context["rows"]] == [0, 1, 2, 0]
    tree = response.context["tree"]
    assert [node["row"]["event"].aggregate_id for node in tree] == ["acc-1", "acc-2"]
    assert [child["row"]["event"].event_type for child in tree[0]["children"]] == [
        "ledger.MoneyDeposited"
    ]
    (deposit,) = tree[0]["children"]
    assert [child["row"]["event"].event_type for child in deposit["children"]] == [
        "ledger.MoneyWithdrawn"
    ]
    assert tree[1]["children"] == []
    page = response.content.decode()
    assert 'id="causation-tree"' in page
    assert "/api/correlations/teller-1/timeline/" in page


# -- analytics dashboard ---------------------------------------------------------------------


def test_dashboard_shows_the_services_numbers(auditor, event_store, settings):
    settings.TIME_ZONE = "UTC"
    _things(event_store, 50, start=datetime(2024, 1, 1, tzinfo=UTC))
    params = {"from": "2024-01-01", "to": "2024-01-03", "event_type": "contract.Happened"}
    response = auditor.get(ANALYTICS, params)
    assert response.status_code == 200
    expected = analytics.statistics(
        event_store,
        ["contract.Happened"],
        datetime(2024, 1, 1, tzinfo=UTC),
        datetime(2024, 1, 3, 23, 59, 59, 999999, tzinfo=UTC),
        tz="UTC",
    )
    assert response.context["stats"] == expected
    charts_by_id = {item["id"]: item["chart"] for item in response.context["charts"]}
    assert charts_by_id["trend"].rows == (
        ("2024-01-01", 16),
        ("2024-01-02", 16),
        ("2024-01-03", 1),
    )
    assert len(charts_by_id["trend"].bars) == 3  # every day of the range, empty ones too
    assert charts_by_id["by-organization"].rows == (("acme", 17), ("globex", 16))
    page = response.content.decode()
    assert page.count('<rect class="bar"') == sum(
        len(chart.bars) for chart in charts_by_id.values()
    )
    assert "<table" in page and "Table of “Events per day”" in page
    assert response.context["trends_api_url"] == (
        "/api/analytics/trends/?event_type=contract.Happened&from=2024-01-01&to=2024-01-03"
        "&interval=day"
    )
    assert response.context["statistics_api_url"] == (
        "/api/analytics/statistics/?event_type=contract.Happened&from=2024-01-01&to=2024-01-03"
    )
    assert 'href="/api/analytics/trends/?event_type=contract.Happened&amp;from=' in page


def test_dashboard_interval_switch_and_iso_weeks(auditor, event_store):
    _things(event_store, 3, start=datetime(2024, 12, 29, 12, tzinfo=UTC), step=timedelta(days=1))
    params = {"from": "2024-12-23", "to": "2025-01-12", "tz": "UTC"}
    response = auditor.get(ANALYTICS, {**params, "interval": "week"})
    trend = {item["id"]: item["chart"] for item in response.context["charts"]}["trend"]
    assert trend.rows == (("2024-W52", 1), ("2025-W01", 2), ("2025-W02", 0))
    links = {link["name"]: link for link in response.context["interval_links"]}
    assert links["week"]["selected"]
    month = auditor.get(ANALYTICS + links["month"]["url"])
    trend = {item["id"]: item["chart"] for item in month.context["charts"]}["trend"]
    assert trend.rows == (("2024-12", 3), ("2025-01", 0))


def test_dashboard_hours_are_correct_across_a_dst_change(auditor, event_store):
    # Paris leaves summer time on 2024-10-27 at 03:00 CEST (01:00 UTC): that day has 25 hours.
    _things(event_store, 4, start=datetime(2024, 10, 26, 23, 30, tzinfo=UTC))
    params = {"from": "2024-10-27", "to": "2024-10-27", "tz": "Europe/Paris", "interval": "hour"}
    response = auditor.get(ANALYTICS, params)
    trend = {item["id"]: item["chart"] for item in response.context["charts"]}["trend"]
    assert len(trend.bars) == 25
    labels = [label for label, count in trend.rows if count]
    assert labels == [
        "2024-10-27T01:00+02:00",
        "2024-10-27T02:00+02:00",
        "2024-10-27T02:00+01:00",
        "2024-10-27T03:00+01:00",
    ]


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"interval": "fortnight"}, "interval: Select a valid choice"),
        ({"tz": "Mars/Olympus"}, "Unknown time zone"),
        ({"event_type": "Nope"}, "Nope is not one of the available choices"),
        ({"from": "2024-02-01", "to": "2024-01-01"}, "must not be before"),
        ({"from": "1900-01-01", "to": "2024-01-01", "interval": "hour"}, "MAX_BUCKETS"),
        ({"organization_id": "acme"}, "Unknown parameter &#x27;organization_id&#x27;"),
    ],
)
def test_dashboard_reports_invalid_parameters(auditor, history, params, message):
    response = auditor.get(ANALYTICS, params)
    assert response.status_code == 400
    assert response.context["charts"] == []
    assert message in response.content.decode()


# -- charts ----------------------------------------------------------------------------------


def test_bar_chart_geometry():
    chart = charts.bar_chart("Events", [("a", 5), ("b", 0), ("c", 10)])
    assert [bar.label for bar in chart.bars] == ["a", "b", "c"]
    assert chart.bars[1].height == 0
    assert chart.bars[2].height == 2 * chart.bars[0].height
    assert chart.bars[2].y == chart.plot_top  # 10 is the top tick
    assert [tick.label for tick in chart.y_ticks] == ["0", "5", "10"]
    assert all(bar.x + bar.width <= chart.plot_right for bar in chart.bars)
    assert chart.total == 15


def test_wide_y_labels_get_room_left_of_the_plot():
    # 11px labels, about 6.6 units a character: "200,000" needs 47 units, "15" 14.
    small = charts.bar_chart("Events", [("a", 15)])
    large = charts.bar_chart("Yen", [("a", 180_000)])
    assert small.plot_left == 48  # the default margin already fits
    assert [tick.label for tick in large.y_ticks][-1] == "200,000"
    assert large.plot_left - 6 >= 7 * 6.6  # the label ends 6 units left of the plot
    assert large.bars[0].x >= large.plot_left


def test_line_chart_and_empty_chart():
    chart = charts.line_chart("Events", [("a", 1), ("b", 3)])
    assert len(chart.points) == 2 and chart.points[1].y < chart.points[0].y
    assert chart.path.count(",") == 2
    empty = charts.bar_chart("Nothing", [])
    assert empty.bars == () and empty.description == "Nothing: no events."


@pytest.mark.parametrize(
    ("maximum", "ticks"),
    [(0, [0, 1]), (1, [0, 1]), (7, [0, 2, 4, 6, 8]), (1231, [0, 500, 1000, 1500])],
)
def test_nice_ticks(maximum, ticks):
    assert charts.nice_ticks(maximum) == ticks


def test_x_labels_neither_overlap_nor_leave_the_drawing():
    labels = [f"2024-10-27T{hour % 24:02d}:00+01:00" for hour in range(139)]
    chart = charts.line_chart("Hours", [(label, 1) for label in labels])
    assert 1 < len(chart.x_ticks) <= charts.MAX_X_LABELS
    extents = []
    for tick in chart.x_ticks:
        width = len(tick.label) * charts.CHAR_WIDTH
        start = {"start": 0, "middle": width / 2, "end": width}[tick.anchor]
        extents.append((tick.position - start, tick.position - start + width))
    assert all(0 <= start and end <= chart.width for start, end in extents)
    assert all(a[1] <= b[0] for a, b in zip(extents, extents[1:], strict=False))


def test_dashboard_and_api_give_the_same_trend(auditor, event_store):
    _things(event_store, 40, start=datetime(2024, 3, 30, tzinfo=UTC), step=timedelta(hours=3))
    params = {"event_type": "contract.Happened", "from": "2024-03-30", "to": "2024-04-03"}
    params |= {"tz": "Europe/Paris", "interval": "day"}
    response = auditor.get(ANALYTICS, params)
    trend = {item["id"]: item["chart"] for item in response.context["charts"]}["trend"]
    api = auditor.get(response.context["trends_api_url"]).json()
    assert [(bucket["bucket"], bucket["count"]) for bucket in api["buckets"]] == list(trend.rows)
    assert api["time_zone"] == "Europe/Paris"


def test_event_detail_links_to_the_event_api(auditor, event_store, admin_user):
    from rest_framework.test import APIClient

    from eventstore.testing.contract import happened

    record = event_store.append("a-1", "Thing", [happened()], 0)[0]
    page = auditor.get(f"{INDEX}event/{record.event_id}/").content.decode()
    assert f"/api/events/{record.event_id}/" in page
    api = APIClient()
    api.force_authenticate(admin_user)
    assert api.get(f"/api/events/{record.event_id}/").json()["position"] == record.position
    assert api.get("/api/events/not-an-id/").status_code == 404


def test_dashboard_at_the_calendars_edge_shows_an_error_not_a_crash(auditor, event_store):
    response = auditor.get(f"{INDEX}analytics/?from=9999-12-01&to=9999-12-30&interval=month")
    assert response.status_code == 400


# -- other admin sites -----------------------------------------------------------------------


@pytest.mark.urls("tests.eventstore.second_admin_site_urls")
def test_pages_served_by_another_admin_site_link_within_that_site(auditor, history):
    event = history.read_all()[0]
    site = "/audit/eventstore/audittrail/"
    pages_and_links = {
        site: f'{site}event/{event.event_id}/"',
        f"{site}event/{event.event_id}/": f'{site}aggregate/acc-1/"',
        f"{site}aggregate/acc-1/": f'{site}correlation/teller-1/"',
        f"{site}correlation/teller-1/": f'{site}"',
        f"{site}analytics/": f'{site}"',
    }
    for url, link in pages_and_links.items():
        response = auditor.get(url)
        assert response.status_code == 200, url
        html = response.content.decode()
        assert f'href="{link}' in html, (url, link)
        assert "/admin/eventstore/" not in html, url


# -- one chart per question, continuous time axes, partial buckets ---------------------------


def test_dashboard_has_one_chart_per_question_and_every_hour(auditor, event_store):
    # Two events, 2024-01-01 10:00 and 2024-01-03 10:00 UTC (a step of two days):
    # 72 hours over three days, all but two of them empty.
    _things(event_store, 2, start=datetime(2024, 1, 1, 10, tzinfo=UTC), step=timedelta(days=2))
    params = {"from": "2024-01-01", "to": "2024-01-03", "tz": "UTC", "interval": "day"}
    response = auditor.get(ANALYTICS, params)
    by_id = {item["id"]: item["chart"] for item in response.context["charts"]}
    assert list(by_id) == ["trend", "by-hour", "by-organization", "by-user"]  # no by-day
    hours = by_id["by-hour"]
    assert len(hours.points) == 72 and hours.total == 2
    assert [label for label, value in hours.rows if value] == [
        "2024-01-01T10:00+00:00",
        "2024-01-03T10:00+00:00",
    ]
    # Ticks at the start of each day, with short labels.
    assert [tick.label for tick in hours.x_ticks] == ["Jan 1", "Jan 2", "Jan 3"]
    assert [tick.label for tick in by_id["trend"].x_ticks] == ["Jan 1", "Jan 2", "Jan 3"]
    assert response.context["days_with_events"] == 2
    assert response.context["busiest_hour_shown"] == "2024-01-01 10:00 +00:00"  # wraps at spaces
    # Per hour, the trend is the hourly chart: it is not drawn twice.
    hourly = auditor.get(ANALYTICS, {**params, "interval": "hour"})
    assert [item["id"] for item in hourly.context["charts"]] == [
        "trend",
        "by-organization",
        "by-user",
    ]


def test_partial_weeks_are_hatched_and_named(auditor, event_store):
    # Wednesday 2024-01-03 to Wednesday 2024-01-17: W01 starts on Monday the 1st
    # and W03 ends on Sunday the 21st (both partial); W02 is whole.
    _things(event_store, 3, start=datetime(2024, 1, 3, 12, tzinfo=UTC), step=timedelta(days=7))
    params = {"from": "2024-01-03", "to": "2024-01-17", "tz": "UTC", "interval": "week"}
    response = auditor.get(ANALYTICS, params)
    trend = {item["id"]: item["chart"] for item in response.context["charts"]}["trend"]
    assert trend.rows == (("2024-W01", 1), ("2024-W02", 1), ("2024-W03", 1))
    assert [bar.partial for bar in trend.bars] == [True, False, True]
    page = response.content.decode()
    assert page.count('<rect class="bar partial"') == 2
    assert "<title>2024-W01: 1 (partial)</title>" in page
    assert "<title>2024-W02: 1</title>" in page
    assert "Hatched: partial week" in page


def test_money_values_are_charted_exactly():
    chart = charts.bar_chart(
        "Processed",
        [("a", Decimal("10.50")), ("b", Decimal("0.25"))],
        value_format=lambda value: f"{value} EUR",
        partial=[False, True],
    )
    assert [row.shown for row in chart.table] == ["10.50 EUR", "0.25 EUR"]
    assert chart.total == Decimal("10.75") and chart.shown_total == "10.75 EUR"
    assert [tick.label for tick in chart.y_ticks] == ["0", "5", "10", "15"]
    assert chart.bars[1].partial and not chart.bars[0].partial
    with pytest.raises(ValueError, match="one entry per row"):
        charts.bar_chart("Bad", [("a", 1)], partial=[True, False])


def test_hour_axis_labels():
    # Several days: ticks at each day's first hour, labelled with the day.
    labels = [f"2024-10-{day}T{hour:02d}:00+01:00" for day in (28, 29) for hour in range(24)]
    short, places = charts.hour_axis(labels)
    assert places == [0, 24] and (short[0], short[24]) == ("Oct 28", "Oct 29")
    # One day with a repeated hour: clock times, the repeated ones with their offset.
    day = ["2024-10-27T01:00+02:00", "2024-10-27T02:00+02:00", "2024-10-27T02:00+01:00"]
    assert charts.hour_axis(day) == (["01:00", "02:00+02", "02:00+01"], [0, 1, 2])
    assert charts.day_axis(["2024-12-31", "2025-01-01"]) == ["Dec 31", "Jan 1"]
