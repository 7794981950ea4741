"""The chain's building blocks against the standard library's json and hashlib."""

import hashlib
import json
import uuid
from datetime import UTC, datetime, timedelta, timezone

import pytest

from eventstore.integrity import body_digest, link, link_tail, next_hash, timestamp_micros

EVENT_ID = uuid.UUID("12345678-1234-5678-1234-567812345678")


@pytest.mark.parametrize(
    ("aggregate_id", "correlation_id", "causation_id"),
    [
        ("a-1", None, None),
        ('quote " backslash \\ newline \n tab \t', "c\x01\x1f\x7f", "é ✓ \u2028 \u2029"),
        ("日本", "😀", ""),
    ],
)
def test_the_body_digest_is_sha256_of_the_documented_text(
    aggregate_id, correlation_id, causation_id
):
    metadata, data = '{"user_id":"u"}', '{"note":"é"}'
    head = json.dumps(
        [str(EVENT_ID), aggregate_id, "Thing", "x.Happened", 3, correlation_id, causation_id],
        ensure_ascii=False,
        separators=(",", ":"),
    )
    expected = hashlib.sha256(f"{head}\n{metadata}\n{data}".encode()).digest()
    assert (
        body_digest(
            EVENT_ID,
            aggregate_id,
            "Thing",
            "x.Happened",
            3,
            correlation_id,
            causation_id,
            metadata,
            data,
        )
        == expected
    )


@pytest.mark.parametrize(
    ("timestamp", "micros"),
    [
        (datetime(1970, 1, 1, tzinfo=UTC), 0),
        (datetime(1970, 1, 1, 0, 0, 0, 1, tzinfo=UTC), 1),
        (datetime(1969, 12, 31, 23, 59, 59, 999999, tzinfo=UTC), -1),
        # 2024-03-01T12:00:00.123456+02:00 is 10:00:00.123456Z: 1709287200 s (date -d).
        (
            datetime(2024, 3, 1, 12, 0, 0, 123456, tzinfo=timezone(timedelta(hours=2))),
            1_709_287_200_123_456,
        ),
        (datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC), 253_402_300_799_999_999),
    ],
)
def test_timestamps_are_exact_microseconds_since_the_epoch(timestamp, micros):
    assert timestamp_micros(timestamp) == micros


def test_a_link_is_sha256_of_the_previous_hash_position_version_time_and_digest():
    previous, digest = bytes(range(32)), bytes(range(32, 64))
    stamp = datetime(1969, 12, 31, 23, 59, 59, 999999, tzinfo=UTC)  # -1 µs: signed
    expected = hashlib.sha256(
        previous
        + bytes.fromhex("0000000000000007")
        + bytes.fromhex("0000000000000002")
        + bytes.fromhex("ffffffffffffffff")
        + digest
    ).digest()
    assert link(previous, 7, link_tail(2, stamp, digest)) == expected
    assert next_hash(previous, 7, 2, stamp, digest) == expected
