"""eventstore.projections.rows on a real read model: its plain statements match the ORM."""

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from eventstore.models import Checkpoint
from eventstore.projections.rows import read_row, update_row, upsert
from payments.models import PaymentSummary

pytestmark = pytest.mark.django_db

T0 = datetime(2024, 5, 1, 12, 30, 15, 123456, tzinfo=UTC)


def summary(payment_id, **changes):
    fields = {
        "organization_id": "acme",
        "status": "processed",
        "amount": Decimal("100.50"),
        "currency": "EUR",
        "refunded_amount": Decimal("0"),
        "failure_reason": "",
        "processed_at": T0,
        "updated_at": T0,
        "version": 1,
        "created_position": 1,
    }
    return PaymentSummary(payment_id=payment_id, **{**fields, **changes})


UPDATED = ["status", "refunded_amount", "updated_at", "version"]


def test_upsert_inserts_then_updates_only_the_named_fields_in_one_statement():
    with CaptureQueriesContext(connection) as queries:
        upsert(
            PaymentSummary,
            [summary("p-1"), summary("p-2", created_position=2)],
            unique_fields=["payment_id"],
            update_fields=UPDATED,
        )
    assert len(queries.captured_queries) == 1
    later = datetime(2024, 5, 2, tzinfo=UTC)
    upsert(
        PaymentSummary,
        [
            summary(
                "p-1",
                status="refunded",
                refunded_amount=Decimal("100.50"),
                updated_at=later,
                version=2,
                currency="USD",
            )
        ],
        unique_fields=["payment_id"],
        update_fields=UPDATED,
    )
    row = PaymentSummary.objects.get(payment_id="p-1")
    assert (row.status, row.refunded_amount, row.updated_at, row.version) == (
        "refunded",
        Decimal("100.500"),
        later,
        2,
    )
    assert row.currency == "EUR"  # not in update_fields: kept
    assert row.processed_at == T0
    assert PaymentSummary.objects.get(payment_id="p-2").amount == Decimal("100.500")


def test_upsert_stores_what_bulk_create_stores():
    upsert(PaymentSummary, [summary("ours")], unique_fields=["payment_id"], update_fields=UPDATED)
    PaymentSummary.objects.bulk_create(
        [summary("orm", created_position=2)],
        update_conflicts=True,
        unique_fields=["payment_id"],
        update_fields=UPDATED,
    )
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM payments_paymentsummary ORDER BY created_position")
        ours, orm = cursor.fetchall()
    assert ours[1:-1] == orm[1:-1]  # every column but the id and the position, as stored


def test_upsert_of_nothing_sends_nothing():
    with CaptureQueriesContext(connection) as queries:
        upsert(PaymentSummary, [], unique_fields=["payment_id"], update_fields=UPDATED)
    assert queries.captured_queries == []


def test_read_row_builds_the_instance_a_queryset_builds():
    Checkpoint.objects.create(
        name="p", position=7, store_identity="abc", heartbeat_at=T0, error_position=None
    )
    ours = read_row(Checkpoint, "default", "name", "p")
    orm = Checkpoint.objects.get(name="p")
    assert ours == orm
    assert ours._state.db == "default" and not ours._state.adding
    for field in Checkpoint._meta.concrete_fields:
        assert getattr(ours, field.attname) == getattr(orm, field.attname), field.name
    assert ours.heartbeat_at == T0 and ours.heartbeat_at.tzinfo is not None
    assert read_row(Checkpoint, "default", "name", "missing") is None


def test_update_row_writes_the_values_guarded_by_where():
    checkpoint = Checkpoint.objects.create(name="p", position=3)
    assert update_row(checkpoint, {"position": 4, "heartbeat_at": T0}, where={"position": 2}) == 0
    assert Checkpoint.objects.get(name="p").position == 3  # the guard held it
    assert update_row(checkpoint, {"position": 4, "heartbeat_at": T0}, where={"position": 3}) == 1
    row = Checkpoint.objects.get(name="p")
    assert (row.position, row.heartbeat_at) == (4, T0)
    assert checkpoint.position == 3  # the instance is left as it was
