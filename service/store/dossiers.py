"""The dossiers table and its status history (mixed into :class:`service.store.store.Store`).

A dossier is opened with its procedure and owner; each status change appends a
``dossier_history`` row and an audit row (subject: the dossier id, details: status, the reason's
SHA-256 (free text stays out of the audit), components, the history row id) in one transaction.
The lifecycle rules are not decided here: the caller (``service.usecases.dossier``) checks them
with :mod:`service.domain.dossier` and passes ``expected`` (the status it checked from), so a
concurrent change is refused, not overwritten. :func:`verify_dossiers` (run by
``sohoa audit verify``) checks every dossier's status and history against the audit chain.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from service.domain.errors import NotFoundError, StoreError
from service.store import audit
from service.store.db import utcnow

OPENED = "dossier_opened"
STATUS_CHANGED = "dossier_status"


@dataclass(frozen=True, slots=True)
class HistoryEntry:
    """One status change of a dossier."""

    status: str
    at: str
    actor: str
    reason: str | None
    components: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class DossierRecord:
    """A dossier as stored (``status`` None: a dossier stored before 0008 or without a lifecycle)."""

    id: str
    procedure_code: str | None
    owner_id: str | None
    status: str | None
    created_by: str | None
    created_at: str


def _digest(text: str | None) -> str | None:
    """SHA-256 of a free-text reason (None for none): what the audit chain records of it."""
    return None if text is None else hashlib.sha256(text.encode("utf-8")).hexdigest()


def _record(row: sqlite3.Row) -> DossierRecord:
    return DossierRecord(row["id"], row["procedure_code"], row["owner_id"], row["status"], row["created_by"],
                         row["created_at"])


class DossierTable:
    """Dossier rows and their history (mixed into :class:`Store`)."""

    conn: sqlite3.Connection

    if TYPE_CHECKING:  # provided by Store, the class this one is mixed into
        def transaction(self) -> AbstractContextManager[sqlite3.Connection]:
            """A write transaction (``BEGIN IMMEDIATE``)."""

    def open_dossier(self, dossier_id: str, *, procedure_code: str, owner_id: str | None, status: str,
                     actor: str) -> DossierRecord:
        """Create the dossier with its first status; :class:`StoreError` if the id is taken."""
        now = utcnow()
        with self.transaction() as c:
            if c.execute("SELECT 1 FROM dossiers WHERE id = ?", (dossier_id,)).fetchone():
                raise StoreError(f"dossier {dossier_id} already exists", remedy="open it with 'sohoa dossier show'")
            c.execute("INSERT INTO dossiers(id, owner_id, created_at, procedure_code, status, created_by) "
                      "VALUES (?, ?, ?, ?, ?, ?)", (dossier_id, owner_id, now, procedure_code, status, actor))
            self._history(c, dossier_id, status, actor, None, (), action=OPENED,
                          extra={"procedure_code": procedure_code})
        return self.dossier(dossier_id)

    def set_dossier_status(self, dossier_id: str, status: str, *, expected: str, actor: str,
                           reason: str | None = None, components: tuple[str, ...] = ()) -> DossierRecord:
        """Move the dossier from ``expected`` to ``status``; refused if it is no longer ``expected``."""
        with self.transaction() as c:
            row = c.execute("SELECT status FROM dossiers WHERE id = ?", (dossier_id,)).fetchone()
            if row is None:
                raise NotFoundError(f"no dossier {dossier_id}", remedy="check the code with 'sohoa dossier list'")
            if row["status"] != expected:
                raise StoreError(f"dossier {dossier_id} changed meanwhile (now {row['status']})",
                                 remedy="look at it again with 'sohoa dossier show' and retry")
            c.execute("UPDATE dossiers SET status = ? WHERE id = ?", (status, dossier_id))
            self._history(c, dossier_id, status, actor, reason, components, action=STATUS_CHANGED,
                          extra={"from": expected})
        return self.dossier(dossier_id)

    @staticmethod
    def _history(c: sqlite3.Connection, dossier_id: str, status: str, actor: str, reason: str | None,
                 components: tuple[str, ...], *, action: str, extra: dict[str, Any]) -> None:
        now = utcnow()
        cur = c.execute("INSERT INTO dossier_history(dossier_id, status, at, actor, reason, components_json, "
                        "audit_seq) VALUES (?, ?, ?, ?, ?, ?, 0)",
                        (dossier_id, status, now, actor, reason, json.dumps(list(components), ensure_ascii=False)))
        hid = int(cur.lastrowid or 0)
        # the reason is free text that may name people: the chain binds its hash, the history row holds it
        entry = audit.append(c, actor=actor, action=action, subject=dossier_id,
                             details={"status": status, "history_id": hid, "reason_sha256": _digest(reason),
                                      "components": list(components), **extra})
        c.execute("UPDATE dossier_history SET audit_seq = ? WHERE id = ?", (entry.seq, hid))

    def dossier(self, dossier_id: str) -> DossierRecord:
        """The dossier ``dossier_id``; :class:`NotFoundError` if none."""
        row = self.conn.execute("SELECT * FROM dossiers WHERE id = ?", (dossier_id,)).fetchone()
        if row is None:
            raise NotFoundError(f"no dossier {dossier_id}", remedy="check the code with 'sohoa dossier list'")
        return _record(row)

    def list_dossiers(self, *, status: str | None = None, owner_id: str | None = None,
                      limit: int = 500) -> list[DossierRecord]:
        """Dossiers, newest first, optionally of one status and/or one owner."""
        sql, args = "SELECT * FROM dossiers WHERE 1 = 1", list[str]()
        if status is not None:
            sql, args = sql + " AND status = ?", [*args, status]
        if owner_id is not None:
            sql, args = sql + " AND owner_id = ?", [*args, owner_id]
        rows = self.conn.execute(sql + " ORDER BY created_at DESC, id LIMIT ?", (*args, limit)).fetchall()
        return [_record(r) for r in rows]

    def dossier_ids(self, prefix: str) -> list[str]:
        """Ids of the dossiers whose id starts with ``prefix`` (the day's running numbers)."""
        rows = self.conn.execute("SELECT id FROM dossiers WHERE substr(id, 1, ?) = ?", (len(prefix), prefix))
        return [str(r["id"]) for r in rows]

    def dossier_history(self, dossier_id: str) -> list[HistoryEntry]:
        """The dossier's status changes, oldest first."""
        rows = self.conn.execute("SELECT * FROM dossier_history WHERE dossier_id = ? ORDER BY id", (dossier_id,))
        return [HistoryEntry(r["status"], r["at"], r["actor"], r["reason"], tuple(json.loads(r["components_json"])))
                for r in rows]

    def dossier_documents(self, dossier_id: str) -> list[tuple[str, str, str | None]]:
        """``(document id, kind, component code)`` of the dossier's documents, oldest first."""
        rows = self.conn.execute("SELECT id, kind, component_code FROM documents WHERE dossier_id = ? "
                                 "ORDER BY created_at, id", (dossier_id,))
        return [(r["id"], r["kind"] or "component", r["component_code"]) for r in rows]

    def document_kind(self, document_id: str) -> str:
        """Whether the document is a dossier's ``component`` or its ``result`` (older rows: component)."""
        row = self.conn.execute("SELECT kind FROM documents WHERE id = ?", (document_id,)).fetchone()
        if row is None:
            raise NotFoundError("no document has that id", remedy="check the code with 'sohoa list'")
        return str(row["kind"] or "component")


def verify_dossiers(conn: sqlite3.Connection) -> list[str]:
    """Each dossier's status equals its last history row, and each history row its audit row."""
    problems: list[str] = []
    audited: dict[int, sqlite3.Row] = {
        int(r["seq"]): r for r in conn.execute(
            "SELECT seq, subject, details_json FROM audit WHERE action IN (?, ?)", (OPENED, STATUS_CHANGED))}
    last: dict[str, str] = {}
    seen: set[int] = set()
    for h in conn.execute("SELECT * FROM dossier_history ORDER BY id"):
        where = f"table dossier_history, row {h['id']} of dossier {h['dossier_id']}"
        a = audited.get(int(h["audit_seq"]))
        details = json.loads(a["details_json"]) if a is not None else {}
        details = details if isinstance(details, dict) else {}
        recorded = (a["subject"] if a is not None else None, details.get("history_id"), details.get("status"),
                    details.get("reason_sha256"), details.get("components"))
        if recorded != (h["dossier_id"], h["id"], h["status"], _digest(h["reason"]),
                        json.loads(h["components_json"])):
            problems.append(f"{where}: differs from what the audit chain recorded")
        seen.add(int(h["audit_seq"]))
        last[str(h["dossier_id"])] = str(h["status"])
    for seq, a in audited.items():
        if seq not in seen:
            problems.append(f"table dossier_history: the change recorded by audit row {seq} for dossier "
                            f"{a['subject']} was deleted outside the service")
    for d in conn.execute("SELECT id, status FROM dossiers"):
        if d["status"] != last.get(str(d["id"])):
            problems.append(f"table dossiers, row {d['id']}: status {d['status']!r} is not the last status "
                            "the audit chain recorded")
    return problems
