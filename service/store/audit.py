"""Append-only, hash-chained audit log (Bình Phước 1403/QĐ-UBND Art. 5: no unnoticed change).

Each row stores ``prev_hash`` (the previous row's ``row_hash``, or :data:`GENESIS`) and
``row_hash = sha256(canonical JSON of seq, at, actor, action, subject, details + prev_hash)``.
:func:`verify_chain` recomputes every link and names the first row that was edited, removed or
inserted; ``audit_head`` (updated in the same transaction) catches removal of the newest rows.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from service.store import state
from service.store.db import utcnow

GENESIS = "0" * 64


def canonical_json(value: Any) -> str:
    """Deterministic JSON: sorted keys, no spaces, UTF-8 kept as is."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def row_hash(seq: int, at: str, actor: str, action: str, subject: str | None, details: dict[str, Any],
             prev_hash: str, state: dict[str, Any] | None = None) -> str:
    """The chain hash of one audit row (``state``, the document rows it bound, is covered when present)."""
    body: dict[str, Any] = {"seq": seq, "at": at, "actor": actor, "action": action, "subject": subject,
                            "details": details}
    if state is not None:
        body["state"] = state
    content = canonical_json(body)
    return hashlib.sha256((content + prev_hash).encode("utf-8")).hexdigest()


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """One audit row as stored."""

    seq: int
    at: str
    actor: str
    action: str
    subject: str | None
    details: dict[str, Any]
    prev_hash: str
    row_hash: str
    state: dict[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class AuditReport:
    """Result of :func:`verify_chain`: ``ok`` and, when not, which row and why."""

    ok: bool
    rows: int
    problems: tuple[str, ...] = ()
    first_bad_seq: int | None = None


def append(conn: sqlite3.Connection, *, actor: str, action: str, subject: str | None,
           details: dict[str, Any], allowed: Iterable[str] = ()) -> AuditEntry:
    """Append a row inside the caller's open write transaction; returns it.

    When ``subject`` is a document, the row also records the document's row state
    (:mod:`service.store.state`); ``allowed`` names the row keys (prefixes) this change may touch.
    """
    last = conn.execute("SELECT seq, row_hash FROM audit ORDER BY seq DESC LIMIT 1").fetchone()
    seq = int(last["seq"]) + 1 if last else 1
    prev = str(last["row_hash"]) if last else GENESIS
    at = utcnow()
    bound = state.record(conn, subject, allowed) if subject and state.is_document(conn, subject) else None
    digest = row_hash(seq, at, actor, action, subject, details, prev, bound)
    conn.execute(
        "INSERT INTO audit(seq, at, actor, action, subject, details_json, prev_hash, row_hash, state_json) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (seq, at, actor, action, subject, canonical_json(details), prev, digest,
         None if bound is None else canonical_json(bound)),
    )
    conn.execute("INSERT INTO audit_head(id, seq, row_hash) VALUES (1, ?, ?) "
                 "ON CONFLICT(id) DO UPDATE SET seq=excluded.seq, row_hash=excluded.row_hash", (seq, digest))
    return AuditEntry(seq, at, actor, action, subject, details, prev, digest, bound)


def _state_of(r: sqlite3.Row, *, strict: bool = False) -> dict[str, Any] | None:
    """The row's bound document state (None for rows that bind none)."""
    raw = r["state_json"] if "state_json" in r.keys() else None
    if raw is None:
        return None
    try:
        value = json.loads(raw)
    except (TypeError, ValueError):
        if strict:
            raise ValueError("unreadable state_json") from None
        return {"unreadable": True}
    return value if isinstance(value, dict) else {"unreadable": True}


def entries(conn: sqlite3.Connection, *, subject: str | None = None) -> list[AuditEntry]:
    """Audit rows in order (optionally only those about ``subject``)."""
    sql = "SELECT * FROM audit" + (" WHERE subject = ?" if subject is not None else "") + " ORDER BY seq"
    rows = conn.execute(sql, (subject,) if subject is not None else ()).fetchall()
    out = []
    for r in rows:
        try:
            details = json.loads(r["details_json"])
        except (TypeError, ValueError):
            details = {"unreadable": True}
        out.append(AuditEntry(int(r["seq"]), r["at"], r["actor"], r["action"], r["subject"], details,
                              r["prev_hash"], r["row_hash"], _state_of(r)))
    return out


def verify_chain(conn: sqlite3.Connection) -> AuditReport:
    """Recompute the chain; report the first edited, removed or re-ordered row."""
    problems: list[str] = []
    first_bad: int | None = None
    prev = GENESIS
    expected_seq = 1
    rows = conn.execute("SELECT * FROM audit ORDER BY seq").fetchall()

    def bad(seq: int, why: str) -> None:
        nonlocal first_bad
        problems.append(f"audit row {seq}: {why}")
        if first_bad is None:
            first_bad = seq

    for r in rows:
        seq = int(r["seq"])
        if seq != expected_seq:
            bad(expected_seq, f"missing (rows jump from {expected_seq - 1} to {seq})")
        if r["prev_hash"] != prev:
            bad(seq, "does not link to the row before it (a row before it was removed or changed)")
        try:
            details = json.loads(r["details_json"])
        except (TypeError, ValueError):
            details = None
        try:
            bound = _state_of(r, strict=True)
        except ValueError:
            details = None
            bound = None
        if details is None or row_hash(seq, r["at"], r["actor"], r["action"], r["subject"], details,
                                       r["prev_hash"], bound) != r["row_hash"]:
            bad(seq, "content was edited after it was written")
        prev = r["row_hash"]
        expected_seq = seq + 1
    head = conn.execute("SELECT seq, row_hash FROM audit_head WHERE id = 1").fetchone()
    last_seq = int(rows[-1]["seq"]) if rows else 0
    if head is None and rows:
        bad(last_seq, "the chain head record is missing")
    elif head is not None and (int(head["seq"]) != last_seq or head["row_hash"] != prev):
        bad(min(int(head["seq"]), last_seq + 1) if int(head["seq"]) > last_seq else int(head["seq"]),
            f"the newest rows were removed or changed (head says row {int(head['seq'])}, log ends at {last_seq})")
    for trigger in ("audit_no_update", "audit_no_delete"):
        if not conn.execute("SELECT 1 FROM sqlite_master WHERE type='trigger' AND name=?", (trigger,)).fetchone():
            problems.append(f"append-only guard {trigger} was removed")
    return AuditReport(ok=not problems, rows=len(rows), problems=tuple(problems), first_bad_seq=first_bad)
