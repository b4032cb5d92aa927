"""The ``signatures`` table (migration ``0004_signatures.sql``): which signatures were made,
and which still lack a timestamp so the province can add one later.
"""

from __future__ import annotations

from dataclasses import dataclass

from service.store.db import utcnow
from service.store.store import Store


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


def record(store: Store, rec: SignatureRecord) -> None:
    """Append one signature record."""
    with store.transaction() as c:
        c.execute("INSERT INTO signatures(document_id, role, signer, signing_time, timestamped, pdf_sha256_after,"
                  " field_name, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                  (rec.document_id, rec.role, rec.signer, rec.signing_time, int(rec.timestamped),
                   rec.pdf_sha256_after, rec.field_name, utcnow()))


def signatures_of(store: Store, document_id: str) -> list[SignatureRecord]:
    """Signatures recorded for a document, oldest first."""
    rows = store.conn.execute("SELECT document_id, role, signer, signing_time, timestamped, pdf_sha256_after, "
                              "field_name FROM signatures WHERE document_id = ? ORDER BY id", (document_id,))
    return [SignatureRecord(r[0], r[1], r[2], r[3], bool(r[4]), r[5], r[6]) for r in rows]


def untimestamped(store: Store) -> list[SignatureRecord]:
    """Signatures made offline (PAdES B-B) that the province may augment with a timestamp."""
    rows = store.conn.execute("SELECT document_id, role, signer, signing_time, timestamped, pdf_sha256_after, "
                              "field_name FROM signatures WHERE timestamped = 0 ORDER BY id")
    return [SignatureRecord(r[0], r[1], r[2], r[3], bool(r[4]), r[5], r[6]) for r in rows]
