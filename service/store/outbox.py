"""The outbox table: one row per document version waiting to reach the province.

:class:`OutboxTable` is a part of :class:`service.store.store.Store` (a mixin); other rooms reach
these methods through ``Store``. Every state change appends an audit row in the same transaction
under the ``actor`` the caller names (the store does not decide who acts).
"""

from __future__ import annotations

import sqlite3
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Any

from service.domain.errors import NotFoundError, StoreError
from service.store import audit
from service.store.db import utcnow
from service.store.types import OutboxRow, OutboxState


def _row(row: sqlite3.Row) -> OutboxRow:
    return OutboxRow(int(row["id"]), row["document_id"], row["pdf_sha256"], OutboxState(row["state"]),
                     int(row["attempts"]), row["next_attempt_at"], row["last_error"], row["created_at"],
                     row["delivered_at"])


class OutboxTable:
    """Outbox reads and state changes (mixed into :class:`Store`)."""

    conn: sqlite3.Connection

    if TYPE_CHECKING:  # provided by Store, the class this one is mixed into
        def transaction(self) -> AbstractContextManager[sqlite3.Connection]:
            """A write transaction (``BEGIN IMMEDIATE``)."""

    @staticmethod
    def _enqueue(c: sqlite3.Connection, doc_id: str, pdf_sha256: str, now: str) -> int:
        cur = c.execute("INSERT INTO outbox(document_id, pdf_sha256, state, attempts, next_attempt_at, created_at) "
                        "VALUES (?, ?, 'queued', 0, ?, ?)", (doc_id, pdf_sha256, now, now))
        return int(cur.lastrowid or 0)

    def outbox_for(self, document_id: str) -> list[OutboxRow]:
        """Every outbox row of a document, oldest first."""
        rows = self.conn.execute("SELECT * FROM outbox WHERE document_id = ? ORDER BY id", (document_id,))
        return [_row(r) for r in rows]

    def pending_outbox(self, *, now: str | None = None, limit: int = 100) -> list[OutboxRow]:
        """Queued (or failed and due again) rows whose ``next_attempt_at`` has passed, oldest first."""
        rows = self.conn.execute(
            "SELECT * FROM outbox WHERE state IN ('queued', 'failed') AND next_attempt_at <= ? ORDER BY id LIMIT ?",
            (now or utcnow(), limit))
        return [_row(r) for r in rows]

    def sending_outbox(self, *, limit: int = 100) -> list[OutboxRow]:
        """Rows left in state ``sending`` (by a sender that died mid-transfer), oldest first."""
        try:
            rows = self.conn.execute("SELECT * FROM outbox WHERE state = 'sending' ORDER BY id LIMIT ?",
                                     (limit,)).fetchall()
        except sqlite3.Error as exc:
            raise StoreError(f"cannot read the outbox ({exc.__class__.__name__})", remedy="check the disk") from exc
        return [_row(r) for r in rows]

    def count_undelivered(self, *, due_before: str | None = None) -> int:
        """Rows not yet delivered; with ``due_before``, only those whose next attempt is earlier."""
        if due_before is None:
            row = self.conn.execute("SELECT count(*) FROM outbox WHERE state != 'delivered'").fetchone()
        else:
            row = self.conn.execute("SELECT count(*) FROM outbox WHERE state != 'delivered' AND next_attempt_at < ?",
                                    (due_before,)).fetchone()
        return int(row[0])

    def outbox_counts(self) -> dict[str, int]:
        """Number of outbox rows per state (states with no row are left out)."""
        rows = self.conn.execute("SELECT state, count(*) FROM outbox GROUP BY state").fetchall()
        return {str(s): int(n) for s, n in rows}

    def last_delivered_at(self) -> str | None:
        """When the newest delivery was recorded (None before the first one)."""
        row = self.conn.execute("SELECT MAX(delivered_at) FROM outbox").fetchone()
        return str(row[0]) if row is not None and row[0] else None

    def delivered_since(self, after_id: int = 0, *, limit: int = 100) -> list[tuple[OutboxRow, str, str]]:
        """Delivered outbox rows with an id above ``after_id``, oldest first, each with its document's
        result code and document type code (for the station console)."""
        rows = self.conn.execute(
            "SELECT o.*, d.result_code AS doc_code, d.document_type_code AS doc_type FROM outbox o "
            "JOIN documents d ON d.id = o.document_id WHERE o.state = 'delivered' AND o.id > ? ORDER BY o.id LIMIT ?",
            (after_id, limit))
        return [(_row(r), str(r["doc_code"]), str(r["doc_type"])) for r in rows]

    def _set_outbox(self, outbox_id: int, sql: str, params: tuple[Any, ...], action: str,
                    details: dict[str, Any], actor: str) -> OutboxRow:
        with self.transaction() as c:
            row = c.execute("SELECT * FROM outbox WHERE id = ?", (outbox_id,)).fetchone()
            if row is None:
                raise NotFoundError(f"outbox row {outbox_id} does not exist", remedy="list pending rows again")
            c.execute(sql, (*params, outbox_id))
            audit.append(c, actor=actor, action=action, subject=row["document_id"],
                         details={"outbox_id": outbox_id, **details}, allowed=(f"outbox/{outbox_id}",))
            updated = c.execute("SELECT * FROM outbox WHERE id = ?", (outbox_id,)).fetchone()
        return _row(updated)

    def mark_sending(self, outbox_id: int, *, actor: str) -> OutboxRow:
        """Record an upload attempt starting (state ``sending``, attempts + 1) by ``actor``."""
        return self._set_outbox(outbox_id, "UPDATE outbox SET state='sending', attempts=attempts+1 WHERE id = ?",
                                (), "outbox_sending", {}, actor)

    def mark_delivered(self, outbox_id: int, *, actor: str) -> OutboxRow:
        """Record the province's application ack for this row (reported by ``actor``)."""
        return self._set_outbox(outbox_id, "UPDATE outbox SET state='delivered', delivered_at=?, last_error=NULL "
                                "WHERE id = ?", (utcnow(),), "outbox_delivered", {}, actor)

    def mark_failed(self, outbox_id: int, error: str, *, next_attempt_at: str, actor: str) -> OutboxRow:
        """Record a failed attempt and when to retry (``error`` must hold no personal data)."""
        return self._set_outbox(outbox_id, "UPDATE outbox SET state='failed', last_error=?, next_attempt_at=? "
                                "WHERE id = ?", (error[:500], next_attempt_at), "outbox_failed",
                                {"error": error[:200]}, actor)
