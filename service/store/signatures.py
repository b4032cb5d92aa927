"""The ``signatures`` table (migration ``0004_signatures.sql``): which signatures were made, and
which still lack a timestamp so the province can add one later.

:class:`SignatureTable` is a part of :class:`service.store.store.Store` (a mixin); the signing
room records and reads signatures through these methods.
"""

from __future__ import annotations

import sqlite3
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import TYPE_CHECKING

from service.store.db import utcnow

_COLUMNS = "document_id, role, signer, signing_time, timestamped, pdf_sha256_after, field_name"


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


def _record(r: sqlite3.Row) -> SignatureRecord:
    return SignatureRecord(r[0], r[1], r[2], r[3], bool(r[4]), r[5], r[6])


class SignatureTable:
    """Signature records (mixed into :class:`Store`)."""

    conn: sqlite3.Connection

    if TYPE_CHECKING:  # provided by Store, the class this one is mixed into
        def transaction(self) -> AbstractContextManager[sqlite3.Connection]:
            """A write transaction (``BEGIN IMMEDIATE``)."""

    def add_signature(self, rec: SignatureRecord) -> None:
        """Append one signature record."""
        with self.transaction() as c:
            c.execute(f"INSERT INTO signatures({_COLUMNS}, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                      (rec.document_id, rec.role, rec.signer, rec.signing_time, int(rec.timestamped),
                       rec.pdf_sha256_after, rec.field_name, utcnow()))

    def signatures_of(self, document_id: str) -> list[SignatureRecord]:
        """Signatures recorded for a document, oldest first."""
        rows = self.conn.execute(f"SELECT {_COLUMNS} FROM signatures WHERE document_id = ? ORDER BY id",
                                 (document_id,))
        return [_record(r) for r in rows]

    def untimestamped_signatures(self) -> list[SignatureRecord]:
        """Signatures made offline (PAdES B-B) that the province may augment with a timestamp."""
        rows = self.conn.execute(f"SELECT {_COLUMNS} FROM signatures WHERE timestamped = 0 ORDER BY id")
        return [_record(r) for r in rows]
