"""The personal-data part of the backend contract (a mixin of :class:`EventStoreContract`).

Sealing, revealing, erasure and search by user id behave the same on every
backend. The sealed envelopes are opened here by hand, with ``cryptography``'s
AES-GCM, the associated data built as :mod:`eventstore.privacy.cipher` documents
it, and the key taken from the store's key store: the expected values come
from the library and this file, not from the code under test.
"""

from __future__ import annotations

import base64
import json
import unittest
import uuid
from typing import Any, ClassVar

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from ..events import DomainEvent, event
from ..exceptions import InvalidEventError, InvalidSubjectError, UnknownSubjectError
from ..privacy import ERASED, DataField, PersonalData
from ..records import ANY, NO_STREAM, NewEvent, RecordedEvent

__all__ = ["ContractInvoiced", "ContractNoted", "PrivacyContract", "open_by_hand"]


@event
class ContractNoted(
    DomainEvent, event_type="contract.Noted", personal=PersonalData(fields=("text", "extra"))
):
    """Test event: a note whose text is the acting user's personal data."""

    text: str
    extra: str | None = None
    count: int = 0


@event
class ContractInvoiced(
    DomainEvent,
    event_type="contract.Invoiced",
    personal=PersonalData(fields=("email",), subject=DataField("customer_id", "customer")),
):
    """Test event: an invoice whose email is the customer's personal data."""

    customer_id: str
    email: str
    amount: str = "0"


USER = {"user_id": "u7", "username": "ann.smith", "organization_id": "acme"}


def _b64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def open_by_hand(store: Any, record: RecordedEvent) -> dict[str, Any]:
    """Decrypt every envelope of ``record`` with ``cryptography``: ``{field path: value}``.

    The associated data, as documented: ``b"eventstore personal data v1" NUL
    key id NUL each field path, NUL-separated``.

    Raises:
        cryptography.exceptions.InvalidTag: an envelope does not authenticate.
    """
    opened: dict[str, Any] = {}
    for envelope in json.loads(record.metadata_json)["$personal"]:
        secret = store.keys.get(envelope["key"]).secret
        aad = b"\x00".join(
            [
                b"eventstore personal data v1",
                envelope["key"].encode(),
                *[path.encode() for path in envelope["fields"]],
            ]
        )
        nonce = _b64(envelope["nonce"])
        assert len(nonce) == 12  # 96 bits (NIST SP 800-38D)
        plain = AESGCM(secret).decrypt(nonce, _b64(envelope["ciphertext"]), aad)
        opened.update(zip(envelope["fields"], json.loads(plain), strict=True))
    return opened


class PrivacyContract(unittest.TestCase):
    """Personal data: sealed at append, revealed on read, erased per subject."""

    __test__: ClassVar[bool] = False
    store: Any

    def note(
        self, aggregate_id: str = "n-1", text: str = "Ann's card was stolen", **kw: Any
    ) -> Any:
        metadata = kw.pop("metadata", USER)
        return self.store.append(
            aggregate_id,
            "Note",
            [ContractNoted(text=text, **kw)],
            ANY,
            metadata=metadata,
            correlation_id="corr-1",
        )[0]

    def test_personal_values_are_stored_sealed_and_read_revealed(self) -> None:
        record = self.note(extra="Ann Smith, 12 Rue X", count=3)
        stored = record.data_json + record.metadata_json
        for plain in ("Ann's card was stolen", "Ann Smith", "ann.smith", '"u7"'):
            self.assertNotIn(plain, stored)
        self.assertIn('"count":3', record.data_json)
        again = self.store.read_aggregate("n-1")[0]
        for read in (record, again, self.store.get_event(record.event_id)):
            self.assertEqual(
                read.data,
                {"text": "Ann's card was stolen", "extra": "Ann Smith, 12 Rue X", "count": 3},
            )
            self.assertEqual(read.metadata, USER)

    def test_the_envelope_opens_with_cryptography_and_the_stores_key(self) -> None:
        record = self.note(extra="second")
        metadata = json.loads(record.metadata_json)
        (envelope,) = metadata["$personal"]  # one subject, one AES-GCM operation
        self.assertEqual(
            envelope["fields"],
            ["data.extra", "data.text", "metadata.user_id", "metadata.username"],
        )
        self.assertEqual(str(uuid.UUID(envelope["key"])), envelope["key"])
        self.assertNotIn("u7", envelope["key"])
        self.assertEqual(
            open_by_hand(self.store, record),
            {
                "data.extra": "second",
                "data.text": "Ann's card was stolen",
                "metadata.user_id": "u7",
                "metadata.username": "ann.smith",
            },
        )
        # Ciphertext = plaintext (the JSON list) + a 16-byte tag.
        plaintext = json.dumps(
            ["second", "Ann's card was stolen", "u7", "ann.smith"], separators=(",", ":")
        )
        self.assertEqual(len(_b64(envelope["ciphertext"])), len(plaintext.encode()) + 16)

    def test_each_subject_of_an_event_gets_its_own_envelope_and_key(self) -> None:
        record = self.store.append(
            "i-1",
            "Invoice",
            [ContractInvoiced(customer_id="c-9", email="bob@example.com", amount="12.00")],
            NO_STREAM,
            metadata=USER,
        )[0]
        envelopes = json.loads(record.metadata_json)["$personal"]
        self.assertEqual(len(envelopes), 2)
        self.assertEqual(self.store.keys.get(envelopes[0]["key"]).subject, "user:u7")
        self.assertEqual(self.store.keys.get(envelopes[1]["key"]).subject, "customer:c-9")
        self.assertNotIn("bob@example.com", record.data_json)
        self.assertIn('"customer_id":"c-9"', record.data_json)
        self.store.erase_subject("customer:c-9", erased_by="dpo")
        read = self.store.read_aggregate("i-1")[0]
        self.assertEqual(read.data, {"customer_id": "c-9", "email": ERASED, "amount": "12.00"})
        self.assertEqual(read.metadata, USER)  # the user's stay

    def test_an_event_without_a_user_keeps_its_personal_fields_in_plain(self) -> None:
        record = self.note(metadata={"organization_id": "acme", "username": "cron"})
        self.assertIn("Ann's card was stolen", record.data_json)
        self.assertNotIn("$personal", record.metadata_json)
        self.assertEqual(record.metadata["username"], "cron")

    def test_erasure_makes_personal_values_the_marker_and_keeps_the_rest(self) -> None:
        first = self.note("n-1", extra="Ann Smith", count=2)
        self.note("n-2", text="someone else's", metadata={"user_id": "u8"})
        erasure = self.store.erase_subject("user:u7", erased_by="dpo@example.com")
        self.assertFalse(erasure.already_erased)
        self.assertEqual(erasure.keys_destroyed, 1)
        read = self.store.read_aggregate("n-1")[0]
        self.assertEqual(read.data, {"text": ERASED, "extra": ERASED, "count": 2})
        self.assertEqual(
            read.metadata, {"user_id": ERASED, "username": ERASED, "organization_id": "acme"}
        )
        self.assertEqual(
            (read.event_type, read.version, read.position, read.timestamp, read.correlation_id),
            (first.event_type, 1, first.position, first.timestamp, "corr-1"),
        )
        self.assertEqual(
            read.to_event(), ContractNoted(text=ERASED, extra=ERASED, count=2)
        )  # still replays
        self.assertEqual(read.data_json, first.data_json)  # the stored form is untouched
        self.assertIsNone(self.store.keys.find("user:u7"))
        other = self.store.read_aggregate("n-2")[0]
        self.assertEqual(other.data["text"], "someone else's")

    def test_the_erasure_event_says_who_erased_whom_without_personal_data(self) -> None:
        self.note()
        erasure = self.store.erase_subject("user:u7", erased_by="dpo@example.com")
        (recorded,) = self.store.read_aggregate("user:u7")
        self.assertEqual(recorded, erasure.event)
        self.assertEqual(
            (recorded.event_type, recorded.aggregate_type), ("DataSubjectErased", "DataSubject")
        )
        self.assertEqual(
            recorded.data,
            {"subject": "user:u7", "erased_by": "dpo@example.com", "keys_destroyed": 1},
        )
        stored = recorded.data_json + recorded.metadata_json
        for personal in ("ann.smith", "Ann's card"):
            self.assertNotIn(personal, stored)

    def test_erasing_again_says_so_and_bad_or_unknown_subjects_are_refused(self) -> None:
        self.note()
        self.store.erase_subject("user:u7", erased_by="dpo")
        again = self.store.erase_subject("user:u7", erased_by="dpo")
        self.assertTrue(again.already_erased)
        self.assertIsNone(again.event)
        self.assertEqual(len(self.store.read_aggregate("user:u7")), 1)
        with self.assertRaises(UnknownSubjectError):
            self.store.erase_subject("user:nobody", erased_by="dpo")
        for malformed in ("u7", "user:", "User:7", ":7", "user:a\nb"):
            with self.assertRaises(InvalidSubjectError):
                self.store.erase_subject(malformed, erased_by="dpo")

    def test_search_by_user_id_finds_the_subjects_events_until_erased(self) -> None:
        self.note("n-1")
        self.note("n-2", metadata={"user_id": "u8"})
        self.note("n-3", metadata={"user_id": "u7", "organization_id": "other"})

        def ids(**criteria: Any) -> list[str]:
            return [e.aggregate_id for e in self.store.search(**criteria)]

        self.assertEqual(ids(user_id="u7"), ["n-1", "n-3"])
        self.assertEqual(ids(user_id=["u7", "u8"]), ["n-1", "n-2", "n-3"])
        self.assertEqual(ids(user_id="u7", organization_id="acme"), ["n-1"])
        self.assertEqual(ids(user_id="u7", aggregate_id=["n-1", "n-2"]), ["n-1"])
        self.assertEqual(self.store.count(user_id="u7"), 2)
        self.assertEqual(ids(user_id="u9"), [])
        self.store.erase_subject("user:u7", erased_by="dpo")
        self.assertEqual(ids(user_id="u7"), [])
        self.assertEqual(ids(user_id="u7", aggregate_id=["n-1"]), [])
        self.assertEqual(self.store.count(user_id="u7"), 0)
        self.assertEqual(ids(user_id="u8"), ["n-2"])

    def test_free_text_search_does_not_see_personal_values(self) -> None:
        self.note(text="stolen card")
        self.note("n-2", text="stolen card", metadata={"organization_id": "acme"})  # no user
        found = [e.aggregate_id for e in self.store.search(text="stolen")]
        self.assertEqual(found, ["n-2"])

    def test_a_sealed_event_copied_into_another_event_keeps_its_values(self) -> None:
        # What an import of an export does: the sealed form is kept, not sealed twice,
        # and opens with its subject's key (an edit of a stored event is the chain's to find).
        original = self.note()
        copied = self.store.append(
            "n-2",
            "Note",
            [
                NewEvent(
                    event_type="contract.Noted",
                    data=json.loads(original.data_json),
                    metadata=json.loads(original.metadata_json),
                    event_id=uuid.uuid4(),
                )
            ],
            NO_STREAM,
        )[0]
        self.assertEqual(copied.data_json, original.data_json)
        self.assertEqual(copied.metadata_json, original.metadata_json)
        self.assertEqual(open_by_hand(self.store, copied), open_by_hand(self.store, original))
        read = self.store.read_aggregate("n-2")[0]
        self.assertEqual(read.data["text"], "Ann's card was stolen")
        self.assertEqual(read.metadata, USER)

    def test_equal_values_of_a_subject_share_one_envelope_and_others_get_their_own(
        self,
    ) -> None:
        first, second = self.note(), self.note("n-2")
        other = self.note("n-3", text="Ann's card was found")
        envelopes = [json.loads(e.metadata_json)["$personal"] for e in (first, second, other)]
        self.assertEqual(envelopes[0], envelopes[1])  # same values, same fields: reused
        self.assertEqual(first.metadata_json, second.metadata_json)
        self.assertNotEqual(envelopes[0][0]["nonce"], envelopes[2][0]["nonce"])
        self.assertEqual(open_by_hand(self.store, other)["data.text"], "Ann's card was found")
        self.assertEqual(self.store.read_aggregate("n-3")[0].data["text"], "Ann's card was found")

    def test_a_ciphertext_given_other_fields_reads_as_erased(self) -> None:
        original = self.note()
        metadata = json.loads(original.metadata_json)
        envelope = metadata["$personal"][0]
        envelope["fields"] = list(reversed(envelope["fields"]))  # same ciphertext, other places
        moved = self.store.append(
            "n-2",
            "Note",
            [
                NewEvent(
                    event_type="contract.Noted",
                    data=json.loads(original.data_json),
                    metadata=metadata,
                    event_id=uuid.uuid4(),
                )
            ],
            NO_STREAM,
        )[0]
        with self.assertRaises(InvalidTag):
            open_by_hand(self.store, moved)
        read = self.store.read_aggregate("n-2")[0]
        self.assertEqual(read.data["text"], ERASED)
        self.assertEqual(read.metadata["username"], ERASED)
        self.assertEqual(read.to_event(), ContractNoted(text=ERASED))
        self.assertEqual(self.store.read_aggregate("n-1")[0].data["text"], "Ann's card was stolen")

    def test_the_reserved_key_never_lets_a_plain_personal_value_through(self) -> None:
        # "$personal" marks the sealed form (kept as given): a fake one is refused,
        # whatever else the event holds, and nothing is stored.
        sealed = json.loads(self.note().metadata_json)
        for metadata in (
            {"user_id": "7", "username": "mallory", "$personal": []},
            {"user_id": "7", "$personal": [{"key": "k"}]},
            {"user_id": "7", "username": "mallory", "$personal": sealed["$personal"]},
            {**sealed, "username": "mallory"},
        ):
            with self.subTest(metadata=metadata), self.assertRaises(InvalidEventError) as caught:
                self.store.append(
                    "n-9", "Note", [ContractNoted(text="plain")], NO_STREAM, metadata=metadata
                )
            self.assertIn("events[0]", str(caught.exception))
        with self.assertRaises(InvalidEventError):
            self.store.append(
                "n-9",
                "Note",
                [ContractNoted(text="plain")],
                NO_STREAM,
                metadata={**sealed},  # user sealed, but the data's personal text in plain
            )
        self.assertEqual(self.store.read_aggregate("n-9"), [])
        self.assertEqual(self.store.last_position(), 1)

    def test_the_reserved_key_checks_a_data_field_subject_too(self) -> None:
        sealed = json.loads(self.note().metadata_json)["$personal"]
        fake = {"organization_id": "acme", "$personal": sealed}  # no user: only the customer
        with self.assertRaises(InvalidEventError) as caught:
            self.store.append(
                "i-1",
                "Invoice",
                [ContractInvoiced(customer_id="c-9", email="ann@example.com")],
                NO_STREAM,
                metadata=fake,
            )
        self.assertIn("data.email is in plain", str(caught.exception))
        # Without a customer id there is no subject: the email may stay as given.
        kept = self.store.append(
            "i-2",
            "Invoice",
            [ContractInvoiced(customer_id="", email="nobody@example.com")],
            NO_STREAM,
            metadata=fake,
        )[0]
        self.assertIn("nobody@example.com", kept.data_json)
