"""Models of the eventstore app.

:class:`AuditTrail` has no table: it exists to give the audit-trail pages an
entry on the admin index and the permissions that gate them (the pattern
django-rq uses for its dashboard): ``eventstore.view_audit_trail`` (the pages)
and ``eventstore.erase_data_subject`` (erasing a person's personal data).
"""

from django.core.serializers.json import DjangoJSONEncoder
from django.db import models


class AuditTrail(models.Model):
    """Permission holder for the staff audit-trail pages (no database table)."""

    class Meta:
        managed = False
        default_permissions = ()
        permissions = [
            ("view_audit_trail", "Can view the audit trail"),
            ("erase_data_subject", "Can erase a person's personal data from the audit trail"),
        ]
        verbose_name = "audit trail"
        verbose_name_plural = "audit trail"

    def __str__(self) -> str:
        return "Audit trail"


class StoredEvent(models.Model):
    """One recorded event of the database backend (``DatabaseEventStore``).

    ``position`` is the primary key, assigned under the position lock (see
    :class:`PositionCounter`), so positions become visible in commit order.
    ``organization_id``, ``user_id`` and ``search_text`` are copies of metadata
    and data kept for indexed queries. ``chain_hash`` is the event's link in
    the store's hash chain (32 bytes, see :mod:`eventstore.integrity`).
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
    chain_hash = models.BinaryField(max_length=32, default=b"")

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

    An append updates this row in its last statement(s), after every check,
    which locks it until the transaction ends (a row lock on PostgreSQL, the
    database write lock on SQLite): the writes of appends are serialized, so
    positions are assigned in commit order and a reader paging by position
    never skips an event that commits late.

    ``last_hash`` is the chain head: the chain hash of the event at ``value``.
    ``previous_hash`` is the head before the last append: the one-statement
    PostgreSQL append sets it to the old ``last_hash`` (``SET previous_hash =
    last_hash`` reads the old row) and links its rows from it.
    """

    name = models.CharField(max_length=100, primary_key=True)
    value = models.BigIntegerField(default=0)
    last_hash = models.BinaryField(max_length=32, default=bytes(32))
    previous_hash = models.BinaryField(max_length=32, default=bytes(32))

    def __str__(self) -> str:
        return f"{self.name}: {self.value}"


class StoreIdentity(models.Model):
    """The identity of the history kept in this database (see :mod:`eventstore.identity`).

    One row, created on first use by the database backend, deleted by its
    ``clear()``; a projection checkpoint taken against another identity is
    never continued.
    """

    name = models.CharField(max_length=100, primary_key=True)
    identity = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.name}: {self.identity}"


class Checkpoint(models.Model):
    """How far one projection has applied the history (see :mod:`eventstore.projections`).

    Lives in the projection's database, next to its view: a batch of a Django
    model projection and the new ``position`` commit in one transaction. The
    row is locked (``SELECT ... FOR UPDATE``) while a runner applies a batch,
    so at most one runner applies a projection at a time.
    """

    STATUS_CHOICES = [
        ("caught_up", "caught up"),
        ("behind", "behind"),
        ("stalled", "stalled"),
    ]

    name = models.CharField(max_length=200, unique=True)
    position = models.BigIntegerField(default=0, help_text="Last position applied.")
    store_identity = models.CharField(max_length=64, blank=True, default="")
    status = models.CharField(max_length=16, choices=STATUS_CHOICES, default="behind")
    error_event_id = models.UUIDField(null=True, blank=True)
    error_position = models.BigIntegerField(null=True, blank=True)
    error_text = models.TextField(blank=True, default="")
    error_at = models.DateTimeField(null=True, blank=True)
    failures = models.PositiveIntegerField(default=0, help_text="Failed attempts in a row.")
    runner = models.CharField(max_length=200, blank=True, default="")
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name} @ {self.position} ({self.status})"


class SubjectKey(models.Model):
    """One data subject's key (database backend; see :mod:`eventstore.privacy.keys`).

    ``key_id`` is random (stored events name it, never the subject); ``secret``
    is the 32-byte AES-256 key. Erasing the subject deletes its row: the
    personal values sealed with it can no longer be read. One live key per
    subject (``subject`` is unique); a later event of an erased subject gets a
    new one.
    """

    key_id = models.CharField(max_length=36, primary_key=True)
    subject = models.CharField(max_length=255, unique=True)
    secret = models.BinaryField()
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:  # never the secret
        return f"{self.subject}: {self.key_id}"
