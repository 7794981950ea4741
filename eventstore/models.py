"""Models of the eventstore app.

:class:`AuditTrail` has no table: it exists to give the audit-trail pages an
entry on the admin index and one permission, ``eventstore.view_audit_trail``,
that gates them (the pattern django-rq uses for its dashboard).
"""

from django.core.serializers.json import DjangoJSONEncoder
from django.db import models


class AuditTrail(models.Model):
    """Permission holder for the staff audit-trail pages (no database table)."""

    class Meta:
        managed = False
        default_permissions = ()
        permissions = [("view_audit_trail", "Can view the audit trail")]
        verbose_name = "audit trail"
        verbose_name_plural = "audit trail"

    def __str__(self) -> str:
        return "Audit trail"


class StoredEvent(models.Model):
    """One recorded event of the database backend (``DatabaseEventStore``).

    ``position`` is the primary key, assigned under the position lock (see
    :class:`PositionCounter`), so positions become visible in commit order.
    ``organization_id``, ``user_id`` and ``search_text`` are copies of metadata
    and data kept for indexed queries.
    """

    position = models.BigIntegerField(primary_key=True)
    event_id = models.UUIDField(unique=True)
    aggregate_id = models.CharField(max_length=255)
    aggregate_type = models.CharField(max_length=255)
    event_type = models.CharField(max_length=255)
    version = models.PositiveIntegerField()
    timestamp = models.DateTimeField()
    correlation_id = models.CharField(max_length=255, null=True, blank=True)  # noqa: DJ001
    causation_id = models.CharField(max_length=255, null=True, blank=True)  # noqa: DJ001
    schema_version = models.PositiveSmallIntegerField(default=1)
    organization_id = models.CharField(max_length=255, null=True, blank=True)  # noqa: DJ001
    user_id = models.CharField(max_length=255, null=True, blank=True)  # noqa: DJ001
    data = models.JSONField(encoder=DjangoJSONEncoder)
    metadata = models.JSONField(encoder=DjangoJSONEncoder, default=dict)
    search_text = models.TextField(blank=True, default="")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["aggregate_id", "version"], name="eventstore_unique_aggregate_version"
            ),
        ]
        indexes = [
            models.Index(fields=["event_type", "timestamp"], name="eventstore_type_time"),
            models.Index(fields=["aggregate_type", "position"], name="eventstore_agg_type"),
            models.Index(fields=["correlation_id"], name="eventstore_correlation"),
            models.Index(fields=["causation_id"], name="eventstore_causation"),
            models.Index(fields=["organization_id", "position"], name="eventstore_organization"),
            models.Index(fields=["user_id", "position"], name="eventstore_user"),
            models.Index(fields=["timestamp"], name="eventstore_timestamp"),
            # One entry per stream (its first event): counts aggregates without
            # reading every event.
            models.Index(
                fields=["aggregate_id"],
                condition=models.Q(version=1),
                name="eventstore_stream_starts",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.event_type} #{self.position} ({self.aggregate_id} v{self.version})"


class PositionCounter(models.Model):
    """The last position handed out, per store alias; its row is the append lock.

    An append updates this row first, which locks it until the transaction
    ends (a row lock on PostgreSQL, the database write lock on SQLite): appends
    are serialized, so positions are assigned in commit order and a reader
    paging by position never skips an event that commits late.
    """

    name = models.CharField(max_length=100, primary_key=True)
    value = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.name}: {self.value}"
