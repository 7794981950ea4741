"""Request serializers of the payments API. Amounts are decimal strings."""

from __future__ import annotations

from decimal import Decimal

from rest_framework import serializers
from rest_framework.authtoken.serializers import AuthTokenSerializer as DRFAuthTokenSerializer

from eventstore.api.schema import EventSchema
from eventstore.api.strict import KnownBodyFieldsMixin
from eventstore.queries.rules import RULE_CODE

from ..commands import PAYMENT_ID_PATTERN
from ..models import Organization, PaymentSummary
from ..money import format_amount
from .fields import AmountField, CurrencyField

#: ``payment_id`` and ``refund_id``: the whole value matches (a RegexField searches).
ID_REGEX = f"^(?:{PAYMENT_ID_PATTERN.pattern})$"


def existing_organization(slug: str, scope: frozenset[str] | None = None) -> str:
    """Return ``slug`` if an organization has it, else raise a validation error.

    ``scope`` is the requesting user's organizations (``visible_organizations``),
    None for "all": a slug in it names an organization the user is a member of,
    which exists (memberships are ``Organization.members`` rows, and deleting an
    organization forgets the cached scopes), so it is not looked up again. A
    well-formed slug no organization has fits the schema: the error is a rule on
    stored data (``code`` :data:`~eventstore.queries.rules.RULE_CODE`, a 422).
    """
    if scope is not None and slug in scope:
        return slug
    if not Organization.objects.filter(slug=slug).exists():
        raise serializers.ValidationError(f"No organization {slug!r}.", code=RULE_CODE)
    return slug


__all__ = [
    "AuthTokenSerializer",
    "FailedAttemptSerializer",
    "PaymentHistorySchema",
    "PaymentStateSerializer",
    "PaymentSummarySerializer",
    "ProcessPaymentSerializer",
    "RefundSerializer",
]


class ProcessPaymentSerializer(KnownBodyFieldsMixin, serializers.Serializer):
    """``POST /api/payments/``: ``payment_id`` is optional (a UUID is generated)."""

    payment_id = serializers.RegexField(
        ID_REGEX,
        required=False,
        max_length=64,
        help_text="1 to 64 letters, digits, '-' or '_'; generated when absent.",
    )
    amount = AmountField(help_text='Decimal string, such as "100.00".')
    currency = CurrencyField(help_text="ISO 4217 code.")
    organization_id = serializers.SlugField(max_length=64)

    def validate_organization_id(self, value: str) -> str:
        return existing_organization(value, self.context.get("organizations"))


class RefundSerializer(KnownBodyFieldsMixin, serializers.Serializer):
    """``POST /api/payments/{id}/refunds/``."""

    amount = AmountField(help_text="Decimal string, at most what remains to refund.")
    currency = CurrencyField(
        required=False, help_text="Optional; must be the payment's currency when given (else 422)."
    )
    refund_id = serializers.RegexField(ID_REGEX, required=False, max_length=64)


class FailedAttemptSerializer(KnownBodyFieldsMixin, serializers.Serializer):
    """``POST /api/payments/{id}/failed-attempts/``: an attempt that did not go through."""

    def validate_organization_id(self, value: str) -> str:
        return existing_organization(value, self.context.get("organizations"))

    amount = AmountField()
    currency = CurrencyField()
    organization_id = serializers.SlugField(max_length=64)
    reason = serializers.CharField(max_length=500, help_text="Why the attempt failed.")


class AuthTokenSerializer(KnownBodyFieldsMixin, DRFAuthTokenSerializer):
    """``POST /api/auth/token/``: ``username`` and ``password``, nothing else."""


class PaymentSummarySerializer(serializers.ModelSerializer):
    """A row of ``GET /api/payments/``; amounts in the currency's minor units, as strings."""

    amount = serializers.SerializerMethodField()
    refunded_amount = serializers.SerializerMethodField()
    failure_reason = serializers.SerializerMethodField()

    class Meta:
        model = PaymentSummary
        fields = [
            "payment_id",
            "status",
            "amount",
            "currency",
            "refunded_amount",
            "organization_id",
            "failure_reason",
            "processed_at",
            "updated_at",
            "version",
        ]

    def _money(self, value: Decimal, currency: str) -> str:
        return format_amount(value, currency)

    def get_amount(self, row: PaymentSummary) -> str:
        return self._money(row.amount, row.currency)

    def get_refunded_amount(self, row: PaymentSummary) -> str:
        return self._money(row.refunded_amount, row.currency)

    def get_failure_reason(self, row: PaymentSummary) -> str | None:
        """None when the payment has no failure, as in its state."""
        return row.failure_reason or None


class PaymentStateSerializer(serializers.Serializer):
    """A payment's state (answers of commands, detail and replay)."""

    payment_id = serializers.CharField()
    status = serializers.ChoiceField(["processed", "partially_refunded", "refunded", "failed"])
    amount = serializers.CharField(help_text="Decimal string in the currency's minor units.")
    currency = serializers.CharField()
    refunded_amount = serializers.CharField()
    organization_id = serializers.CharField()
    failure_reason = serializers.CharField(allow_null=True)
    version = serializers.IntegerField(min_value=1)


class PaymentHistorySchema(serializers.Serializer):
    """``GET /api/payments/{id}/history/``."""

    payment_id = serializers.CharField()
    count = serializers.IntegerField(min_value=1)
    events = EventSchema(many=True)
