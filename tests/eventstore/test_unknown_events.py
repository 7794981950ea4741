"""Histories that outlive their code: an event type renamed or removed in a deploy.

The account ``acc-1`` gets three events: opened (v1), 100.00 deposited (v2), then
v3 of a type whose class is gone (``ledger.MoneyFrozen``). Whatever only lists
events shows v3 with its stored name; whatever builds state answers for v1 and
v2 and says clearly that v3 cannot be decoded.
"""

import pytest
from django.core import checks

from eventstore import DomainEvent, event, registry
from eventstore.aggregates import decode_for_replay
from eventstore.exceptions import UndecodableEventError

from .ledger import Account, save

pytestmark = pytest.mark.django_db

INDEX = "/admin/eventstore/audittrail/"


@pytest.fixture
def orphaned(event_store):
    """acc-1 with v3 of a type that is no longer registered."""

    @event
    class MoneyFrozen(DomainEvent, event_type="ledger.MoneyFrozen"):
        reason: str

    account = Account("acc-1")
    account.open("alice", "EUR")
    account.deposit("100.00")
    save(event_store, account, username="alice", organization_id="acme")
    event_store.append("acc-1", Account.aggregate_type, [MoneyFrozen(reason="audit")], 2)
    registry.unregister("ledger.MoneyFrozen")  # the class is removed in a deploy
    return event_store


def test_replay_names_the_event_that_cannot_be_decoded(orphaned):
    frozen = orphaned.read_aggregate("acc-1")[2]
    with pytest.raises(UndecodableEventError) as caught:
        Account.from_events("acc-1", orphaned.read_aggregate("acc-1"))
    assert (caught.value.event_type, caught.value.version, caught.value.position) == (
        "ledger.MoneyFrozen",
        3,
        frozen.position,
    )
    assert "not registered" in str(caught.value)
    with pytest.raises(UndecodableEventError):
        decode_for_replay(frozen)
    before = Account.from_events("acc-1", orphaned.read_aggregate("acc-1", 1, 2))
    assert before.state()["balance"] == "100.00"


def test_the_timeline_shows_states_up_to_the_unknown_event_and_a_warning(auditor, orphaned):
    response = auditor.get(f"{INDEX}aggregate/acc-1/")
    assert response.status_code == 200
    rows = response.context["rows"]
    assert [row["event"].event_type for row in rows] == [
        "ledger.AccountOpened",
        "ledger.MoneyDeposited",
        "ledger.MoneyFrozen",
    ]
    assert [row.get("state", {}).get("balance") for row in rows] == ["0.00", "100.00", None]
    page = response.content.decode()
    assert 'id="undecodable"' in page
    assert "Version 3 is a ledger.MoneyFrozen event that cannot be decoded" in page
    assert "&quot;reason&quot;: &quot;audit&quot;" in page  # its stored data is shown
    at_two = auditor.get(f"{INDEX}aggregate/acc-1/", {"version": "2"})
    assert at_two.status_code == 200
    assert at_two.context["at_version"]["state"]["balance"] == "100.00"
    at_three = auditor.get(f"{INDEX}aggregate/acc-1/", {"version": "3"})
    assert at_three.status_code == 400
    assert "no state can be built from version 3 on" in at_three.content.decode()


def test_pages_that_only_list_events_show_the_stored_name_and_data(auditor, orphaned):
    frozen = orphaned.read_aggregate("acc-1")[2]
    browser = auditor.get(INDEX)
    assert browser.status_code == 200
    assert "ledger.MoneyFrozen" in browser.content.decode()
    detail = auditor.get(f"{INDEX}event/{frozen.event_id}/")
    assert detail.status_code == 200
    assert "&quot;reason&quot;: &quot;audit&quot;" in detail.content.decode()


def test_the_event_api_lists_the_unknown_event_raw(orphaned, admin_client):
    response = admin_client.get("/api/events/", {"aggregate_id": "acc-1"})
    assert response.status_code == 200
    last = response.json()["results"][-1]
    assert (last["event_type"], last["data"]) == ("ledger.MoneyFrozen", {"reason": "audit"})


def test_a_system_check_lists_stored_types_no_class_handles(orphaned):
    warnings = [m for m in checks.run_checks(databases=["default"]) if m.id == "eventstore.W003"]
    assert len(warnings) == 1
    assert "ledger.MoneyFrozen (1 events)" in warnings[0].msg
    assert "ledger.AccountOpened" not in warnings[0].msg


def test_no_warning_once_the_former_name_is_an_alias(orphaned):
    @event
    class MoneyLocked(DomainEvent, event_type="ledger.MoneyLocked", aliases=["ledger.MoneyFrozen"]):
        reason: str

    try:
        assert not [
            m for m in checks.run_checks(databases=["default"]) if m.id == "eventstore.W003"
        ]
        assert orphaned.read_aggregate("acc-1")[2].to_event() == MoneyLocked(reason="audit")
    finally:
        registry.unregister("ledger.MoneyLocked")


def test_the_timeline_offers_no_state_link_past_the_unknown_event(auditor, orphaned):
    page = auditor.get(f"{INDEX}aggregate/acc-1/").content.decode()
    assert 'href="?version=2#v2"' in page
    assert 'href="?version=3#v3"' not in page


def test_counts_and_filters_cover_former_and_unknown_names(orphaned, admin_client):
    counts = admin_client.get("/api/counts/").json()
    assert counts["total"] == 3
    assert counts["by_event_type"] == {
        "ledger.AccountOpened": 1,
        "ledger.MoneyDeposited": 1,
        "ledger.MoneyFrozen": 1,
    }
    assert sum(counts["by_event_type"].values()) == counts["total"]

    @event
    class MoneyLocked(DomainEvent, event_type="ledger.MoneyLocked", aliases=["ledger.MoneyFrozen"]):
        reason: str

    try:
        counts = admin_client.get("/api/counts/").json()["by_event_type"]
        assert counts["ledger.MoneyLocked"] == 1 and "ledger.MoneyFrozen" not in counts
        for name in ("ledger.MoneyFrozen", "ledger.MoneyLocked"):  # the former name filters too
            found = admin_client.get("/api/events/", {"event_type": name})
            assert found.status_code == 200, found.json()
            assert [e["version"] for e in found.json()["results"]] == [3]
    finally:
        registry.unregister("ledger.MoneyLocked")
