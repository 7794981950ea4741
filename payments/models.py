"""Organizations and their members: who may see and act on which payments."""

from __future__ import annotations

import decimal
from collections.abc import Iterable

from django.conf import settings
from django.db import models
from django.utils.functional import cached_property


class Organization(models.Model):
    """A Gyroscops customer; ``organization_id`` in event metadata is its ``slug``."""

    slug = models.SlugField(max_length=64, unique=True)
    name = models.CharField(max_length=200)
    members = models.ManyToManyField(
        settings.AUTH_USER_MODEL, related_name="organizations", blank=True
    )

    class Meta:
        ordering = ["slug"]

    def __str__(self) -> str:
        return self.name


def organizations_for_user(user: object) -> Iterable[str]:
    """Return the slugs of the organizations ``user`` belongs to (for API scoping)."""
    if not getattr(user, "is_authenticated", False):
        return []
    return Organization.objects.filter(members=user).values_list("slug", flat=True)


def connect_scope_signals() -> None:
    """Forget the cached API scopes when memberships or organizations change.

    ``eventstore.queries.scope`` keeps each user's organizations for
    ``EVENTSTORE_SCOPE_CACHE_SECONDS``; a member added or removed (either side
    of ``Organization.members``), an organization saved (its slug may change) or
    deleted forgets them in this process at once, and again when the change commits.
    """
    from django.db.models.signals import m2m_changed, post_delete, post_save

    from eventstore.queries.scope import forget_scopes_on_change

    m2m_changed.connect(
        forget_scopes_on_change,
        sender=Organization.members.through,
        dispatch_uid="payments-scope-members",
    )
    for signal in (post_save, post_delete):
        signal.connect(
            forget_scopes_on_change, sender=Organization, dispatch_uid=f"payments-scope-{signal}"
        )


class MoneyField(models.DecimalField):
    """A ``DecimalField`` that reads back any number its column holds, never raising.

    Django's SQLite backend rounds what it reads to ``max_digits`` with this
    field's ``context``, raising ``InvalidOperation`` for a row holding more
    digits (written by an older version or imported: the domain never gives it
    one). The context here has precision enough for any stored number, so such
    a row is listed as it is instead of making the whole list a 500. The column
    is the same (``max_digits``/``decimal_places`` unchanged).
    """

    @cached_property
    def context(self) -> decimal.Context:
        return decimal.Context(prec=decimal.MAX_PREC)


class PaymentSummary(models.Model):
    """Read model: one row per payment, kept up to date from its events (a projection).

    Rebuildable at any time from the event store (``manage.py rebuild_projections``);
    never written by commands. Amounts are stored with 3 decimal places (the most
    any ISO 4217 currency uses) and shown in the currency's own minor units; the
    15 digits before the point hold every amount the domain accepts (at most 12,
    :data:`payments.money.MAX_INTEGER_DIGITS`).
    """

    payment_id = models.CharField(max_length=64, primary_key=True)
    organization_id = models.CharField(max_length=64, db_index=True)
    status = models.CharField(max_length=32, db_index=True)
    amount = MoneyField(max_digits=18, decimal_places=3)
    currency = models.CharField(max_length=3, db_index=True)
    refunded_amount = MoneyField(max_digits=18, decimal_places=3, default=0)
    failure_reason = models.CharField(max_length=500, blank=True, default="")
    processed_at = models.DateTimeField(null=True, blank=True, db_index=True)
    updated_at = models.DateTimeField()
    version = models.PositiveIntegerField()
    created_position = models.BigIntegerField(unique=True)

    class Meta:
        ordering = ["-created_position"]
        verbose_name_plural = "payment summaries"

    def __str__(self) -> str:
        return f"{self.payment_id} ({self.status})"


class IdempotencyRecord(models.Model):
    """The first answer to a command sent with an ``Idempotency-Key`` header, per user.

    A retry with the same key and the same request gets this answer again and
    changes nothing; the same key with a different request is refused (422).
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)
    key = models.CharField(max_length=255)
    fingerprint = models.CharField(max_length=64, help_text="SHA-256 of method, path and body.")
    status_code = models.PositiveSmallIntegerField()
    body = models.JSONField()
    location = models.CharField(max_length=500, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "key"], name="payments_unique_idempotency_key")
        ]

    def __str__(self) -> str:
        return f"{self.key} ({self.status_code})"
