"""The outbox table: one row per document version waiting to reach the province.

:class:`OutboxTable` is a part of :class:`service.store.store.Store` (a mixin); other rooms reach
these methods through ``Store``. Every state change appends an audit row in the same transaction
under the ``actor`` the caller names (the store does not decide who acts).

One version out: each new version of a document supersedes the document's rows that are not
being sent and not delivered (``queued`` / ``failed`` → ``superseded``, recorded in the audit
row of the change); a row in ``sending`` may finish, a delivered one is never touched. A version
that is not yet final (the signatures its kind needs are missing) waits as ``queued`` with
``next_attempt_at`` = :data:`HOLD_UNTIL`: not due, and counted as "awaiting signature".
"""

from __future__ import annotations

import sqlite3
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Any

from service.domain.errors import NotFoundError, StoreError
from service.store import audit
from service.store.db import utcnow
from service.store.types import OutboxRow, OutboxState

#: ``next_attempt_at`` of a version that is not final yet: never due until a final version supersedes it.
HOLD_UNTIL = "9999-12-31T00:00:00+00:00"

#: States shown as "in progress" by ``sohoa sync status`` (superseded and delivered rows are closed).
OPEN_STATES = ("queued", "sending", "failed")


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
    def _enqueue(c: sqlite3.Connection, doc_id: str, pdf_sha256: str, now: str, *, due: bool = True) -> list[int]:
        """Queue a new version (held when not ``due``); returns the ids of the rows it superseded."""
        superseded = supersede_older(c, doc_id)
        c.execute("INSERT INTO outbox(document_id, pdf_sha256, state, attempts, next_attempt_at, created_at) "
                  "VALUES (?, ?, 'queued', 0, ?, ?)", (doc_id, pdf_sha256, now if due else HOLD_UNTIL, now))
        return superseded

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
        """Rows still to send (queued, sending, failed; superseded rows are closed); with ``due_before``,
        only those whose next attempt is earlier."""
        if due_before is None:
            row = self.conn.execute("SELECT count(*) FROM outbox WHERE state IN ('queued', 'sending', 'failed')"
                                    ).fetchone()
        else:
            row = self.conn.execute("SELECT count(*) FROM outbox WHERE state IN ('queued', 'sending', 'failed') "
                                    "AND next_attempt_at < ?", (due_before,)).fetchone()
        return int(row[0])

    def count_awaiting_signature(self) -> int:
        """Versions held in the outbox because the signatures their kind needs are missing."""
        row = self.conn.execute("SELECT count(*) FROM outbox WHERE state = 'queued' AND next_attempt_at = ?",
                                (HOLD_UNTIL,)).fetchone()
        return int(row[0])

    def sync_context(self, document_id: str) -> dict[str, str | None]:
        """What a manifest says about the document's dossier: ``dossier_code``, ``procedure_code``, ``kind``.

        Read from optional columns (``documents.kind``; ``dossiers.code`` / ``procedure_code``) when a
        later migration adds them; absent ones are None (the dossier id stands for its code).
        """
        doc = self.conn.execute("SELECT * FROM documents WHERE id = ?", (document_id,)).fetchone()
        if doc is None:
            raise NotFoundError("no document has that id", remedy="list the outbox again")
        dossier = self.conn.execute("SELECT * FROM dossiers WHERE id = ?", (doc["dossier_id"],)).fetchone()
        d_keys = set(dossier.keys()) if dossier is not None else set()

        def opt(row: sqlite3.Row | None, keys: set[str], name: str) -> str | None:
            value = row[name] if row is not None and name in keys else None
            return str(value) if value else None

        return {"dossier_code": opt(dossier, d_keys, "code") or str(doc["dossier_id"]),
                "procedure_code": opt(dossier, d_keys, "procedure_code"),
                "kind": opt(doc, set(doc.keys()), "kind")}

    def release_held(self, document_id: str, *, actor: str) -> OutboxRow | None:
        """Make the document's held newest version due now (e.g. after the policy changed); None if none held."""
        with self.transaction() as c:
            row = c.execute("SELECT * FROM outbox WHERE document_id = ? AND state = 'queued' AND next_attempt_at = ? "
                            "ORDER BY id DESC LIMIT 1", (document_id, HOLD_UNTIL)).fetchone()
            if row is None:
                return None
            c.execute("UPDATE outbox SET next_attempt_at = ? WHERE id = ?", (utcnow(), row["id"]))
            audit.append(c, actor=actor, action="outbox_released", subject=document_id,
                         details={"outbox_id": int(row["id"])}, allowed=(f"outbox/{row['id']}",))
            updated = c.execute("SELECT * FROM outbox WHERE id = ?", (row["id"],)).fetchone()
        return _row(updated)

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


def supersede_older(c: sqlite3.Connection, document_id: str) -> list[int]:
    """Inside the caller's transaction: close the document's rows not being sent and not delivered
    (``queued`` / ``failed`` → ``superseded``) and drop their transfer progress; returns their ids.

    The caller's audit row (which must allow ``outbox/``) records the change.
    """
    ids = [int(r[0]) for r in c.execute("SELECT id FROM outbox WHERE document_id = ? AND state IN ('queued', 'failed')",
                                        (document_id,))]
    for oid in ids:
        c.execute("UPDATE outbox SET state = 'superseded', next_attempt_at = ? WHERE id = ?", (utcnow(), oid))
        c.execute("DELETE FROM sync_progress WHERE outbox_id = ?", (oid,))
    return ids


def close_stale_rows(c: sqlite3.Connection, *, actor: str = "migration-0007") -> int:
    """Data fix of migration 0007, inside its transaction: per document, rows with a newer row that were
    never attempted (queued, 0 attempts) or were refused for a missing signature become ``superseded``,
    one audit row per document. Delivered and sending rows are untouched. Returns the rows closed."""
    rows = c.execute(
        "SELECT o.id, o.document_id, o.state FROM outbox o WHERE EXISTS (SELECT 1 FROM outbox n "
        "WHERE n.document_id = o.document_id AND n.id > o.id) AND ((o.state = 'queued' AND o.attempts = 0) "
        "OR (o.state = 'failed' AND o.last_error LIKE '%signature-missing%')) ORDER BY o.document_id, o.id"
    ).fetchall()
    by_doc: dict[str, list[tuple[int, str]]] = {}
    for r in rows:
        by_doc.setdefault(str(r[1]), []).append((int(r[0]), str(r[2])))
    for doc_id, items in by_doc.items():
        for oid, _ in items:
            c.execute("UPDATE outbox SET state = 'superseded' WHERE id = ?", (oid,))
            c.execute("DELETE FROM sync_progress WHERE outbox_id = ?", (oid,))
        audit.append(c, actor=actor, action="outbox_superseded", subject=doc_id,
                     details={"outbox_ids": [i for i, _ in items], "previous_states": [s for _, s in items],
                              "reason": "migration 0007: only a document's final version is sent"},
                     allowed=tuple(f"outbox/{i}" for i, _ in items))
    return len(rows)
