"""The audit chain binds each document's rows: every audit row about a document records the row state
it produced, so an edit of the SQLite file made outside the service is caught.

A document's *state* is a map from row keys (``documents``, ``dossiers``, ``pages/3``,
``fields/owner_id``, ``outbox/12``) to the digest of that row's content. Each audit row whose
subject is a document carries ``state_json`` = ``{"rows": {key: digest | null}, "hash": H,
"unexplained": [...]}``: the rows that changed since the chain last recorded the document (null:
the row is gone) and ``H``, the hash of the whole state after the change. ``state_json`` is part of
the row's chain hash. :func:`verify_states` replays the chain per document and compares the result
with the rows in the store, naming the table, the row and what differs.

A Store method declares which rows it may change (``allowed``); a change found in any other row
when the method appends its audit row was made outside the service and is recorded under
``unexplained``, so a later legitimate write never silently blesses a forgery.
Digests leave out NULL columns, so a later migration that adds a nullable column keeps old digests.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

#: Allow every row to change (a new document, the first baseline).
ALL_ROWS: tuple[str, ...] = ("",)


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


#: Columns left out of a row's digest: a dossier's status changes after its documents are stored
#: (it is bound by ``dossier_history`` and the audit rows of the dossier instead).
UNBOUND_COLUMNS: dict[str, frozenset[str]] = {"dossiers": frozenset({"status"})}


def row_digest(table: str, row: sqlite3.Row) -> str:
    """Digest of one row's non-NULL columns (128 bits, hex)."""
    skip = UNBOUND_COLUMNS.get(table, frozenset())
    content = {k: row[k] for k in row.keys() if row[k] is not None and k not in skip}
    return hashlib.sha256(_canonical([table, content]).encode("utf-8")).hexdigest()[:32]


def state_hash(state: dict[str, str]) -> str:
    """Hash of a whole document state (sorted keys)."""
    return hashlib.sha256(_canonical(state).encode("utf-8")).hexdigest()


def document_state(conn: sqlite3.Connection, document_id: str) -> dict[str, str]:
    """The current row-digest map of one document (empty if it has no rows at all)."""
    out: dict[str, str] = {}
    doc = conn.execute("SELECT * FROM documents WHERE id = ?", (document_id,)).fetchone()
    if doc is not None:
        out["documents"] = row_digest("documents", doc)
        dossier = conn.execute("SELECT * FROM dossiers WHERE id = ?", (doc["dossier_id"],)).fetchone()
        if dossier is not None:
            out["dossiers"] = row_digest("dossiers", dossier)
    for r in conn.execute("SELECT * FROM pages WHERE document_id = ?", (document_id,)):
        out[f"pages/{r['page_no']}"] = row_digest("pages", r)
    for r in conn.execute("SELECT * FROM fields WHERE document_id = ?", (document_id,)):
        out[f"fields/{r['name']}"] = row_digest("fields", r)
    for r in conn.execute("SELECT * FROM outbox WHERE document_id = ?", (document_id,)):
        out[f"outbox/{r['id']}"] = row_digest("outbox", r)
    return out


@dataclass
class Replayed:
    """A document's state as the chain describes it, with the audit row that last set each key."""

    rows: dict[str, str] = field(default_factory=dict)
    set_by: dict[str, int] = field(default_factory=dict)
    last_seq: int = 0
    problems: list[str] = field(default_factory=list)


def _apply(rep: Replayed, seq: int, state: dict[str, Any], subject: str) -> None:
    for key, digest in (state.get("rows") or {}).items():
        if digest is None:
            rep.rows.pop(key, None)
        else:
            rep.rows[key] = str(digest)
        rep.set_by[key] = seq
    rep.last_seq = seq
    if state.get("hash") != state_hash(rep.rows):
        rep.problems.append(f"audit row {seq}: the state it records for document {subject} does not add up")
    for key in state.get("unexplained") or ():
        rep.problems.append(f"audit row {seq}: {_describe(key, subject)} was changed outside the service "
                            "before this entry")


def replay(conn: sqlite3.Connection, document_id: str) -> Replayed:
    """The document's state as recorded by the chain (empty if never recorded)."""
    rep = Replayed()
    for r in conn.execute("SELECT seq, state_json FROM audit WHERE subject = ? AND state_json IS NOT NULL "
                          "ORDER BY seq", (document_id,)):
        try:
            state = json.loads(r["state_json"])
        except (TypeError, ValueError):
            rep.problems.append(f"audit row {r['seq']}: its recorded state is unreadable")
            continue
        _apply(rep, int(r["seq"]), state, document_id)
    return rep


def has_state(conn: sqlite3.Connection, document_id: str) -> bool:
    """True if the chain has recorded this document's state at least once."""
    return conn.execute("SELECT 1 FROM audit WHERE subject = ? AND state_json IS NOT NULL LIMIT 1",
                        (document_id,)).fetchone() is not None


def is_document(conn: sqlite3.Connection, subject: str | None) -> bool:
    """Whether an audit subject is (or was) a document whose rows the chain binds."""
    if not subject:
        return False
    if conn.execute("SELECT 1 FROM documents WHERE id = ?", (subject,)).fetchone():
        return True
    return has_state(conn, subject)


def _allowed(key: str, allowed: Iterable[str]) -> bool:
    """``allowed`` holds exact keys (``outbox/12``) and prefixes ending in ``/`` (``fields/``); ``""`` is all."""
    return any(a == "" or key == a or (a.endswith("/") and key.startswith(a)) for a in allowed)


def record(conn: sqlite3.Connection, document_id: str, allowed: Iterable[str]) -> dict[str, Any]:
    """The ``state_json`` content for an audit row about ``document_id`` (inside its transaction)."""
    before = replay(conn, document_id).rows
    now = document_state(conn, document_id)
    delta: dict[str, str | None] = {k: v for k, v in now.items() if before.get(k) != v}
    delta.update({k: None for k in before if k not in now})
    allowed = tuple(allowed)
    unexplained = sorted(k for k in delta if not _allowed(k, allowed))
    out: dict[str, Any] = {"rows": delta, "hash": state_hash(now)}
    if unexplained:
        out["unexplained"] = unexplained
    return out


def _describe(key: str, document_id: str) -> str:
    table, _, row = key.partition("/")
    return f"table {table}, row {row + ' of ' if row else ''}document {document_id}"


def _cross_checks(conn: sqlite3.Connection, document_id: str) -> list[str]:
    """Redundant copies that must agree: owner id in three places, current PDF vs the chain."""
    problems: list[str] = []
    doc = conn.execute("SELECT owner_id, metadata_json, pdf_sha256 FROM documents WHERE id = ?",
                       (document_id,)).fetchone()
    if doc is None:
        return problems
    try:
        meta_owner = ((json.loads(doc["metadata_json"]).get("fields") or {}).get("owner_id") or {}).get("value")
    except (TypeError, ValueError, AttributeError):
        meta_owner = "<unreadable>"
        problems.append(f"table documents, row {document_id}: metadata_json is unreadable")
    field_row = conn.execute("SELECT value FROM fields WHERE document_id = ? AND name = 'owner_id'",
                             (document_id,)).fetchone()
    values = {"documents.owner_id": doc["owner_id"] or None, "documents.metadata_json owner_id": meta_owner or None,
              "fields.value (owner_id)": (field_row["value"] if field_row else None) or None}
    if len(set(values.values())) > 1:
        problems.append(f"document {document_id}: the owner identifier differs between "
                        + ", ".join(values))
    last_pdf = None
    for r in conn.execute("SELECT action, details_json FROM audit WHERE subject = ? ORDER BY seq", (document_id,)):
        if str(r["action"]).startswith("outbox_"):
            continue
        try:
            details = json.loads(r["details_json"])
        except (TypeError, ValueError):
            continue
        if isinstance(details, dict) and isinstance(details.get("pdf_sha256"), str):
            last_pdf = details["pdf_sha256"]
    if last_pdf is not None and last_pdf != doc["pdf_sha256"]:
        problems.append(f"table documents, row {document_id}: pdf_sha256 is not the PDF the audit chain "
                        f"recorded ({str(doc['pdf_sha256'])[:12]}… instead of {str(last_pdf)[:12]}…)")
    return problems


def verify_states(conn: sqlite3.Connection) -> list[str]:
    """Every document's rows against the chain; each problem names the table, the row and what differs."""
    problems: list[str] = []
    subjects = [str(r[0]) for r in conn.execute(
        "SELECT DISTINCT subject FROM audit WHERE state_json IS NOT NULL AND subject IS NOT NULL")]
    recorded = set(subjects)
    for r in conn.execute("SELECT id FROM documents"):
        if r["id"] not in recorded:
            problems.append(f"table documents, row {r['id']}: the document is not recorded in the audit chain "
                            "(inserted outside the service)")
    for doc_id in subjects:
        rep = replay(conn, doc_id)
        problems.extend(rep.problems)
        now = document_state(conn, doc_id)
        if rep.rows and not now:
            problems.append(f"table documents, row {doc_id}: the whole document was deleted "
                            f"(its rows were recorded by audit row {rep.last_seq})")
            continue
        for key in sorted(set(rep.rows) | set(now)):
            want, have = rep.rows.get(key), now.get(key)
            if want == have:
                continue
            where = _describe(key, doc_id)
            if have is None:
                problems.append(f"{where}: deleted outside the service (recorded by audit row {rep.set_by[key]})")
            elif want is None:
                problems.append(f"{where}: added outside the service (not in the audit chain)")
            else:
                problems.append(f"{where}: content differs from what audit row {rep.set_by[key]} recorded")
        problems.extend(_cross_checks(conn, doc_id))
    return problems
