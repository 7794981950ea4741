"""Tamper evidence at the edges: signed exports, eventstore_verify, journals.

Expected MACs and key ids are computed here with ``hmac``/``hashlib`` from the
documented construction, never taken from the code under test.
"""

import hashlib
import hmac
import io
import json
import logging
import uuid

import pytest
from django.core.management import CommandError, call_command

from eventstore.backends.memory import InMemoryEventStore, forget
from eventstore.integrity import ChainError, verify_store
from eventstore.testing import ManualClock
from eventstore.testing.contract import happened


def fill(store):
    store.clock = ManualClock()
    store.append("a-1", "Thing", [happened("é ✓"), happened("2")], 0, correlation_id="c-1")
    store.append("b-1", "Thing", [happened("3")], 0, metadata={"organization_id": "acme"})
    store.append("a-1", "Thing", [happened("4")], 2, causation_id="cmd-1")


def export(tmp_path, *args, name="export.jsonl"):
    path = tmp_path / name
    call_command("eventstore_export", str(path), *args, stdout=io.StringIO())
    return path


def derived_key(secret_key):
    """The documented derivation: HMAC-SHA256(SHA-256(salt + SECRET_KEY), "export signing key")."""
    salt = "eventstore.signing.export-key"
    inner = hashlib.sha256((salt + secret_key).encode()).digest()
    return hmac.new(inner, b"export signing key", hashlib.sha256).digest()


def expected_mac(key, event_bytes, fields):
    rest = {name: value for name, value in fields.items() if name != "mac"}
    canonical = json.dumps(rest, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hmac.new(key, event_bytes + canonical.encode(), hashlib.sha256).hexdigest()


def write_lines(path, lines):
    path.write_bytes(b"".join(lines))
    return path


def import_refused(event_store, path, match, *args):
    with pytest.raises(CommandError, match=match) as caught:
        call_command("eventstore_import", str(path), *args, stdout=io.StringIO())
    assert event_store.count() == 0  # nothing imported
    return str(caught.value)


# -- the signature line ---------------------------------------------------------------------


def test_the_signature_line_follows_the_documented_format(event_store, tmp_path, settings):
    fill(event_store)
    path = export(tmp_path)
    lines = path.read_bytes().splitlines(keepends=True)
    assert len(lines) == 5
    (name,) = json.loads(lines[-1])
    signature = json.loads(lines[-1])[name]
    assert name == "signature"
    assert list(signature) == [
        "algorithm",
        "key_id",
        "events",
        "first_position",
        "last_position",
        "previous_hash",
        "head_hash",
        "mac",
    ]
    key = derived_key(settings.SECRET_KEY)
    stored = event_store.read_all()
    assert signature["algorithm"] == "HMAC-SHA256"
    assert signature["key_id"] == hashlib.sha256(key).hexdigest()[:16]
    assert (signature["events"], signature["first_position"], signature["last_position"]) == (
        4,
        1,
        4,
    )
    assert signature["previous_hash"] == "0" * 64
    assert signature["head_hash"] == stored[-1].chain_hash.hex()
    assert signature["mac"] == expected_mac(key, b"".join(lines[:-1]), signature)


def test_the_signing_key_setting_replaces_the_derived_key(event_store, tmp_path, settings):
    fill(event_store)
    for setting, key in (
        ("a key of our own", b"a key of our own"),
        (b"\x00\xffraw", b"\x00\xffraw"),
    ):
        settings.EVENTSTORE_SIGNING_KEY = setting
        lines = export(tmp_path).read_bytes().splitlines(keepends=True)
        signature = json.loads(lines[-1])["signature"]
        assert signature["key_id"] == hashlib.sha256(key).hexdigest()[:16]
        assert signature["mac"] == expected_mac(key, b"".join(lines[:-1]), signature)
    settings.EVENTSTORE_SIGNING_KEY = ""
    with pytest.raises(CommandError, match="EVENTSTORE_SIGNING_KEY must be a non-empty"):
        export(tmp_path)


def test_an_export_from_a_position_links_from_the_hash_before_it(event_store, tmp_path, settings):
    fill(event_store)
    path = export(tmp_path, "--from-position", "3")
    lines = path.read_bytes().splitlines(keepends=True)
    signature = json.loads(lines[-1])["signature"]
    stored = event_store.read_all()
    assert [json.loads(line)["position"] for line in lines[:-1]] == [3, 4]
    assert signature["previous_hash"] == stored[1].chain_hash.hex()
    assert (signature["events"], signature["first_position"], signature["last_position"]) == (
        2,
        3,
        4,
    )
    out = io.StringIO()
    call_command("eventstore_verify", "--file", str(path), stdout=out)
    assert "Verified 2 events, positions 3-4" in out.getvalue()
    with pytest.raises(CommandError, match="Position 9 is not stored"):
        export(tmp_path, "--from-position", "10")


def test_an_empty_store_exports_a_signed_empty_file(event_store, tmp_path):
    path = export(tmp_path)
    (line,) = path.read_bytes().splitlines()
    signature = json.loads(line)["signature"]
    assert (signature["events"], signature["first_position"], signature["last_position"]) == (
        0,
        0,
        0,
    )
    assert signature["head_hash"] == signature["previous_hash"] == "0" * 64
    call_command("eventstore_import", str(path), stdout=io.StringIO())
    assert event_store.count() == 0


# -- import re-chains ---------------------------------------------------------------------------


def test_an_import_into_an_empty_store_gives_the_same_hashes(event_store, tmp_path):
    fill(event_store)
    original = [event.chain_hash for event in event_store.read_all()]
    path = export(tmp_path)
    event_store.clear()
    call_command("eventstore_import", str(path), stdout=io.StringIO(), stderr=io.StringIO())
    assert [event.chain_hash for event in event_store.read_all()] == original
    assert verify_store(event_store).head == original[-1]


def test_an_import_after_other_events_is_chained_at_the_targets_positions(event_store, tmp_path):
    fill(event_store)
    path = export(tmp_path)
    source = event_store.read_all()
    event_store.clear()
    event_store.append("z-1", "Thing", [happened("already here")], 0)
    call_command("eventstore_import", str(path), stdout=io.StringIO(), stderr=io.StringIO())
    imported = event_store.read_all()[1:]
    assert [event.position for event in imported] == [2, 3, 4, 5]
    assert all(a.chain_hash != b.chain_hash for a, b in zip(imported, source, strict=True))
    assert verify_store(event_store).last == 5


@pytest.mark.django_db(transaction=True)
def test_an_import_into_an_empty_database_store_gives_the_same_hashes(
    event_store, tmp_path, settings
):
    fill(event_store)
    original = [event.chain_hash for event in event_store.read_all()]
    path = export(tmp_path)
    settings.EVENTSTORES = {
        "default": {"BACKEND": "eventstore.backends.database.DatabaseEventStore"}
    }
    from eventstore import eventstores

    database = eventstores["default"]
    database.clear()
    call_command("eventstore_import", str(path), stdout=io.StringIO(), stderr=io.StringIO())
    assert [event.chain_hash for event in database.read_all()] == original
    assert database.chain_head() == (4, original[-1])


WARNING = (
    "2 of the imported events hold personal data sealed with keys this store does not have: "
    "it reads as [erased] here (keys are not part of an export).\n"
)


@pytest.mark.django_db(transaction=True)
def test_an_import_without_the_keys_says_the_personal_data_reads_as_erased(
    event_store, tmp_path, settings
):
    ann = {"user_id": "u7", "username": "ann.smith"}
    event_store.append("a-1", "Thing", [happened("1"), happened("2")], 0, metadata=ann)
    event_store.append("b-1", "Thing", [happened("3")], 0, metadata={"organization_id": "acme"})
    assert event_store.read_aggregate("a-1")[0].metadata["username"] == "ann.smith"
    path = export(tmp_path)
    settings.EVENTSTORES = {
        "default": {"BACKEND": "eventstore.backends.database.DatabaseEventStore"}
    }
    from eventstore import eventstores

    database = eventstores["default"]
    database.clear()
    out, err = io.StringIO(), io.StringIO()
    call_command("eventstore_import", str(path), stdout=out, stderr=err)
    assert out.getvalue().startswith("Imported 3 events")
    assert err.getvalue().endswith(WARNING)
    assert [event.metadata.get("username") for event in database.read_all()] == [
        "[erased]",
        "[erased]",
        None,
    ]


@pytest.mark.django_db(transaction=True)
def test_an_import_into_a_store_holding_the_keys_says_nothing_of_keys(
    event_store, tmp_path, settings
):
    from eventstore.models import SubjectKey

    ann = {"user_id": "u7", "username": "ann.smith"}
    event_store.append("a-1", "Thing", [happened("1")], 0, metadata=ann)
    key = event_store.keys.find("user:u7")
    path = export(tmp_path)
    settings.EVENTSTORES = {
        "default": {"BACKEND": "eventstore.backends.database.DatabaseEventStore"}
    }
    from eventstore import eventstores

    database = eventstores["default"]
    database.clear()
    SubjectKey.objects.create(key_id=key.key_id, subject=key.subject, secret=key.secret)
    err = io.StringIO()
    call_command("eventstore_import", str(path), stdout=io.StringIO(), stderr=err)
    assert "sealed with keys" not in err.getvalue()
    assert database.read_all()[0].metadata["username"] == "ann.smith"


def test_an_import_without_personal_data_says_nothing_of_keys(event_store, tmp_path):
    fill(event_store)
    path = export(tmp_path)
    event_store.clear()
    err = io.StringIO()
    call_command("eventstore_import", str(path), stdout=io.StringIO(), stderr=err)
    assert "sealed with keys" not in err.getvalue()


# -- import refusals: nothing stored -------------------------------------------------------------


@pytest.fixture
def signed(event_store, tmp_path):
    """The lines of a signed export of :func:`fill`'s events; the store emptied."""
    fill(event_store)
    lines = export(tmp_path).read_bytes().splitlines(keepends=True)
    event_store.clear()
    return lines


def edit(line, **changes):
    return (json.dumps({**json.loads(line), **changes}, ensure_ascii=False) + "\n").encode()


def test_import_refuses_an_unsigned_file_unless_asked(event_store, tmp_path, signed):
    path = write_lines(tmp_path / "unsigned.jsonl", signed[:-1])
    message = import_refused(event_store, path, r"unsigned.jsonl:5: No signature line")
    assert "--unsigned" in message
    call_command("eventstore_import", str(path), "--unsigned", stdout=io.StringIO())
    assert event_store.count() == 4


def test_import_refuses_a_malformed_signature_line(event_store, tmp_path, signed):
    signature = json.loads(signed[-1])["signature"]
    del signature["head_hash"]
    path = write_lines(tmp_path / "bad.jsonl", [*signed[:-1], edit(b"{}", signature=signature)])
    import_refused(event_store, path, r"bad.jsonl:5: Malformed signature line")
    import_refused(event_store, path, r"bad.jsonl:5: Malformed signature line", "--unsigned")


def test_import_refuses_a_file_signed_with_another_key(event_store, tmp_path, signed, settings):
    path = write_lines(tmp_path / "other.jsonl", signed)
    settings.EVENTSTORE_SIGNING_KEY = "another key"
    message = import_refused(
        event_store, path, r"other.jsonl:5: The file was signed with another key"
    )
    assert hashlib.sha256(b"another key").hexdigest()[:16] in message
    import_refused(event_store, path, r"another key", "--unsigned")


def test_import_refuses_a_bad_mac_even_with_unsigned(event_store, tmp_path, signed):
    signature = json.loads(signed[-1])["signature"]
    signature["mac"] = ("0" if signature["mac"][0] != "0" else "1") + signature["mac"][1:]
    path = write_lines(tmp_path / "mac.jsonl", [*signed[:-1], edit(b"{}", signature=signature)])
    import_refused(event_store, path, r"mac.jsonl:5: The signature's MAC does not match")
    import_refused(event_store, path, r"MAC does not match", "--unsigned")


def test_import_refuses_a_rechained_forgery_by_its_mac(event_store, tmp_path, signed):
    # Someone edits an amount and recomputes every hash after it: the chain holds, the MAC not.
    from eventstore.integrity import ZERO_HASH, chain
    from eventstore.serialization import record_from_json, record_to_json

    records = [record_from_json(line.decode()) for line in signed[:-1]]
    forged = list(chain(ZERO_HASH, [records[0], _with_note(records[1], "20"), *records[2:]]))
    lines = [(record_to_json(record) + "\n").encode() for record in forged]
    signature = json.loads(signed[-1])["signature"]
    signature["head_hash"] = forged[-1].chain_hash.hex()
    path = write_lines(tmp_path / "forged.jsonl", [*lines, edit(b"{}", signature=signature)])
    import_refused(event_store, path, r"forged.jsonl:5: The signature's MAC does not match")


def _with_note(record, note):
    import dataclasses

    return dataclasses.replace(record, data_json=f'{{"note":"{note}"}}')


@pytest.mark.parametrize(
    ("change", "line", "what"),
    [
        ("amount", 3, r"The event at position 3 .* does not match its hash"),
        ("timestamp", 2, r"The event at position 2 .* does not match its hash"),
        ("user", 4, r"The event at position 4 .* does not match its hash"),
        ("remove", 3, r"Position 3 is missing: this line holds position 4"),
        ("swap", 2, r"Position 2 is missing: this line holds position 3"),
        ("remove last", 4, r"The signature's MAC does not match"),
    ],
)
def test_import_finds_an_edited_export_line_at_its_line(
    event_store, tmp_path, signed, change, line, what
):
    events = list(signed[:-1])
    if change == "amount":
        events[2] = edit(events[2], data={"note": "30"})
    elif change == "timestamp":
        events[1] = edit(events[1], timestamp="2024-01-01T00:00:00.000001+00:00")
    elif change == "user":
        events[3] = edit(events[3], metadata={"user_id": "someone else"})
    elif change == "remove":
        del events[2]
    elif change == "swap":
        events[1], events[2] = events[2], events[1]
    else:
        del events[3]
    path = write_lines(tmp_path / "edited.jsonl", [*events, signed[-1]])
    import_refused(event_store, path, f"edited.jsonl:{line}: {what}")
    with pytest.raises(CommandError, match=f"edited.jsonl:{line}: {what}"):
        call_command("eventstore_verify", "--file", str(path), stdout=io.StringIO())


def test_text_after_the_signature_line_is_refused(event_store, tmp_path, signed):
    path = write_lines(tmp_path / "after.jsonl", [*signed, signed[0]])
    import_refused(event_store, path, r"after.jsonl:6: Text after the signature line")


# -- eventstore_verify on a store ----------------------------------------------------------------


def test_verify_command_prints_a_one_line_summary(event_store):
    fill(event_store)
    out, err = io.StringIO(), io.StringIO()
    call_command("eventstore_verify", stdout=out, stderr=err)
    head = event_store.chain_head()[1].hex()
    assert len(head) == 64  # the whole head, for auditors to anchor
    assert out.getvalue() == (
        f"Verified 4 events, positions 1-4, head {head}: the chain is intact.\n"
    )
    assert err.getvalue() == ""  # no progress bar when stderr is not a terminal


def test_verify_command_names_the_first_bad_position(event_store):
    from eventstore.testing.tamper import MemoryTamper

    fill(event_store)
    MemoryTamper().update(event_store, 3, data_json='{"note":"33"}')
    with pytest.raises(CommandError, match=r"The event at position 3 .* does not match"):
        call_command("eventstore_verify", "--no-progress", stdout=io.StringIO())
    out = io.StringIO()
    call_command("eventstore_verify", "--from-position", "4", stdout=out)
    assert "Verified 1 events, positions 4-4" in out.getvalue()
    with pytest.raises(CommandError, match="--from-position must be 1 or more"):
        call_command("eventstore_verify", "--from-position", "0", stdout=io.StringIO())


def test_export_command_prints_the_whole_head(tmp_path, event_store):
    fill(event_store)
    out = io.StringIO()
    path = tmp_path / "whole.jsonl"
    call_command("eventstore_export", str(path), stdout=out)
    head = event_store.chain_head()[1].hex()
    assert len(head) == 64
    assert out.getvalue().rstrip().endswith(f"head {head}.")


def test_verify_file_needs_no_store_and_refuses_an_unreadable_file(tmp_path, event_store, signed):
    path = write_lines(tmp_path / "ok.jsonl", signed)
    out = io.StringIO()
    call_command("eventstore_verify", "--file", str(path), stdout=out)
    head = json.loads(signed[-1])["signature"]["head_hash"]
    assert len(head) == 64
    assert out.getvalue().startswith(f"Verified 4 events, positions 1-4, head {head}: ")
    assert "signature (key " in out.getvalue()
    with pytest.raises(CommandError, match="Cannot read"):
        call_command("eventstore_verify", "--file", str(tmp_path / "none"), stdout=io.StringIO())


# -- the journal ------------------------------------------------------------------------------


@pytest.fixture
def journal(tmp_path):
    """``open_store()`` opens a fresh alias on one journal file; ``path`` is the file."""
    aliases = []
    path = tmp_path / "journal"

    def open_store():
        for alias in aliases:
            forget(alias)
        alias = f"journal-{uuid.uuid4()}"
        aliases.append(alias)
        return InMemoryEventStore(alias, {"JOURNAL": str(path)})

    open_store.path = path
    yield open_store
    for alias in aliases:
        forget(alias)


def test_a_journal_keeps_the_hashes_and_the_head(journal):
    store = journal()
    fill(store)
    hashes = [event.chain_hash for event in store.read_all()]
    reloaded = journal()
    assert [event.chain_hash for event in reloaded.read_all()] == hashes
    assert reloaded.chain_head() == (4, hashes[-1])
    assert verify_store(reloaded).last == 4


def test_a_journal_without_hashes_is_chained_on_load(journal, caplog):
    store = journal()
    fill(store)
    hashes = [event.chain_hash for event in store.read_all()]
    batches = [json.loads(line) for line in journal.path.read_text().splitlines()]
    for batch in batches:
        for obj in batch:
            del obj["hash"]
    old = "".join(json.dumps(batch, ensure_ascii=False) + "\n" for batch in batches)
    journal.path.write_text(old)
    with caplog.at_level(logging.WARNING, logger="eventstore.journal"):
        reloaded = journal()
    assert [event.chain_hash for event in reloaded.read_all()] == hashes
    assert "4 events written before the hash chain existed were chained on load" in caplog.text
    reloaded.append("a-1", "Thing", [happened("5")], 3)
    assert verify_store(journal()).last == 5


def test_an_edited_journal_line_is_found_at_its_position(journal):
    store = journal()
    fill(store)
    lines = journal.path.read_text(encoding="utf-8").splitlines(keepends=True)
    # Line 2 is b-1's batch: position 3.
    lines[1] = lines[1].replace('"data":{"note":"3"}', '"data":{"note":"300"}')
    journal.path.write_text("".join(lines), encoding="utf-8")
    with pytest.raises(ChainError) as caught:
        verify_store(journal())
    assert (caught.value.position, caught.value.kind) == (3, "hash")


@pytest.mark.parametrize("change", ["remove", "swap"])
def test_a_removed_or_swapped_journal_line_refuses_the_load(journal, change):
    from eventstore.exceptions import InvalidBackendError

    store = journal()
    fill(store)
    lines = journal.path.read_text(encoding="utf-8").splitlines(keepends=True)
    if change == "remove":
        del lines[1]  # position 3: the next line holds 4
    else:
        lines[1], lines[2] = lines[2], lines[1]
    journal.path.write_text("".join(lines), encoding="utf-8")
    with pytest.raises(InvalidBackendError, match="has position 4, expected 3"):
        journal()


def test_a_journal_cut_after_its_last_line_cannot_tell_alone(journal):
    # The limit the README states: without an anchored head (a signed export, a printed
    # head hash), a history cut at its end still verifies.
    store = journal()
    fill(store)
    head = store.chain_head()
    lines = journal.path.read_text(encoding="utf-8").splitlines(keepends=True)
    journal.path.write_text("".join(lines[:-1]), encoding="utf-8")
    cut = journal()
    assert verify_store(cut).last == 3
    assert cut.chain_head() != head


# -- the README's construction, run as an auditor would -------------------------------------


def test_the_readmes_check_program_verifies_an_export(event_store, tmp_path):
    import re
    import subprocess
    import sys
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    section = readme.split("\n### Tamper evidence\n", 1)[1]
    program = re.search(r"```python\n(.*?)```", section, re.S).group(1)
    (tmp_path / "check.py").write_text(program, encoding="utf-8")
    fill(event_store)
    event_store.append("c-1", "Thing", [happened("ünïcode ✓", metadata={"user_id": "u"})], 0)
    path = export(tmp_path)
    run = subprocess.run(
        [sys.executable, str(tmp_path / "check.py"), str(path)], capture_output=True, text=True
    )
    assert run.stdout == f"head {event_store.chain_head()[1].hex()}\n", run.stderr
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    lines[2] = lines[2].replace('"note":"3"', '"note":"4"')
    path.write_text("".join(lines), encoding="utf-8")
    run = subprocess.run(
        [sys.executable, str(tmp_path / "check.py"), str(path)], capture_output=True, text=True
    )
    assert run.returncode != 0 and "position 3 does not match" in run.stderr


@pytest.mark.django_db(transaction=True)
def test_verify_command_on_the_database_names_an_edited_indexed_column(settings):
    from eventstore import eventstores
    from eventstore.testing.tamper import DatabaseTamper

    settings.EVENTSTORES = {
        "default": {"BACKEND": "eventstore.backends.database.DatabaseEventStore"}
    }
    store = eventstores["default"]
    store.clear()
    fill(store)
    out = io.StringIO()
    call_command("eventstore_verify", stdout=out)
    assert out.getvalue().startswith("Verified 4 events, positions 1-4, head ")
    DatabaseTamper().update_column(store, 3, "organization_id", "other")
    with pytest.raises(CommandError, match=r"position 3 has organization_id column 'other'"):
        call_command("eventstore_verify", stdout=io.StringIO())


def test_a_memory_snapshot_keeps_the_chain_head():
    alias = f"snapshot-{uuid.uuid4()}"
    store = InMemoryEventStore(alias)
    try:
        fill(store)
        snapshot, head = store.snapshot(), store.chain_head()
        store.append("c-1", "Thing", [happened("later")], 0)
        store.restore(snapshot)
        assert store.chain_head() == head
        assert verify_store(store).last == 4
        store.clear()
        assert store.chain_head() == (0, bytes(32))
    finally:
        forget(alias)
