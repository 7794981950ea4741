"""Issue 13 (domain part): amounts' messages and limits, the read model's columns,
refund ids, integer versions in 409 bodies. Expected values worked out by hand."""

from decimal import Decimal

import pytest
from rest_framework.test import APIClient

from eventstore.api.errors import store_error_response
from eventstore.exceptions import ConcurrencyError
from eventstore.records import ANY, STREAM_EXISTS, NewEvent
from payments.models import Organization, PaymentSummary

pytestmark = pytest.mark.django_db


@pytest.fixture
def api(django_user_model, event_store):
    user = django_user_model.objects.create_user("alice", password="pw-alice")
    Organization.objects.create(slug="acme", name="Acme").members.add(user)
    client = APIClient()
    client.force_authenticate(user)
    return client


def create(api, **body):
    payload = {"amount": "100.00", "currency": "EUR", "organization_id": "acme", **body}
    return api.post("/api/payments/", payload, format="json")


# -- amounts: messages that say what is wrong --------------------------------------------


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"amount": "-10.00"}, "The amount must be positive, not negative."),
        (
            {"amount": "12345678901234567890123456789012"},
            "The amount has too many digits (32): at most 12 before the decimal point "
            "and 2 after for EUR.",
        ),
        ({"amount": "9999999999999.99"}, "The amount must not exceed 999999999999.99 EUR."),
        (
            {"amount": "1000000000000", "currency": "JPY"},
            "The amount must not exceed 999999999999 JPY.",
        ),
        (
            {"amount": "1" * 101},
            "The amount has too many digits: at most 12 before the decimal point and "
            "the currency's decimals after.",
        ),
    ],
)
def test_bad_amounts_are_told_what_is_wrong(api, event_store, body, message):
    response = create(api, **body)
    assert response.status_code == 400
    assert response.json() == {"amount": [message]}
    assert event_store.count() == 0


# -- the read model holds every amount the domain accepts ---------------------------------


@pytest.mark.parametrize(
    ("amount", "currency"),
    [("999999999999.99", "EUR"), ("999999999999", "JPY"), ("999999999999.999", "KWD")],
)
def test_the_largest_amounts_are_stored_and_listed_exactly(api, amount, currency):
    response = create(api, payment_id="big", amount=amount, currency=currency)
    assert response.status_code == 201
    assert response.json()["amount"] == amount
    assert PaymentSummary.objects.get(payment_id="big").amount == Decimal(amount)
    listed = api.get("/api/payments/").json()["results"]
    assert [(row["amount"], row["refunded_amount"]) for row in listed] == [
        (amount, str(Decimal(0).quantize(Decimal(amount))))
    ]


def test_a_row_beyond_the_columns_does_not_break_the_list(api, event_store):
    """An amount no command accepts (appended straight to the store, or imported)."""
    event_store.append(
        "imported",
        "Payment",
        [
            NewEvent(
                "PaymentProcessed",
                {"amount": "12345678901234567", "currency": "EUR", "organization_id": "acme"},
            )
        ],
        0,
        metadata={"organization_id": "acme"},
    )
    create(api, payment_id="normal", amount="10.00")
    response = api.get("/api/payments/")
    assert response.status_code == 200
    rows = {row["payment_id"]: row["amount"] for row in response.json()["results"]}
    # 17 digits: beyond numeric(18, 3)'s 15 before the point. Django 5.2 reads SQLite's
    # value with 15 significant digits (12345678901234600), Django 6 reads it exactly;
    # either way it lists, shown whole with EUR's 2 decimals.
    assert rows["normal"] == "10.00"
    assert rows["imported"] in {"12345678901234600.00", "12345678901234567.00"}
    assert api.get("/api/payments/imported/").json()["refunded_amount"] == "0.00"


# -- 409 bodies carry versions as integers ------------------------------------------------


@pytest.mark.parametrize(
    ("expected", "actual", "shown"),
    [(1, 2, 1), (0, 3, 0), (STREAM_EXISTS, 0, "STREAM_EXISTS"), (ANY, 4, "ANY")],
)
def test_a_concurrency_conflict_body_has_integer_versions(expected, actual, shown):
    response = store_error_response(ConcurrencyError("p-1", expected, actual))
    assert response.status_code == 409
    body = response.data
    assert (body["code"], body["expected_version"], body["actual_version"]) == (
        "concurrency_conflict",
        shown,
        actual,
    )
    assert type(body["actual_version"]) is int
    assert type(body["expected_version"]) is type(shown)


# -- refund ids are unique per payment ----------------------------------------------------


def refund(api, payment_id, **body):
    return api.post(f"/api/payments/{payment_id}/refunds/", body, format="json")


def test_a_refund_id_sent_again_with_the_same_amount_is_a_replay(api, event_store):
    assert create(api, payment_id="p-1").status_code == 201  # 100.00 EUR, version 1
    first = refund(api, "p-1", amount="30.00", refund_id="r-1")
    assert first.status_code == 201
    assert (first.json()["refunded_amount"], first.json()["version"]) == ("30.00", 2)
    # "30" EUR is 30.00: the same refund. Nothing appended, 200 with the current state.
    again = refund(api, "p-1", amount="30", refund_id="r-1", currency="eur")
    assert again.status_code == 200
    assert again.json() == {**first.json()}
    assert "Location" not in again
    assert event_store.aggregate_version("p-1") == 2
    assert api.get("/api/payments/p-1/").json()["refunded_amount"] == "30.00"


def test_a_replay_of_the_refund_that_emptied_the_payment_is_not_refused(api, event_store):
    create(api, payment_id="p-1")
    assert refund(api, "p-1", amount="100.00", refund_id="all").status_code == 201
    # Nothing remains, but this is the refund already made, not a new one.
    again = refund(api, "p-1", amount="100.00", refund_id="all")
    assert again.status_code == 200
    assert (again.json()["status"], again.json()["refunded_amount"]) == ("refunded", "100.00")
    assert event_store.aggregate_version("p-1") == 2


def test_a_refund_id_sent_again_with_another_amount_is_409(api, event_store):
    create(api, payment_id="p-1")
    refund(api, "p-1", amount="30.00", refund_id="r-1")
    response = refund(api, "p-1", amount="40.00", refund_id="r-1")
    assert response.status_code == 409
    assert response.json() == {
        "detail": "Refund 'r-1' of this payment was for 30.00 EUR, not 40.00 EUR; "
        "give another refund_id for another refund.",
        "code": "refund_id_conflict",
    }
    assert event_store.aggregate_version("p-1") == 2
    # Another id is another refund; the same id on another payment too.
    assert refund(api, "p-1", amount="40.00", refund_id="r-2").status_code == 201
    create(api, payment_id="p-2")
    assert refund(api, "p-2", amount="40.00", refund_id="r-1").status_code == 201


def test_a_history_with_a_refund_id_stored_twice_still_replays(event_store):
    """Stored before ids were unique: the state counts both, a repeat matches the first."""
    from payments.aggregate import Payment
    from payments.exceptions import RefundIdConflict

    event_store.append(
        "old",
        "Payment",
        [
            NewEvent(
                "PaymentProcessed",
                {"amount": "100.00", "currency": "EUR", "organization_id": "acme"},
            ),
            NewEvent("PaymentRefunded", {"amount": "10.00", "currency": "EUR", "refund_id": "r"}),
            NewEvent("PaymentRefunded", {"amount": "20.00", "currency": "EUR", "refund_id": "r"}),
        ],
        0,
    )
    payment = Payment.from_events("old", event_store.read_aggregate("old"))
    assert (payment.refunded_amount, payment.status) == (Decimal("30.00"), "partially_refunded")
    payment.refund("10.00", "r")
    assert payment.pending_events == []
    with pytest.raises(RefundIdConflict):
        payment.refund("20.00", "r")
