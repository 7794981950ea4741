"""The payments REST API: commands (process, refund, failed attempt) and reads.

Users without the audit-trail permission act only for, and see only, their
own organizations' payments; another organization's payment is a 404.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.urls import reverse
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.generics import ListAPIView
from rest_framework.pagination import CursorPagination
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from eventstore.api.errors import UnprocessableRequest, invalid_request
from eventstore.api.pagination import page_size
from eventstore.api.schema import (
    ERRORS,
    ErrorSchema,
    anchored,
    filterset_parameters,
    whole_number_schema,
)
from eventstore.api.strict import KnownQueryParametersMixin
from eventstore.queries.fields import IsoDateTimeBoundField
from eventstore.queries.params import parse_int
from eventstore.queries.rules import RULE_CODE
from eventstore.queries.scope import visible_organizations

from ..aggregate import Payment
from ..commands import (
    PAYMENT_ID_PATTERN,
    CommandContext,
    FailPayment,
    PaymentCommandHandler,
    ProcessPayment,
    RefundPayment,
)
from ..models import PaymentSummary
from ..queries import PaymentQueries
from .filters import PaymentSummaryFilterSet, RuleAwareFilterBackend
from .idempotency import IDEMPOTENCY_HEADER, IDEMPOTENCY_KEY_PATTERN, command_id, idempotent
from .serializers import (
    AuthTokenSerializer,
    FailedAttemptSerializer,
    PaymentHistorySchema,
    PaymentStateSerializer,
    PaymentSummarySerializer,
    ProcessPaymentSerializer,
    RefundSerializer,
)
from .throttling import TokenRateThrottle

__all__ = [
    "PaymentListCreateView",
    "PaymentDetailView",
    "PaymentHistoryView",
    "PaymentReplayView",
    "PaymentRefundView",
    "PaymentFailedAttemptView",
]


IDEMPOTENCY_PARAMETER = OpenApiParameter(
    IDEMPOTENCY_HEADER,
    {
        "type": "string",
        "minLength": 1,
        "maxLength": 255,
        "pattern": anchored(IDEMPOTENCY_KEY_PATTERN.pattern),
    },
    OpenApiParameter.HEADER,
    description="Send the same key to retry safely: the first answer is returned again. "
    "1 to 255 visible ASCII characters, without commas.",
)

#: The ``{payment_id}`` of every payment URL: what ``validate_payment_id`` accepts.
PAYMENT_ID_PARAMETER = OpenApiParameter(
    "payment_id",
    {"type": "string", "pattern": anchored(PAYMENT_ID_PATTERN.pattern)},
    OpenApiParameter.PATH,
    description="1 to 64 letters, digits, '-' or '_'.",
)


def validated(serializer: serializers.Serializer) -> dict[str, Any]:
    """Return ``serializer``'s validated data, or raise 400 (or 422 for rules beyond the schema).

    See :func:`eventstore.api.errors.invalid_request`: an unknown organization is a
    well-formed body breaking a rule on stored data (422), any other error a 400.
    """
    if not serializer.is_valid():
        raise invalid_request(serializer.errors, serializer.errors)
    return dict(serializer.validated_data)


#: Answers of endpoints that build a payment's state: 422 when its history no longer decodes.
STATE_RESPONSES = {200: PaymentStateSerializer, 422: ErrorSchema, **ERRORS}

#: Answers of every command endpoint, for the schema.
COMMAND_RESPONSES = {
    201: PaymentStateSerializer,
    409: ErrorSchema,
    422: ErrorSchema,
    507: ErrorSchema,
    **ERRORS,
}


def command_context(request: Request) -> CommandContext:
    """Return the context of a command run by the authenticated user of ``request``.

    The correlation id is the request's (set by ``CorrelationIdMiddleware``). The
    command id is new, or, for a request with an ``Idempotency-Key``, the same
    for each of its retries (so that a retry finds what an earlier attempt stored).
    """
    user = request.user
    pinned = command_id(request)
    return CommandContext(
        user_id=str(user.pk),
        username=user.get_username(),
        organizations=visible_organizations(user),
        **({"command_id": pinned, "once": True} if pinned else {}),
    )


def new_payment_id(request: Request) -> str:
    """A payment id for a ``POST /api/payments/`` without one: random, or derived from the
    request's ``Idempotency-Key`` (a retry must process the same payment, not another)."""
    pinned = command_id(request)
    if pinned is None:
        return str(uuid.uuid4())
    return str(uuid.uuid5(uuid.UUID(pinned), "payment_id"))


def queries_for(request: Request) -> PaymentQueries:
    """Return the payment queries limited to what the user of ``request`` may see."""
    return PaymentQueries(organizations=visible_organizations(request.user))


def created(payment: Payment) -> Response:
    """201 with the payment's state and its URL."""
    return Response(
        payment.state(),
        status=status.HTTP_201_CREATED,
        headers={"Location": reverse("payment-detail", args=[payment.payment_id])},
    )


class PaymentPagination(CursorPagination):
    """Newest payments first, by the position of their first event (unique, unchanging).

    ``page_size`` is 1 to 500 (default 50); anything else is a 400, and a cursor
    that does not decode to a position is a 404, as on ``/api/events/``.
    """

    ordering = "-created_position"
    page_size_query_param = "page_size"
    page_size = 50
    max_page_size = 500
    invalid_cursor_message = "Invalid cursor"

    def get_page_size(self, request: Request) -> int:
        return page_size(
            request.query_params.get(self.page_size_query_param),
            self.page_size_query_param,
            self.page_size,
            self.max_page_size,
        )

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        """DRF's ``cursor`` and ``page_size``, with the bounds :meth:`get_page_size` enforces."""
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            if parameter["name"] == self.page_size_query_param:
                parameter["schema"] = whole_number_schema(1, self.max_page_size)
        return parameters

    def decode_cursor(self, request: Request) -> Any:
        cursor = super().decode_cursor(request)
        if cursor is not None and cursor.position is not None:
            # Positions of the read model are signed in the ordering ("-created_position").
            if parse_int(str(cursor.position).removeprefix("-"), minimum=0) is None:
                raise NotFound(self.invalid_cursor_message)
        return cursor


class PaymentListCreateView(KnownQueryParametersMixin, ListAPIView):
    """``GET /api/payments/``: payments from the read model, filtered and cursor-paginated.

    ``POST /api/payments/``: process a payment → 201 with its state.
    """

    permission_classes = [IsAuthenticated]
    serializer_class = PaymentSummarySerializer
    filter_backends = [RuleAwareFilterBackend]
    filterset_class = PaymentSummaryFilterSet
    pagination_class = PaymentPagination
    query_parameters = frozenset(PaymentSummaryFilterSet.base_filters) | {"cursor", "page_size"}

    @extend_schema(
        parameters=filterset_parameters(PaymentSummaryFilterSet),
        responses={200: PaymentSummarySerializer(many=True), 422: ErrorSchema, **ERRORS},
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)

    def get_queryset(self) -> Any:
        rows = PaymentSummary.objects.all()
        scope = visible_organizations(self.request.user)
        return rows if scope is None else rows.filter(organization_id__in=sorted(scope))

    @extend_schema(
        request=ProcessPaymentSerializer,
        parameters=[IDEMPOTENCY_PARAMETER],
        responses=COMMAND_RESPONSES,
    )
    @idempotent
    def post(self, request: Request) -> Response:
        data = validated(
            ProcessPaymentSerializer(
                data=request.data, context={"organizations": visible_organizations(request.user)}
            )
        )
        payment, _events = PaymentCommandHandler().process(
            ProcessPayment(
                payment_id=data.get("payment_id") or new_payment_id(request),
                amount=data["amount"],
                currency=data["currency"],
                organization_id=data["organization_id"],
            ),
            command_context(request),
        )
        return created(payment)


class PaymentDetailView(KnownQueryParametersMixin, APIView):
    """``GET /api/payments/{id}/``: the payment's current state."""

    permission_classes = [IsAuthenticated]

    @extend_schema(parameters=[PAYMENT_ID_PARAMETER], responses=STATE_RESPONSES)
    def get(self, request: Request, payment_id: str) -> Response:
        return Response(queries_for(request).state(payment_id).state())


class PaymentHistoryView(KnownQueryParametersMixin, APIView):
    """``GET /api/payments/{id}/history/``: the payment's events in version order."""

    permission_classes = [IsAuthenticated]

    @extend_schema(
        parameters=[PAYMENT_ID_PARAMETER], responses={200: PaymentHistorySchema, **ERRORS}
    )
    def get(self, request: Request, payment_id: str) -> Response:
        events = queries_for(request).history(payment_id)
        return Response(
            {
                "payment_id": payment_id,
                "count": len(events),
                "events": [event.as_dict() for event in events],
            }
        )


class PaymentReplayView(KnownQueryParametersMixin, APIView):
    """``GET /api/payments/{id}/replay/?version=N`` or ``?at=<ISO 8601>``: a past state.

    ``version``: the state after event N (inclusive). ``at``: the state after
    every event recorded at or before that instant (a date means the end of
    that day in ``TIME_ZONE``); before the first event the payment did not
    exist (404). Give exactly one of the two.
    """

    permission_classes = [IsAuthenticated]
    query_parameters = frozenset({"version", "at"})

    @extend_schema(
        parameters=[
            PAYMENT_ID_PARAMETER,
            OpenApiParameter(
                "version",
                whole_number_schema(1),
                OpenApiParameter.QUERY,
                description="State after this version (1 or more; one the payment has, "
                "else 422). Give version or at, not both (else 422).",
            ),
            OpenApiParameter(
                "at",
                IsoDateTimeBoundField.json_schema,
                OpenApiParameter.QUERY,
                description="State at this instant: ISO 8601 with offset, or a date.",
            ),
        ],
        responses=STATE_RESPONSES,
    )
    def get(self, request: Request, payment_id: str) -> Response:
        raw_version = request.query_params.get("version")
        raw_at = request.query_params.get("at")
        if (raw_version is None) == (raw_at is None):
            # Each parameter is optional in the schema; needing exactly one is a rule across them.
            raise UnprocessableRequest({"version": ["Give either version or at."]}, RULE_CODE)
        queries = queries_for(request)
        if raw_version is not None:
            version = parse_int(raw_version, minimum=1)
            if version is None:
                raise ValidationError({"version": ["Enter a whole number of 1 or more."]})
            return Response(queries.state(payment_id, version).state())
        field = IsoDateTimeBoundField(upper=True)
        try:
            bound = field.clean(raw_at)
        except DjangoValidationError as exc:
            raise ValidationError({"at": exc.messages}) from None
        return Response(
            queries.state_at(payment_id, bound.value, exclusive=bound.exclusive).state()
        )


class PaymentRefundView(KnownQueryParametersMixin, APIView):
    """``POST /api/payments/{id}/refunds/``: refund part or all of what remains → 201.

    A ``refund_id`` names one refund of the payment. Sent again with the same
    amount, the refund is not made twice: 200 (RFC 9110: 201 says the request
    created something, and this one created nothing) with the payment's current
    state, which includes that refund. With another amount: 409
    ``refund_id_conflict``.
    """

    permission_classes = [IsAuthenticated]

    @extend_schema(
        request=RefundSerializer,
        parameters=[PAYMENT_ID_PARAMETER, IDEMPOTENCY_PARAMETER],
        responses={200: PaymentStateSerializer, **COMMAND_RESPONSES},
    )
    @idempotent
    def post(self, request: Request, payment_id: str) -> Response:
        data = validated(RefundSerializer(data=request.data))
        payment, events = PaymentCommandHandler().refund(
            RefundPayment(
                payment_id=payment_id,
                amount=data["amount"],
                refund_id=data.get("refund_id"),
                currency=data.get("currency"),
            ),
            command_context(request),
        )
        if not events:  # the refund id names a refund already made, of this amount
            return Response(payment.state(), status=status.HTTP_200_OK)
        return created(payment)


class PaymentFailedAttemptView(KnownQueryParametersMixin, APIView):
    """``POST /api/payments/{id}/failed-attempts/``: record an attempt that failed → 201.

    The payment id is the client's id for the attempt; a later successful
    ``POST /api/payments/`` with the same id processes it.
    """

    permission_classes = [IsAuthenticated]

    @extend_schema(
        request=FailedAttemptSerializer,
        parameters=[PAYMENT_ID_PARAMETER, IDEMPOTENCY_PARAMETER],
        responses=COMMAND_RESPONSES,
    )
    @idempotent
    def post(self, request: Request, payment_id: str) -> Response:
        data = validated(
            FailedAttemptSerializer(
                data=request.data, context={"organizations": visible_organizations(request.user)}
            )
        )
        payment, _events = PaymentCommandHandler().fail(
            FailPayment(
                payment_id=payment_id,
                amount=data["amount"],
                currency=data["currency"],
                organization_id=data["organization_id"],
                reason=data["reason"],
            ),
            command_context(request),
        )
        return created(payment)


class AuthTokenSchema(serializers.Serializer):
    token = serializers.CharField()


@extend_schema(
    responses={
        200: AuthTokenSchema,
        400: ErrorSchema,
        429: OpenApiResponse(
            ErrorSchema,
            description="Too many token requests from this address; retry after "
            "the Retry-After header's seconds.",
        ),
    }
)
class AuthTokenView(KnownQueryParametersMixin, ObtainAuthToken):
    """``POST /api/auth/token/`` with ``username`` and ``password`` → ``{"token": ...}``.

    Throttled per client address (``TokenRateThrottle``: 10 a minute by default).
    """

    serializer_class = AuthTokenSerializer
    throttle_classes = [TokenRateThrottle]


#: The endpoints ``GET /api/`` lists: name → (URL name, path parameter or None).
API_ROOT_LINKS = {
    "token": ("api-token", None),
    "schema": ("api-schema", None),
    "docs": ("api-docs", None),
    "payments": ("payment-list", None),
    "payment": ("payment-detail", "payment_id"),
    "payment_history": ("payment-history", "payment_id"),
    "payment_replay": ("payment-replay", "payment_id"),
    "payment_refunds": ("payment-refunds", "payment_id"),
    "payment_failed_attempts": ("payment-failed-attempts", "payment_id"),
    "events": ("event-list", None),
    "event": ("event-detail", "event_id"),
    "correlation_timeline": ("correlation-timeline", "correlation_id"),
    "replay_by_type": ("replay-by-type", None),
    "replay_by_correlation": ("replay-by-correlation", "correlation_id"),
    "counts": ("event-counts", None),
    "analytics_statistics": ("analytics-statistics", None),
    "analytics_trends": ("analytics-trends", None),
    "analytics_money": ("analytics-money", None),
}


class ApiRootSchema(serializers.Serializer):
    title = serializers.CharField()
    links = serializers.DictField(
        child=serializers.CharField(),
        help_text="Endpoint name → absolute URL; {name} marks a path parameter (RFC 6570).",
    )


class ApiRootView(KnownQueryParametersMixin, APIView):
    """``GET /api/``: the API's endpoints, as links (open to anyone: it lists URLs only)."""

    permission_classes = [AllowAny]

    @extend_schema(responses={200: ApiRootSchema, **ERRORS}, operation_id="api_root")
    def get(self, request: Request) -> Response:
        marker = "00000000-0000-0000-0000-000000000000"  # valid for every path converter
        links = {}
        for name, (url_name, parameter) in API_ROOT_LINKS.items():
            if parameter is None:
                links[name] = request.build_absolute_uri(reverse(url_name))
            else:
                url = request.build_absolute_uri(reverse(url_name, args=[marker]))
                links[name] = url.replace(marker, "{" + parameter + "}")
        return Response({"title": "Gyroscops audit trail API", "links": links})
