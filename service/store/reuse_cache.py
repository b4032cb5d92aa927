"""The reuse look-up cache (migration 0009) and an owner's papers (mixed into :class:`Store`).

The province's answers are kept per owner and document type so the desk can offer reuse offline
and say when the answer was given. Rows are keyed by the owner's SHA-256 digest, so the table
cannot be searched by identifier; the answers themselves are what the province sent (result codes,
which by the national template begin with the identifier, as the store's own codes do).
"""

from __future__ import annotations

import hashlib
import sqlite3
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import TYPE_CHECKING

from service.store.types import StoredDocument


@dataclass(frozen=True, slots=True)
class CachedAnswer:
    """One cached province answer: its document type, when it was given, the hits (wire JSON)."""

    document_type: str
    answered_at: str
    hits_json: str


def owner_digest(owner_id: str) -> str:
    """What the cache keys an owner by."""
    return hashlib.sha256(owner_id.encode("utf-8")).hexdigest()


class ReuseCacheTable:
    """Cached reuse answers and the owner look-up of the local store (mixed into :class:`Store`)."""

    conn: sqlite3.Connection

    if TYPE_CHECKING:  # provided by Store, the class this one is mixed into
        def transaction(self) -> AbstractContextManager[sqlite3.Connection]:
            """A write transaction (``BEGIN IMMEDIATE``)."""

        def get(self, code_or_id: str) -> StoredDocument:
            """One stored document."""

    def documents_of_owner(self, owner_id: str, limit: int = 50) -> list[StoredDocument]:
        """The owner's stored documents, newest first (none for an empty identifier)."""
        if not owner_id:
            return []
        rows = self.conn.execute("SELECT id FROM documents WHERE owner_id = ? ORDER BY created_at DESC, id LIMIT ?",
                                 (owner_id, limit)).fetchall()
        return [self.get(r[0]) for r in rows]

    def cache_reuse_answer(self, owner_id: str, document_type: str, hits_json: str, answered_at: str) -> None:
        """Keep (replace) the province's answer for this owner and type."""
        with self.transaction() as c:
            c.execute("INSERT INTO reuse_cache(owner_digest, document_type, answered_at, hits_json) VALUES (?,?,?,?)"
                      " ON CONFLICT (owner_digest, document_type) DO UPDATE SET answered_at = excluded.answered_at,"
                      " hits_json = excluded.hits_json",
                      (owner_digest(owner_id), document_type, answered_at, hits_json))

    def cached_reuse_answers(self, owner_id: str, document_types: tuple[str, ...],
                             not_before: str) -> list[CachedAnswer]:
        """Cached answers for this owner and these types (all types when empty) given at or after ``not_before``."""
        sql = ("SELECT document_type, answered_at, hits_json FROM reuse_cache"
               " WHERE owner_digest = ? AND answered_at >= ?")
        args: list[str] = [owner_digest(owner_id), not_before]
        if document_types:
            sql += f" AND document_type IN ({','.join('?' * len(document_types))})"
            args += list(document_types)
        return [CachedAnswer(*r) for r in self.conn.execute(sql + " ORDER BY document_type", args).fetchall()]

    def drop_reuse_cache(self, *, before: str | None = None, owner_id: str | None = None) -> int:
        """Drop answers given before ``before`` and/or every answer of ``owner_id``; returns how many."""
        with self.transaction() as c:
            n = 0
            if before is not None:
                n += c.execute("DELETE FROM reuse_cache WHERE answered_at < ?", (before,)).rowcount
            if owner_id is not None:
                n += c.execute("DELETE FROM reuse_cache WHERE owner_digest = ?", (owner_digest(owner_id),)).rowcount
            return n
