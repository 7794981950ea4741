"""The analytics dashboard's money section: per-currency figures, charts, tables, CSV downloads.

The figures come from :func:`eventstore.queries.money.money_analytics` (the
same service as ``GET /api/analytics/money/``); this module only lays them out.
Amounts are shown exactly in each currency's minor units, rates as percentages
with two decimals (the API gives the ratio: ``"0.0810"`` is shown ``8.10 %``).
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.http import HttpRequest, QueryDict, StreamingHttpResponse

from ..queries.csv import csv_response
from ..queries.money import TABLES, CurrencyVolume, MoneyAnalytics
from . import charts
from .common import admin_url, query_string

__all__ = ["DOWNLOAD", "download", "money_context", "percent"]

#: The query parameter asking for a table as CSV (``?download=volume``).
DOWNLOAD = "download"


def percent(ratio: Decimal | None) -> str:
    """Return a ratio as a percentage with two decimals (``0.0810`` → ``"8.10 %"``), or "–"."""
    if ratio is None:
        return "–"
    return f"{(ratio * 100).quantize(Decimal('0.01'), rounding=ROUND_HALF_UP)} %"


def download(result: MoneyAnalytics, table: str) -> StreamingHttpResponse:
    """Return the money table ``table`` (one of :data:`~eventstore.queries.money.TABLES`) as a
    streamed CSV file named after it and the range (``money-volume-2024-10-26-2024-10-30.csv``).

    Raises:
        InvalidQueryError: for an unknown table.
    """
    header, rows = result.table(table)
    name = f"money-{table}-{result.start:%Y-%m-%d}-{result.end:%Y-%m-%d}.csv"
    return csv_response(name, header, rows)


def money_context(
    request: HttpRequest, result: MoneyAnalytics, params: QueryDict
) -> dict[str, Any]:
    """Return what the template shows of ``result``: per currency, and a CSV link per table."""
    return {
        "result": result,
        "currencies": [_currency(request, volume, result.interval) for volume in result.currencies],
        # Keyed with "_" for the template ("failure_reasons"), the table names have "-".
        "csv_links": {
            table.replace("-", "_"): query_string(params, {DOWNLOAD: table}) for table in TABLES
        },
    }


def _currency(request: HttpRequest, volume: CurrencyVolume, interval: str) -> dict[str, Any]:
    amount = volume.amount
    labels = [bucket.bucket for bucket in volume.buckets]
    options: dict[str, Any] = {}
    if interval == "hour":
        options["axis_labels"], options["tick_at"] = charts.hour_axis(labels)
    elif interval == "day":
        options["axis_labels"] = charts.day_axis(labels)
    return {
        "code": volume.currency,
        "volume": volume,
        "processed": amount(volume.processed),
        "refunded": amount(volume.refunded),
        "net": amount(volume.net),
        "failed_amount": amount(volume.failed_amount),
        "refund_rate": percent(volume.refund_rate),
        "failure_rate": percent(volume.failure_rate),
        "chart": charts.bar_chart(
            f"Processed per {interval}, {volume.currency}",
            [(bucket.bucket, bucket.processed) for bucket in volume.buckets],
            label_heading=interval.capitalize(),
            value_heading=f"Processed ({volume.currency})",
            partial=[bucket.partial for bucket in volume.buckets],
            value_format=lambda value: amount(Decimal(value)),
            **options,
        ),
        "buckets": [
            {
                "bucket": bucket,
                "processed": amount(bucket.processed),
                "refunded": amount(bucket.refunded),
                "net": amount(bucket.net),
            }
            for bucket in volume.buckets
        ],
        "reasons": [
            {"reason": reason, "amount": amount(reason.amount)} for reason in volume.failure_reasons
        ],
        "top_payments": [
            {
                "payment": payment,
                "amount": amount(payment.amount),
                "refunded": amount(payment.refunded),
                "timeline_url": admin_url(
                    request, "eventstore_aggregate_timeline", payment.aggregate_id
                ),
            }
            for payment in volume.top_payments
        ],
        "organizations": [
            {
                "organization": organization,
                "processed": amount(organization.processed),
                "refunded": amount(organization.refunded),
                "net": amount(organization.net),
            }
            for organization in volume.by_organization
        ],
    }
