"""Store identity: which history a store holds, so a checkpoint can tell it was taken elsewhere.

A projection's checkpoint records the identity of the store it was taken
against (see :mod:`eventstore.projections`). Each backend exposes
``store.identity()``:

- a process-memory store without a journal starts a new history in every
  process, and after every ``clear()``: a new random identity each time;
- a journaled memory store keeps its identity in a sidecar file next to the
  journal (``<journal>.identity``), written once, renewed by ``clear()``;
- the database backend keeps it in one row of ``eventstore_storeidentity``,
  created on first use, renewed by ``clear()``.
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path

__all__ = ["journal_identity", "new_identity", "write_journal_identity"]


def new_identity() -> str:
    """Return a new random store identity (32 hex characters)."""
    return uuid.uuid4().hex


def _sidecar(journal_path: str | os.PathLike[str]) -> Path:
    path = Path(journal_path)
    return path.with_name(f"{path.name}.identity")


def write_journal_identity(journal_path: str | os.PathLike[str], identity: str) -> str:
    """Write ``identity`` to the journal's sidecar file (atomically, fsynced); return it."""
    sidecar = _sidecar(journal_path)
    temporary = sidecar.with_name(f"{sidecar.name}.tmp")
    with open(temporary, "w", encoding="ascii") as file:
        file.write(identity + "\n")
        file.flush()
        os.fsync(file.fileno())
    os.replace(temporary, sidecar)
    return identity


def journal_identity(journal_path: str | os.PathLike[str]) -> str:
    """Return the identity kept next to a journal, creating it on first use."""
    sidecar = _sidecar(journal_path)
    try:
        identity = sidecar.read_text(encoding="ascii").strip()
    except FileNotFoundError:
        identity = ""
    return identity or write_journal_identity(journal_path, new_identity())
