"""The ``signatures`` table: which signatures were made, and which still lack a timestamp.

The schema is migration ``0004_signatures.sql``. Until the store's migration folder is numbered up
to 0003, the file is kept next to this module and applied idempotently (every statement is
``IF NOT EXISTS``), so it is correct both before and after the lead moves it into
``service/store/migrations/``.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path

from service.domain.errors import StoreError
from service.store.db import MIGRATIONS_DIR, utcnow
from service.store.store import Store

MIGRATION_NAME = "0004_signatures.sql"


def _migration_sql() -> str:
    for cand in (MIGRATIONS_DIR / MIGRATION_NAME, Path(__file__).with_name(MIGRATION_NAME)):
        if cand.exists():
            return cand.read_text(encoding="utf-8")
    raise StoreError(f"migration {MIGRATION_NAME} is missing", remedy="reinstall sohoa-edge")


@dataclass(frozen=True, slots=True)
class SignatureRecord:
    """One row of the ``signatures`` table."""

    document_id: str
    role: str
    signer: str
    signing_time: str
    timestamped: bool
    pdf_sha256_after: str
    field_name: str


def ensure_schema(store: Store) -> None:
    """Create the ``signatures`` table if the store's migrations did not (idempotent)."""
    try:
        store.conn.executescript(_migration_sql())
    except sqlite3.DatabaseError as exc:
        raise StoreError(f"the signatures table cannot be created ({exc})",
                         remedy="check the database; restore from backup if it is damaged") from exc


def record(store: Store, rec: SignatureRecord) -> None:
    """Append one signature record."""
    ensure_schema(store)
    with store.transaction() as c:
        c.execute("INSERT INTO signatures(document_id, role, signer, signing_time, timestamped, pdf_sha256_after,"
                  " field_name, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                  (rec.document_id, rec.role, rec.signer, rec.signing_time, int(rec.timestamped),
                   rec.pdf_sha256_after, rec.field_name, utcnow()))


def signatures_of(store: Store, document_id: str) -> list[SignatureRecord]:
    """Signatures recorded for a document, oldest first."""
    ensure_schema(store)
    rows = store.conn.execute("SELECT document_id, role, signer, signing_time, timestamped, pdf_sha256_after, "
                              "field_name FROM signatures WHERE document_id = ? ORDER BY id", (document_id,))
    return [SignatureRecord(r[0], r[1], r[2], r[3], bool(r[4]), r[5], r[6]) for r in rows]


def untimestamped(store: Store) -> list[SignatureRecord]:
    """Signatures made offline (PAdES B-B) that the province may augment with a timestamp."""
    ensure_schema(store)
    rows = store.conn.execute("SELECT document_id, role, signer, signing_time, timestamped, pdf_sha256_after, "
                              "field_name FROM signatures WHERE timestamped = 0 ORDER BY id")
    return [SignatureRecord(r[0], r[1], r[2], r[3], bool(r[4]), r[5], r[6]) for r in rows]
