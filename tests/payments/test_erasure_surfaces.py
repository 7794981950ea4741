"""After a user is erased, every place the product shows events shows their personal data erased.

Ann (a member of acme) processes p-1 and fails p-2 with a reason naming her; Bob
processes p-3. Each test reads one surface as a user of it would (API client,
logged-in staff), once before the erasure (the plain values are there) and once
after (``"[erased]"``; amounts, types, times, organizations and correlations as
before; Bob's untouched).
"""

from __future__ import annotations

import csv
import io
import os
from datetime import UTC, datetime
from types import SimpleNamespace

import pytest
from django.contrib.auth.models import Permission
from django.core.management import CommandError, call_command
from rest_framework.test import APIClient

from eventstore.privacy import ERASED
from payments.aggregate import Payment
from payments.commands import CommandContext, FailPayment, PaymentCommandHandler, ProcessPayment
from payments.models import Organization, PaymentSummary

pytestmark = pytest.mark.django_db

REASON = "Ann Smith card stolen in Lyon"
INDEX = "/admin/eventstore/audittrail/"


@pytest.fixture
def trail(event_store, event_clock, django_user_model, admin_user):
    event_clock.set(datetime(2024, 5, 1, 9, 0, tzinfo=UTC))
    ann = django_user_model.objects.create_user("ann.smith", password="pw")
    bob = django_user_model.objects.create_user("bob.jones", password="pw")
    acme = Organization.objects.create(slug="acme", name="Acme")
    acme.members.add(ann, bob)
    handler = PaymentCommandHandler()
    as_ann = CommandContext(user_id=str(ann.pk), username="ann.smith", correlation_id="corr-ann")
    handler.process(ProcessPayment("p-1", "10.00", "EUR", "acme"), as_ann)
    handler.fail(FailPayment("p-2", "7.10", "EUR", "acme", REASON), as_ann)
    as_bob = CommandContext(user_id=str(bob.pk), username="bob.jones", correlation_id="corr-bob")
    handler.process(ProcessPayment("p-3", "5.00", "EUR", "acme"), as_bob)
    api = APIClient()
    api.force_authenticate(admin_user)
    return SimpleNamespace(store=event_store, ann=ann, bob=bob, api=api)


def erase(trail) -> str:
    out = io.StringIO()
    call_command("eventstore_erase", f"user:{trail.ann.pk}", "--yes", stdout=out)
    return out.getvalue()


def get(api, url):
    response = api.get(url)
    assert response.status_code == 200, (url, response.content[:300])
    return response.json()


def failed_event(store):
    return store.read_aggregate("p-2")[0]


# -- API ------------------------------------------------------------------------------------


def test_api_event_list_and_detail(trail):
    def rows():
        return {row["aggregate_id"]: row for row in get(trail.api, "/api/events/")["results"]}

    before = rows()
    assert before["p-2"]["data"]["reason"] == REASON
    assert before["p-2"]["metadata"]["username"] == "ann.smith"
    erase(trail)
    after = rows()
    assert after["p-2"]["data"] == {
        "amount": "7.10",
        "currency": "EUR",
        "organization_id": "acme",
        "reason": ERASED,
    }
    assert after["p-2"]["metadata"]["user_id"] == ERASED
    assert after["p-2"]["metadata"]["username"] == ERASED
    assert after["p-2"]["metadata"]["organization_id"] == "acme"
    assert after["p-2"]["correlation_id"] == "corr-ann"
    assert after["p-3"]["metadata"]["username"] == "bob.jones"
    for key in ("event_id", "event_type", "version", "position", "timestamp"):
        assert after["p-2"][key] == before["p-2"][key]
    detail = get(trail.api, f"/api/events/{after['p-2']['event_id']}/")
    assert detail["data"]["reason"] == ERASED
    assert detail["metadata"]["username"] == ERASED


def test_api_search_by_user_id(trail):
    url = f"/api/events/?user_id={trail.ann.pk}"
    assert [row["aggregate_id"] for row in get(trail.api, url)["results"]] == ["p-1", "p-2"]
    erase(trail)
    assert get(trail.api, url)["results"] == []
    bob = get(trail.api, f"/api/events/?user_id={trail.bob.pk}")["results"]
    assert [row["aggregate_id"] for row in bob] == ["p-3"]


def test_api_payment_history_and_replay(trail):
    history = get(trail.api, "/api/payments/p-2/history/")
    assert history["events"][0]["data"]["reason"] == REASON
    erase(trail)
    history = get(trail.api, "/api/payments/p-2/history/")
    assert history["events"][0]["data"]["reason"] == ERASED
    assert history["events"][0]["data"]["amount"] == "7.10"
    replay = get(trail.api, "/api/payments/p-2/replay/?version=1")
    assert (replay["status"], replay["failure_reason"], replay["amount"]) == (
        "failed",
        ERASED,
        "7.10",
    )


def test_api_correlation_timeline(trail):
    timeline = get(trail.api, "/api/correlations/corr-ann/timeline/")
    assert "ann.smith" in str(timeline)
    erase(trail)
    timeline = get(trail.api, "/api/correlations/corr-ann/timeline/")
    assert timeline["count"] == 2
    text = str(timeline)
    assert "ann.smith" not in text and REASON not in text and ERASED in text


def test_api_analytics_by_user(trail):
    today = "2024-05-01"
    url = (
        "/api/analytics/statistics/?event_type=PaymentProcessed&event_type=PaymentFailed"
        f"&from={today}&to={today}"
    )
    by_user = get(trail.api, url)["by_user"]
    assert by_user == {str(trail.ann.pk): 2, str(trail.bob.pk): 1}
    erase(trail)
    assert get(trail.api, url)["by_user"] == {ERASED: 2, str(trail.bob.pk): 1}


# -- staff pages ----------------------------------------------------------------------------


@pytest.fixture
def staff(client, admin_user):
    client.force_login(admin_user)
    return client


def page(client, url) -> str:
    response = client.get(url)
    assert response.status_code == 200, url
    return response.content.decode()


def test_event_browser(trail, staff):
    assert "ann.smith" in page(staff, INDEX)
    erase(trail)
    text = page(staff, INDEX)
    assert "ann.smith" not in text and ERASED in text and "bob.jones" in text
    assert "ann.smith" not in page(staff, f"{INDEX}?user_id={trail.ann.pk}")
    assert "p-2" not in page(staff, f"{INDEX}?user_id={trail.ann.pk}")


def test_event_detail_page(trail, staff):
    url = f"{INDEX}event/{failed_event(trail.store).event_id}/"
    assert REASON in page(staff, url)
    erase(trail)
    text = page(staff, url)
    assert REASON not in text and "ann.smith" not in text and ERASED in text
    assert "7.10" in text


def test_timeline_pages(trail, staff):
    aggregate, correlation = f"{INDEX}aggregate/p-2/", f"{INDEX}correlation/corr-ann/"
    assert "ann.smith" in page(staff, aggregate) and "ann.smith" in page(staff, correlation)
    erase(trail)
    for url in (aggregate, correlation, f"{aggregate}?version=1"):
        text = page(staff, url)
        assert "ann.smith" not in text and REASON not in text and ERASED in text, url


def test_analytics_page(trail, staff):
    url = f"{INDEX}analytics/?from=2024-05-01&to=2024-05-01"
    assert "ann.smith" in page(staff, url)
    erase(trail)
    text = page(staff, url)
    assert "ann.smith" not in text and "bob.jones" in text


def test_csv_export(trail, staff):
    def rows():
        response = staff.get(f"{INDEX}export.csv")
        assert response.status_code == 200
        body = b"".join(response.streaming_content).decode()
        return {row["aggregate_id"]: row for row in csv.DictReader(io.StringIO(body))}

    assert rows()["p-2"]["user_id"] == str(trail.ann.pk)
    erase(trail)
    after = rows()
    assert after["p-2"]["user_id"] == ERASED
    assert REASON not in str(after) and "ann.smith" not in str(after)
    assert after["p-3"]["user_id"] == str(trail.bob.pk)
    assert after["p-2"]["amount"] == "7.10"


# -- replays and read models ----------------------------------------------------------------


def test_aggregates_replay_after_erasure(trail):
    erase(trail)
    payment = Payment.from_events("p-2", trail.store.read_aggregate("p-2"))
    assert (payment.status, payment.failure_reason, str(payment.amount)) == (
        "failed",
        ERASED,
        "7.10",
    )


def test_read_models_need_a_rebuild_which_the_command_says(trail):
    assert PaymentSummary.objects.get(pk="p-2").failure_reason == REASON
    output = erase(trail)
    assert "payments.summary" in output and "rebuild" in output
    # Until rebuilt, the read model keeps what it copied (documented).
    assert PaymentSummary.objects.get(pk="p-2").failure_reason == REASON
    call_command("eventstore_projections", "rebuild", "payments.summary", stdout=io.StringIO())
    assert PaymentSummary.objects.get(pk="p-2").failure_reason == ERASED
    listed = {row["payment_id"]: row for row in get(trail.api, "/api/payments/")["results"]}
    assert listed["p-2"]["failure_reason"] == ERASED
    assert listed["p-2"]["amount"] == "7.10"


# -- the command ----------------------------------------------------------------------------


def test_the_command_is_idempotent_and_refuses_bad_or_unknown_subjects(trail):
    first = erase(trail)
    assert first.startswith(f"Erased user:{trail.ann.pk}: 1 key(s) destroyed")
    assert "already erased" in erase(trail)
    with pytest.raises(CommandError, match="not a data subject"):
        call_command("eventstore_erase", "ann", "--yes")
    with pytest.raises(CommandError, match="holds no personal data"):
        call_command("eventstore_erase", "user:99999", "--yes")
    with pytest.raises(CommandError, match="alias"):
        call_command("eventstore_erase", "user:1", "--yes", "--alias", "nope")


def test_the_command_asks_first(trail, monkeypatch):
    monkeypatch.setattr("builtins.input", lambda prompt: "no")
    with pytest.raises(CommandError, match="cancelled"):
        call_command("eventstore_erase", f"user:{trail.ann.pk}")
    assert failed_event(trail.store).data["reason"] == REASON
    monkeypatch.setattr("builtins.input", lambda prompt: "yes")
    call_command("eventstore_erase", f"user:{trail.ann.pk}", stdout=io.StringIO())
    assert failed_event(trail.store).data["reason"] == ERASED


def test_the_command_without_a_terminal_says_to_pass_yes(trail):
    # python manage.py eventstore_erase user:1 < /dev/null: input() meets end of file.
    with open(os.devnull) as nothing, pytest.MonkeyPatch.context() as patch:
        patch.setattr("sys.stdin", nothing)
        with pytest.raises(CommandError, match=r"No answer was given.*Pass --yes"):
            call_command("eventstore_erase", f"user:{trail.ann.pk}", stdout=io.StringIO())
    assert failed_event(trail.store).data["reason"] == REASON


# -- the admin action -----------------------------------------------------------------------

USERS = "/admin/auth/user/"


@pytest.fixture
def officer(client, django_user_model):
    """Staff who may change users and erase data subjects."""
    user = django_user_model.objects.create_user("dpo", password="pw", is_staff=True)
    for codename in ("view_user", "change_user", "erase_data_subject"):
        user.user_permissions.add(Permission.objects.get(codename=codename))
    client.force_login(user)
    return client


def test_the_action_is_listed_only_with_the_permission(trail, officer, django_user_model):
    assert "erase_personal_data" in page(officer, USERS)
    clerk = django_user_model.objects.create_user("clerk", password="pw", is_staff=True)
    for codename in ("view_user", "change_user"):
        clerk.user_permissions.add(Permission.objects.get(codename=codename))
    other = type(officer)()
    other.force_login(clerk)
    assert "erase_personal_data" not in page(other, USERS)
    response = other.post(
        USERS, {"action": "erase_personal_data", "_selected_action": [trail.ann.pk]}
    )
    assert failed_event(trail.store).data["reason"] == REASON  # refused: not even offered
    assert response.status_code in (200, 302)


def test_the_action_confirms_then_erases(trail, officer):
    selected = {"action": "erase_personal_data", "_selected_action": [trail.ann.pk]}
    confirm = officer.post(USERS, selected)
    assert confirm.status_code == 200
    text = confirm.content.decode()
    assert "Erase their personal data from the audit trail?" in text
    assert f"user:{trail.ann.pk}" in text
    assert failed_event(trail.store).data["reason"] == REASON  # nothing yet
    done = officer.post(USERS, {**selected, "confirm": "yes"}, follow=True)
    assert done.status_code == 200
    assert f"Erased user:{trail.ann.pk}" in done.content.decode()
    assert failed_event(trail.store).data["reason"] == ERASED
    erasure = trail.store.read_aggregate(f"user:{trail.ann.pk}")[0]
    assert erasure.data["erased_by"] == "dpo"


def test_a_site_without_a_user_admin_gets_no_action():
    from django.contrib.admin import AdminSite

    from eventstore.admin.erasure import install_erase_action

    assert install_erase_action(AdminSite(name="bare")) is False
    assert install_erase_action() is True  # the demo site registers Django's user admin
