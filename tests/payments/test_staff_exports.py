"""What a staff auditor reads and takes away: counts under filters, money, CSV, the 403 page.

The payments below are written through the real command handler; every expected
number is worked out by hand from this list (positions in append order):

====  ================  ========  ==========  ========  =============
pos   event             payment   amount      org       note
====  ================  ========  ==========  ========  =============
1     PaymentProcessed  pay-eur   5.00 EUR    acme      alice
2     PaymentProcessed  pay-jpy   500 JPY     acme      alice
3     PaymentRefunded   pay-eur   2.50 EUR    acme      alice, "2.5"
4     PaymentFailed     pay-bad   7.10 EUR    globex    carol, =1+2
5     PaymentProcessed  pay-kwd   5.000 KWD   globex    carol, "5"
====  ================  ========  ==========  ========  =============
"""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission
from rest_framework.test import APIClient

import eventstore.testing.contract  # noqa: F401  (registers the contract.* event types)
from eventstore.queries import counting
from eventstore.queries.counting import MatchCount, count_matches
from eventstore.queries.export import EVENT_CSV_HEADER, matching_events
from eventstore.queries.money import event_money, format_money
from eventstore.records import NewEvent
from payments.commands import (
    CommandContext,
    FailPayment,
    PaymentCommandHandler,
    ProcessPayment,
    RefundPayment,
)
from payments.models import Organization

pytestmark = pytest.mark.django_db

INDEX = "/admin/eventstore/audittrail/"
EXPORT = f"{INDEX}export.csv"


@pytest.fixture
def auditor(client, django_user_model):
    """The test client, logged in as staff with the ``eventstore.view_audit_trail`` permission."""
    user = django_user_model.objects.create_user("auditor", password="pw", is_staff=True)
    user.user_permissions.add(Permission.objects.get(codename="view_audit_trail"))
    client.force_login(user)
    return client


@pytest.fixture
def payments(event_store):
    handler = PaymentCommandHandler()
    alice = CommandContext(user_id="1", username="alice", correlation_id="checkout-1")
    carol = CommandContext(user_id="2", username="carol", correlation_id="checkout-2")
    handler.process(ProcessPayment("pay-eur", "5.00", "EUR", "acme"), alice)
    handler.process(ProcessPayment("pay-jpy", "500", "JPY", "acme"), alice)
    handler.refund(RefundPayment("pay-eur", "2.5"), alice)
    handler.fail(FailPayment("pay-bad", "7.10", "EUR", "globex", "=1+2"), carol)
    handler.process(ProcessPayment("pay-kwd", "5", "KWD", "globex"), carol)
    assert event_store.last_position() == 5
    return event_store


def _things(store, count):
    """Append ``count`` one-event aggregates whose data all hold the word "note"."""
    for number in range(count):
        store.append(
            f"t-{number:04d}",
            "Thing",
            [
                NewEvent(
                    "contract.Happened",
                    {"note": f"note {number}"},
                    timestamp=datetime(2024, 1, 1, tzinfo=UTC),
                )
            ],
            0,
        )


def _read_csv(content: bytes) -> list[dict[str, str]]:
    assert not content.startswith(b"\xef\xbb\xbf")  # no byte-order mark
    return list(csv.DictReader(io.StringIO(content.decode("utf-8"), newline="")))


# -- money ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("amount", "currency", "shown"),
    [
        ("5", "EUR", "5.00"),
        ("5.00", "EUR", "5.00"),
        ("500", "JPY", "500"),
        ("5", "KWD", "5.000"),
        ("2.5", "USD", "2.50"),
        ("0.125", "EUR", "0.125"),  # more places than EUR has: shown whole, never rounded
        ("1E+3", "EUR", "1000.00"),
    ],
)
def test_money_is_shown_in_the_currencys_minor_units(amount, currency, shown):
    assert format_money(Decimal(amount), currency) == shown


def test_event_money_reads_amount_and_currency_from_the_data():
    money = event_money({"amount": "7.10", "currency": "eur"})
    assert money is not None and (money.amount, money.currency) == (Decimal("7.10"), "EUR")
    assert money.display() == "7.10"
    assert event_money({"amount": 7.1, "currency": "EUR"}) is None  # a float is not money
    assert event_money({"amount": "seven", "currency": "EUR"}) is None
    assert event_money({"amount": "7.10"}) is None
    assert event_money({"amount": "7.10", "currency": "E1R"}) is None


def test_the_browser_shows_amounts_and_currencies(auditor, payments):
    response = auditor.get(INDEX)
    rows = {row["event"].position: row["money"] for row in response.context["rows"]}
    shown = {position: (m.display(), m.currency) for position, m in rows.items()}
    assert shown == {
        1: ("5.00", "EUR"),
        2: ("500", "JPY"),
        3: ("2.50", "EUR"),
        4: ("7.10", "EUR"),
        5: ("5.000", "KWD"),
    }
    page = response.content.decode()
    assert '<td class="field-amount">5.000</td>' in page
    assert '<td class="field-currency">KWD</td>' in page


# -- the count line ---------------------------------------------------------------------


def _count_line(response) -> str:
    page = response.content.decode()
    start = page.index('id="result-count">')
    return " ".join(page[start : page.index("</p>", start)].split())


def test_the_count_line_counts_the_filters_exactly(auditor, payments):
    response = auditor.get(INDEX, {"organization_id": "acme"})
    assert response.context["match_count"] == MatchCount(3, exact=True)  # positions 1, 2, 3
    assert _count_line(response).startswith('id="result-count">3 results for these filters')
    assert "5 events in the store" in _count_line(response)
    both = auditor.get(INDEX, {"organization_id": "acme", "event_type": "PaymentProcessed"})
    assert both.context["match_count"] == MatchCount(2, exact=True)  # positions 1, 2
    none = auditor.get(INDEX, {"organization_id": "initech"})
    assert _count_line(none).startswith('id="result-count">0 results for these filters')


def test_the_count_line_counts_a_text_search(auditor, payments):
    response = auditor.get(INDEX, {"search": "eur"})  # data of positions 1, 3 and 4
    assert response.context["match_count"] == MatchCount(3, exact=True)
    assert [row["event"].position for row in response.context["rows"]] == [4, 3, 1]


def test_without_filters_the_count_line_gives_the_store_and_no_backend_name(auditor, payments):
    response = auditor.get(INDEX)
    assert response.context["match_count"] is None
    line = _count_line(response)
    assert line == 'id="result-count">5 events in 4 aggregates'
    assert "InMemoryEventStore" not in response.content.decode()


def test_a_text_search_over_many_events_says_more_than_the_page(auditor, event_store, monkeypatch):
    # 300 events, all matching "note". The newest page reads positions 45..300 (a
    # window of 256), finds 256 > 50 and stops: it did not count them all. With a scan
    # limit of 100 (< 300 candidates), counting would read every event: a lower bound.
    _things(event_store, 300)
    monkeypatch.setattr(counting, "SCAN_LIMIT", 100)
    response = auditor.get(INDEX, {"search": "note"})
    assert response.context["match_count"] == MatchCount(50, exact=False)
    assert _count_line(response).startswith('id="result-count">More than 50 results')
    # Under the scan limit, the same search is counted exactly.
    monkeypatch.setattr(counting, "SCAN_LIMIT", 300)
    assert auditor.get(INDEX, {"search": "note"}).context["match_count"] == MatchCount(300, True)


def test_count_matches_without_a_page(event_store):
    _things(event_store, 12)
    assert count_matches(event_store, {"text": "note 1"}) == MatchCount(3, exact=True)  # 1, 10, 11
    assert count_matches(event_store, {"text": "note"}, scan_limit=5) == MatchCount(0, False)


def test_the_date_filters_are_date_inputs_unless_they_hold_a_date_time(auditor, payments):
    page = auditor.get(INDEX, {"from": "2024-01-31"}).content.decode()
    assert 'type="date" name="from" id="filter-from" value="2024-01-31"' in page
    assert 'type="date" name="to" id="filter-to" value=""' in page
    page = auditor.get(INDEX, {"to": "2024-01-31T10:00:00Z"}).content.decode()
    assert 'type="text" name="to" id="filter-to" value="2024-01-31T10:00:00Z"' in page


# -- CSV from the event browser ---------------------------------------------------------


def test_the_browser_download_streams_every_matching_event(auditor, payments):
    response = auditor.get(EXPORT, {"event_type": "PaymentFailed"})
    assert response.status_code == 200
    assert response.streaming
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="events-')
    content = b"".join(response.streaming_content)
    assert content.count(b"\r\n") == 2  # header and one row
    (row,) = _read_csv(content)
    failed = payments.search(event_type="PaymentFailed")[0]
    assert row == {
        "position": "4",
        "event_id": str(failed.event_id),
        "timestamp": failed.timestamp.isoformat(),
        "event_type": "PaymentFailed",
        "schema_version": "1",
        "aggregate_type": "Payment",
        "aggregate_id": "pay-bad",
        "version": "1",
        "correlation_id": "checkout-2",
        "causation_id": failed.causation_id,
        "organization_id": "globex",
        "user_id": "2",
        "amount": "7.10",
        "currency": "EUR",
        "data": json.dumps(failed.data, separators=(",", ":")),
        "metadata": json.dumps(failed.metadata, separators=(",", ":")),
        "data.organization_id": "globex",
        "data.reason": "'=1+2",  # neutralised: a spreadsheet shows the text =1+2
    }
    assert "+00:00" in row["timestamp"]


def test_the_browser_download_holds_every_page_oldest_first(auditor, event_store):
    _things(event_store, 1_234)  # more than a chunk (1,000) and many browser pages (50)
    content = b"".join(auditor.get(EXPORT, {"search": "note"}).streaming_content)
    rows = _read_csv(content)
    assert [int(row["position"]) for row in rows] == list(range(1, 1_235))
    assert list(rows[0]) == list(EVENT_CSV_HEADER)  # no event type filter: no data columns
    assert rows[0]["amount"] == rows[0]["currency"] == ""


def test_matching_events_reads_one_chunk_at_a_time(event_store, monkeypatch):
    _things(event_store, 25)
    calls = []
    search = event_store.search

    def spy(*args, **kwargs):
        calls.append(kwargs["limit"])
        return search(*args, **kwargs)

    monkeypatch.setattr(event_store, "search", spy)
    events = matching_events(event_store, {}, chunk=10)
    assert next(events).position == 1
    assert calls == [10]  # lazily: one chunk read so far
    assert [event.position for event in events] == list(range(2, 26))
    assert calls == [10, 10, 10]


def test_invalid_filters_give_the_browser_with_errors_not_a_file(auditor, payments):
    response = auditor.get(EXPORT, {"from": "last tuesday"})
    assert response.status_code == 400
    assert "Enter an ISO 8601 date" in response.content.decode()


def test_the_browser_links_its_filter_to_the_download(auditor, payments):
    response = auditor.get(INDEX, {"organization_id": "acme", "older_than": "3"})
    assert response.context["export_url"] == f"{EXPORT}?organization_id=acme"  # no cursor


# -- CSV from the API -------------------------------------------------------------------


@pytest.fixture
def member(django_user_model):
    """An API client of a member of acme (no audit-trail permission)."""
    user = django_user_model.objects.create_user("member")
    Organization.objects.create(slug="acme", name="Acme").members.add(user)
    client = APIClient()
    client.force_authenticate(user)
    return client


def _api_csv_rows(response):
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    return _read_csv(response.content)


@pytest.mark.parametrize("how", ["format", "accept"])
def test_api_csv_rows_match_the_json_results_for_a_member(member, payments, how):
    params = {"event_type": ["PaymentProcessed", "PaymentRefunded"]}
    results = member.get("/api/events/", params).json()["results"]
    if how == "format":
        response = member.get("/api/events/", {**params, "format": "csv"})
    else:
        response = member.get("/api/events/", params, HTTP_ACCEPT="text/csv")
    rows = _api_csv_rows(response)
    # acme's processed and refunded events: positions 1, 2, 3 (globex's 5 is not shown).
    assert (
        [row["position"] for row in rows]
        == ["1", "2", "3"]
        == [str(result["position"]) for result in results]
    )
    for row, result in zip(rows, results, strict=True):
        assert row["event_id"] == result["event_id"]
        assert row["timestamp"] == result["timestamp"]
        assert row["aggregate_id"] == result["aggregate_id"]
        assert row["amount"] == result["data"]["amount"]
        assert json.loads(row["data"]) == result["data"]
        assert json.loads(row["metadata"]) == result["metadata"]
    assert [row["amount"] for row in rows] == ["5.00", "500", "2.50"]
    assert [row["data.refund_id"] != "" for row in rows] == [False, False, True]
    assert {row["organization_id"] for row in rows} == {"acme"}


def test_api_csv_of_another_organizations_events_is_empty(member, payments):
    rows = _api_csv_rows(member.get("/api/events/", {"organization_id": "globex", "format": "csv"}))
    assert rows == []


def test_api_csv_follows_the_cursor_page_with_the_next_page_in_link(member, payments):
    first = member.get("/api/events/", {"page_size": "2", "format": "csv"})
    assert [row["position"] for row in _api_csv_rows(first)] == ["1", "2"]
    link = first["Link"]
    assert link.startswith("<http://testserver/api/events/?") and link.endswith('>; rel="next"')
    second = member.get(link[1 : link.index(">")])
    assert [row["position"] for row in _api_csv_rows(second)] == ["3"]
    assert "Link" not in second


def test_api_csv_errors_are_json(member, payments):
    response = member.get("/api/events/", {"from": "soon", "format": "csv"})
    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    assert "from" in response.json()
    anonymous = APIClient().get("/api/events/", HTTP_ACCEPT="text/csv")
    assert anonymous.status_code == 401 and anonymous["Content-Type"] == "application/json"


# -- the 403 page -----------------------------------------------------------------------


def test_staff_without_the_permission_get_the_admins_403_page(client, django_user_model):
    user = django_user_model.objects.create_user("staff", password="pw", is_staff=True)
    client.force_login(user)
    for url in (INDEX, EXPORT, f"{INDEX}analytics/"):
        response = client.get(url)
        assert response.status_code == 403, url
        assert "admin/base_site.html" in [t.name for t in response.templates], url
        page = response.content.decode()
        assert "eventstore.view_audit_trail" in page
        assert "Can view the audit trail" in page
        assert '<a href="/admin/" id="back-to-admin">' in page  # a way back
        assert 'id="nav-sidebar"' in page  # the admin's chrome, navigation included


# -- the correlation timeline's change column -------------------------------------------


def test_the_correlation_timeline_shows_each_events_state_change(auditor, payments):
    response = auditor.get(f"{INDEX}correlation/checkout-1/")
    changes = {row["event"].position: row["changes"] for row in response.context["rows"]}
    assert changes[3] == [
        ("status", "processed", "partially_refunded"),
        ("refunded_amount", "0.00", "2.50"),
    ]
    assert ("amount", None, "500") in changes[2]
    timeline = auditor.get(f"{INDEX}aggregate/pay-eur/")
    assert timeline.context["rows"][1]["changes"] == changes[3]  # the same diff
    assert "<strong>refunded_amount</strong>: 0.00 → 2.50" in response.content.decode()


@pytest.mark.parametrize(
    "backend",
    [
        "eventstore.backends.memory.InMemoryEventStore",
        "eventstore.backends.database.DatabaseEventStore",
    ],
)
def test_download_and_count_on_both_backends(auditor, settings, backend):
    from eventstore import eventstores

    settings.EVENTSTORES = {"default": {"BACKEND": backend}}
    store = eventstores["default"]
    store.clear()
    _things(store, 1_005)  # note 0 .. note 1004
    # "note 10" is in notes 10, 100-109 and 1000-1004: 1 + 10 + 5 = 16 events.
    response = auditor.get(INDEX, {"search": "note 10"})
    assert response.context["match_count"] == MatchCount(16, exact=True)
    rows = _read_csv(b"".join(auditor.get(EXPORT, {"search": "note 10"}).streaming_content))
    assert [row["aggregate_id"] for row in rows] == [
        f"t-{n:04d}" for n in [10, *range(100, 110), *range(1000, 1005)]
    ]
    everything = _read_csv(b"".join(auditor.get(EXPORT).streaming_content))
    assert len(everything) == 1_005  # two chunks of 1,000 and 5
    store.clear()
