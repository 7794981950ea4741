"""Personal data beyond the backend contract: declarations, the keys file, the raw rows, the cache.

The shared behaviour (sealing, revealing, erasure, search) is in the contract suite
(``eventstore/testing/privacy_contract.py``), run against every backend.
"""

import base64
import json
import os
import uuid
from dataclasses import dataclass

import pytest
from django.db import connection, connections
from django.test import override_settings

from eventstore.backends.database import DatabaseEventStore
from eventstore.backends.memory import InMemoryEventStore, forget
from eventstore.events import DomainEvent, EventRegistry, event
from eventstore.models import SubjectKey
from eventstore.privacy import ERASED, DataField, PersonalData, parse_subject
from eventstore.privacy import keys as key_module
from eventstore.records import ANY, NO_STREAM
from eventstore.testing.contract import happened
from eventstore.testing.privacy_contract import USER, ContractNoted

# -- declarations --------------------------------------------------------------------------


def test_personal_fields_must_be_strings():
    with pytest.raises(TypeError, match="must be annotated str or str | None"):

        @dataclass(frozen=True)
        class Counted(DomainEvent, register=False, personal=PersonalData(fields=("count",))):
            count: int

    with pytest.raises(TypeError, match="not a field"):

        class Missing(DomainEvent, register=False, personal=PersonalData(fields=("nope",))):
            text: str

    with pytest.raises(TypeError, match="PersonalData"):

        class Wrong(DomainEvent, register=False, personal=("text",)):  # type: ignore[arg-type]
            text: str


def test_optional_strings_and_data_field_subjects_are_accepted():
    class Fine(
        DomainEvent,
        register=False,
        personal=PersonalData(fields=("a", "b"), subject=DataField("member_id", "member")),
    ):
        a: str
        b: str | None
        member_id: str

    assert Fine.personal_data.subject.subject({"member_id": "m1"}, {}) == "member:m1"
    with pytest.raises(ValueError, match="twice"):
        PersonalData(fields=("a", "a"))
    with pytest.raises(ValueError, match="kind"):
        DataField("member_id", "Member")


def test_subjects_are_kind_colon_id():
    assert parse_subject("user:42") == ("user", "42")
    assert parse_subject("customer:c-9") == ("customer", "c-9")
    for bad in ("42", "user", "user:", "USER:1", "user:\x00", 7):
        with pytest.raises(ValueError, match="<kind>:<id>"):
            parse_subject(bad)


def test_the_personal_metadata_keys_are_a_setting():
    store = InMemoryEventStore(f"privacy-{uuid.uuid4()}")
    try:
        metadata = {"user_id": "u1", "username": "ann", "email": "ann@example.com"}
        default = store.append("a-1", "Thing", [happened()], NO_STREAM, metadata=metadata)[0]
        assert "ann@example.com" in default.metadata_json
        assert "ann" not in default.metadata_json.replace("ann@example.com", "")
        with override_settings(EVENTSTORE_PERSONAL_METADATA=["user_id", "email"]):
            custom = store.append("a-2", "Thing", [happened()], NO_STREAM, metadata=metadata)[0]
        assert "ann@example.com" not in custom.metadata_json
        assert '"username":"ann"' in custom.metadata_json
        assert custom.metadata == metadata
    finally:
        forget(store.alias)


# -- the memory backend's keys file ----------------------------------------------------------


@pytest.fixture
def journaled(tmp_path):
    aliases = []

    def open_(alias=None):
        alias = alias or f"privacy-journal-{uuid.uuid4()}"
        aliases.append(alias)
        return InMemoryEventStore(alias, {"JOURNAL": str(tmp_path / "events.jsonl")})

    yield open_
    for alias in aliases:
        forget(alias)


def _secret_forms(key):
    raw = key.secret
    return [
        base64.urlsafe_b64encode(raw).rstrip(b"="),
        base64.b64encode(raw).rstrip(b"="),
        raw.hex().encode(),
        raw,
    ]


def test_keys_live_in_a_keys_file_beside_the_journal_never_in_it(journaled, tmp_path):
    store = journaled()
    record = store.append(
        "n-1", "Note", [ContractNoted(text="secret text")], NO_STREAM, metadata=USER
    )[0]
    key = store.keys.find("user:u7")
    journal = (tmp_path / "events.jsonl").read_bytes()
    keys_file = (tmp_path / "events.jsonl.keys").read_bytes()
    assert b"secret text" not in journal and b"ann.smith" not in journal
    for form in _secret_forms(key):
        assert form not in journal
    assert base64.urlsafe_b64encode(key.secret).rstrip(b"=") in keys_file
    assert key.key_id.encode() in keys_file
    assert oct(os.stat(tmp_path / "events.jsonl.keys").st_mode & 0o777) == "0o600"
    # A restart reads the keys back: the events still reveal.
    forget(store.alias)
    again = journaled(store.alias)
    assert again.read_aggregate("n-1")[0].data["text"] == "secret text"
    assert again.read_aggregate("n-1")[0] == record
    assert again.search(user_id="u7") == [record]


def test_erasure_rewrites_the_keys_file_without_the_key(journaled, tmp_path):
    store = journaled()
    store.append("n-1", "Note", [ContractNoted(text="secret text")], NO_STREAM, metadata=USER)
    store.append(
        "n-2", "Note", [ContractNoted(text="other")], NO_STREAM, metadata={"user_id": "u8"}
    )
    key = store.keys.find("user:u7")
    kept = store.keys.find("user:u8")
    store.erase_subject("user:u7", erased_by="dpo")
    keys_file = (tmp_path / "events.jsonl.keys").read_bytes()
    for form in _secret_forms(key):
        assert form not in keys_file
    assert key.key_id.encode() not in keys_file
    assert base64.urlsafe_b64encode(kept.secret).rstrip(b"=") in keys_file
    assert [p.name for p in tmp_path.iterdir()] != [] and not any(
        p.name.endswith(".tmp") for p in tmp_path.iterdir()
    )
    forget(store.alias)
    again = journaled(store.alias)
    assert again.read_aggregate("n-1")[0].data["text"] == ERASED
    assert again.read_aggregate("n-2")[0].data["text"] == "other"
    assert again.read_aggregate("user:u7")[0].event_type == "DataSubjectErased"


def test_clearing_a_journaled_store_empties_its_keys_file(journaled, tmp_path):
    store = journaled()
    store.append("n-1", "Note", [ContractNoted(text="x")], NO_STREAM, metadata=USER)
    store.clear()
    assert (tmp_path / "events.jsonl.keys").read_bytes() == b""
    assert store.keys.find("user:u7") is None


def test_snapshots_keep_keys_with_events():
    store = InMemoryEventStore(f"privacy-{uuid.uuid4()}")
    try:
        snapshot = store.snapshot()
        store.append("n-1", "Note", [ContractNoted(text="x")], NO_STREAM, metadata=USER)
        assert store.keys.find("user:u7") is not None
        store.restore(snapshot)
        assert store.keys.find("user:u7") is None
    finally:
        forget(store.alias)


# -- the database backend: raw rows, atomic erasure, the key cache -------------------------


@pytest.fixture
def db_store(db):
    store = DatabaseEventStore("privacy-db", {"DATABASE": "default"})
    store.clear()
    return store


def test_the_raw_row_holds_no_plaintext_and_the_user_id_column_a_token(db_store):
    record = db_store.append(
        "n-1",
        "Note",
        [ContractNoted(text="secret text", extra="Ann Smith")],
        NO_STREAM,
        metadata=USER,
    )[0]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT data, metadata, user_id, search_text FROM eventstore_storedevent "
            "WHERE aggregate_id = %s",
            ["n-1"],
        )
        data, metadata, user_id, search_text = cursor.fetchone()
    raw = f"{data}{metadata}{user_id}{search_text}"
    for plain in ("secret text", "Ann Smith", "ann.smith"):
        assert plain not in raw
    assert user_id != "u7" and len(user_id) == 43  # base64url of a SHA-256 HMAC
    assert json.loads(metadata)["user_id"]["index"] == user_id
    row = SubjectKey.objects.get(subject="user:u7")
    assert row.key_id == json.loads(metadata)["$personal"][0]["key"]
    assert db_store.read_aggregate("n-1")[0].data["text"] == "secret text"
    assert record.metadata == USER


def test_a_database_erasure_is_all_or_nothing(db_store, monkeypatch):
    db_store.append("n-1", "Note", [ContractNoted(text="secret text")], NO_STREAM, metadata=USER)

    def refuse(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(db_store, "append", refuse)
    with pytest.raises(RuntimeError):
        db_store.erase_subject("user:u7", erased_by="dpo")
    assert SubjectKey.objects.filter(subject="user:u7").exists()
    assert db_store.read_aggregate("n-1")[0].data["text"] == "secret text"


@pytest.mark.django_db(transaction=True)
def test_another_process_erasure_takes_effect_within_the_cache_time(monkeypatch, settings):
    """An erasure elsewhere (its row deleted, this process not told) applies once the cache
    expires."""
    settings.EVENTSTORE_KEY_CACHE_SECONDS = 30
    now = [1000.0]
    monkeypatch.setattr(key_module, "monotonic", lambda: now[0])
    store = DatabaseEventStore("privacy-cache", {"DATABASE": "default"})
    store.clear()
    store.append("n-1", "Note", [ContractNoted(text="secret text")], NO_STREAM, metadata=USER)
    assert store.read_aggregate("n-1")[0].data["text"] == "secret text"
    SubjectKey.objects.filter(subject="user:u7").delete()  # "another process" erased it
    now[0] += 29
    assert store.read_aggregate("n-1")[0].data["text"] == "secret text"  # still cached
    now[0] += 2
    assert store.read_aggregate("n-1")[0].data["text"] == ERASED
    store.clear()


@pytest.mark.django_db(transaction=True)
def test_the_cache_saves_the_key_queries_and_the_erasing_process_forgets_at_once(settings):
    settings.EVENTSTORE_KEY_CACHE_SECONDS = 60
    store = DatabaseEventStore("privacy-cache", {"DATABASE": "default"})
    store.clear()
    store.append("n-1", "Note", [ContractNoted(text="one")], NO_STREAM, metadata=USER)
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connections["default"]) as queries:
        store.append("n-1", "Note", [ContractNoted(text="two")], ANY, metadata=USER)
        texts = [e.data["text"] for e in store.read_aggregate("n-1")]
    assert texts == ["one", "two"]
    assert not [q for q in queries.captured_queries if "subjectkey" in q["sql"].lower()]
    store.erase_subject("user:u7", erased_by="dpo")
    assert [e.data["text"] for e in store.read_aggregate("n-1")] == [ERASED, ERASED]
    store.clear()


@pytest.mark.django_db(transaction=True)
def test_without_the_cache_every_read_asks_the_database(settings):
    settings.EVENTSTORE_KEY_CACHE_SECONDS = 0
    store = DatabaseEventStore("privacy-cache", {"DATABASE": "default"})
    store.clear()
    store.append("n-1", "Note", [ContractNoted(text="one")], NO_STREAM, metadata=USER)
    assert store.read_aggregate("n-1")[0].data["text"] == "one"
    SubjectKey.objects.all().delete()
    assert store.read_aggregate("n-1")[0].data["text"] == ERASED
    store.clear()


def test_a_store_without_personal_declarations_in_its_registry_still_seals_metadata():
    registry = EventRegistry()

    @event
    class Plain(DomainEvent, register=False):
        note: str

    registry.register(Plain)
    store = InMemoryEventStore(f"privacy-{uuid.uuid4()}", event_registry=registry)
    try:
        record = store.append("p-1", "Thing", [Plain(note="n")], NO_STREAM, metadata=USER)[0]
        assert "ann.smith" not in record.metadata_json
        assert record.metadata == USER
        erasure = store.erase_subject("user:u7", erased_by="dpo")
        assert erasure.event.event_type == "DataSubjectErased"
        assert store.read_aggregate("p-1")[0].metadata["username"] == ERASED
    finally:
        forget(store.alias)


def test_the_blind_index_token_is_an_hmac_under_a_key_derived_from_the_subjects():
    import hashlib
    import hmac

    store = InMemoryEventStore(f"privacy-{uuid.uuid4()}")
    try:
        record = store.append("n-1", "Note", [ContractNoted(text="x")], NO_STREAM, metadata=USER)[0]
        secret = store.keys.find("user:u7").secret
        index_key = hmac.new(secret, b"eventstore blind index v1", hashlib.sha256).digest()
        expected = base64.urlsafe_b64encode(
            hmac.new(index_key, b"u7", hashlib.sha256).digest()
        ).rstrip(b"=")
        assert json.loads(record.metadata_json)["user_id"]["index"] == expected.decode()
        assert store._data.by_metadata["user_id"] == {expected.decode(): [record]}
    finally:
        forget(store.alias)


def test_metadata_values_json_lacks_a_type_for_are_sealed_and_stored_as_strings():
    from decimal import Decimal

    store = InMemoryEventStore(f"privacy-{uuid.uuid4()}")
    try:
        user = uuid.UUID("12345678-1234-5678-1234-567812345678")
        metadata = {"user_id": user, "username": "ann", "limit": Decimal("1.50")}
        record = store.append(
            "n-1", "Note", [ContractNoted(text="x")], NO_STREAM, metadata=metadata
        )
        assert record[0].metadata == {
            "user_id": str(user),
            "username": "ann",
            "limit": "1.50",
        }
        assert str(user) not in record[0].metadata_json
        assert [e.aggregate_id for e in store.search(user_id=str(user))] == ["n-1"]
        with pytest.raises(ValueError, match="not JSON serializable"):
            store.append(
                "n-2",
                "Note",
                [ContractNoted(text="x")],
                NO_STREAM,
                metadata={"user_id": "u", "username": {1}},
            )
    finally:
        forget(store.alias)
