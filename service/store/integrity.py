"""What ``sohoa audit verify`` checks, and the sweep of orphan files a crash can leave.

* the audit hash chain (:func:`service.store.audit.verify_chain`);
* the document rows it binds (:func:`service.store.state.verify_states`): an edit, insertion or
  deletion made outside the service names the table, the row and what differs;
* the device-signed checkpoint of the head (:mod:`service.store.checkpoint`): truncation plus a
  rewound ``audit_head`` is caught without a network;
* every dossier's status and history against its audit rows (:mod:`service.store.dossiers`);
* every document's files (present, hash intact) and its current PDF in the outbox;
* orphan files: content no row names (a crash after the file write, before the commit). They are
  harmless and reported as notes; :func:`sweep_orphans` removes those older than an hour.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from service.store import audit, state
from service.store.dossiers import verify_dossiers
from service.store.files import STALE_TEMP_S

if TYPE_CHECKING:
    from service.store.store import IntegrityReport, Store


def referenced(store: Store) -> set[str]:
    """Every file hash a row of the store names."""
    c = store.conn
    out = {str(r[0]) for r in c.execute("SELECT pdf_sha256 FROM documents")}
    out |= {str(r[0]) for r in c.execute("SELECT sha256 FROM pages")}
    out |= {str(r[0]) for r in c.execute("SELECT pdf_sha256 FROM outbox")}
    if c.execute("SELECT 1 FROM sqlite_master WHERE type='table' AND name='signatures'").fetchone():
        out |= {str(r[0]) for r in c.execute("SELECT pdf_sha256_after FROM signatures")}
    return out


def orphans(store: Store, *, older_than_s: float = 0.0) -> list[str]:
    """Hashes of stored files no row names (only files older than ``older_than_s``)."""
    root = store.files.root
    if not root.is_dir():
        return []
    known = referenced(store)
    cutoff = time.time() - older_than_s
    found: list[str] = []
    for sub in sorted(root.iterdir()):
        if not sub.is_dir() or len(sub.name) != 2:
            continue
        for f in sorted(sub.iterdir()):
            if f.name.startswith(".tmp-"):
                continue
            digest = sub.name + f.name
            try:
                old = f.stat().st_mtime <= cutoff
            except OSError:
                continue
            if digest not in known and old:
                found.append(digest)
    return found


def sweep_orphans(store: Store, *, older_than_s: float | None = None) -> list[str]:
    """Delete orphan files older than ``older_than_s`` (default one hour, so a live write is never raced)."""
    age = STALE_TEMP_S if older_than_s is None else older_than_s
    removed: list[str] = []
    with store.code_lock():  # a digitization writes its files and commits under this lock
        for digest in orphans(store, older_than_s=age):
            try:
                store.files.path_for(digest).unlink()
            except OSError:
                continue
            removed.append(digest)
    return removed


def verify_store(store: Store) -> IntegrityReport:
    """The full read-only integrity check of one store."""
    from service.store.store import IntegrityReport

    chain = audit.verify_chain(store.conn)
    problems = list(chain.problems)
    problems += state.verify_states(store.conn)
    problems += verify_dossiers(store.conn)
    notes: list[str] = []
    if store.checkpointer is not None:
        found, said = store.checkpointer.verify(store.conn)
        problems += found
        notes += said
    docs = store.conn.execute("SELECT id, result_code, pdf_sha256 FROM documents ORDER BY created_at").fetchall()
    for d in docs:
        label = f"document {d['id']}"
        issue = store.files.verify(d["pdf_sha256"])
        if issue:
            problems.append(f"{label}: PDF file {issue}")
        for p in store.conn.execute("SELECT page_no, sha256 FROM pages WHERE document_id = ?", (d["id"],)):
            issue = store.files.verify(p["sha256"])
            if issue:
                problems.append(f"{label}: page {p['page_no']} image {issue}")
        if not store.conn.execute("SELECT 1 FROM outbox WHERE document_id = ? AND pdf_sha256 = ?",
                                  (d["id"], d["pdf_sha256"])).fetchone():
            problems.append(f"{label}: current PDF is not in the outbox")
    lost = orphans(store)
    if lost:
        notes.append(f"{len(lost)} orphan file(s) no row names (left by an interrupted write; "
                     "`sohoa audit verify --sweep` removes those older than an hour)")
    return IntegrityReport(ok=not problems, audit_rows=chain.rows, documents=len(docs), problems=tuple(problems),
                           orphans=tuple(lost), notes=tuple(notes))
