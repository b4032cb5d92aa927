"""What the kiosk reads from (and appends to) the store: audit rows, an owner's papers, queue state.

Thin read models on top of :class:`service.store.store.Store`; each call opens the store, does
one thing and closes it, so the web server's threads never share a SQLite connection.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from service.paths import Paths
from service.store.store import Store
from service.store.types import OutboxState
from service.usecases.documents import list_documents, show_document

AUDIT_DETAIL_MAX = 200


@dataclass(frozen=True, slots=True)
class OwnedPaper:
    """An already digitized paper of an owner, offered for reuse."""

    result_code: str
    document_type_code: str
    document_name: str
    created_at: str
    state: str


@dataclass(frozen=True, slots=True)
class DocumentStatus:
    """Where one document of a dossier stands (no personal data)."""

    result_code: str
    state: str
    delivery: str  # queued | sending | delivered | failed | none


@dataclass(frozen=True, slots=True)
class QueueSummary:
    """Outbox counts by state, the time of the last delivery and the sync worker's counters."""

    counts: dict[str, int]
    last_delivered_at: str | None
    sync_state: dict[str, str]


def audit(paths: Paths, actor: str, action: str, subject: str, details: dict[str, Any]) -> None:
    """Append one row to the hash-chained audit log (details are short strings, no personal data)."""
    clean = {k: str(v)[:AUDIT_DETAIL_MAX] for k, v in details.items()}
    with Store.open(paths) as store:
        store.audit_append(actor=actor, action=action, subject=subject or None, details=clean)


def record_corrections(paths: Paths, subject: str, entries: list[dict[str, Any]]) -> int:
    """Write review corrections (extraction room's entry format) to the audit log; returns how many."""
    from service.extract.review import record_audit

    with Store.open(paths) as store:
        return record_audit(store, subject, entries)


def recent_audit(paths: Paths, limit: int = 20, prefix: Iterable[str] = ()) -> list[dict[str, str]]:
    """The newest audit rows (optionally only actions starting with one of ``prefix``)."""
    wanted = tuple(prefix)
    with Store.open(paths) as store:
        rows = store.audit_entries()
    out = [{"at": e.at, "actor": e.actor, "action": e.action, "subject": e.subject or ""}
           for e in rows if not wanted or e.action.startswith(wanted)]
    return out[-limit:][::-1]


def papers_of_owner(paths: Paths, owner_id: str, limit: int = 50) -> list[OwnedPaper]:
    """The owner's digitized papers in the local store, newest first (spine's ``list_documents``)."""
    if not owner_id:
        return []
    docs = [v.document for v in list_documents(paths=paths, limit=100_000) if v.document.owner_id == owner_id]
    out = []
    for d in sorted(docs, key=lambda d: d.created_at, reverse=True)[:limit]:
        name_fv = d.metadata.document_name
        out.append(OwnedPaper(d.result_code, d.document_type_code, name_fv.value if name_fv else "",
                              d.created_at, d.state.value))
    return out


def document_status(paths: Paths, result_code: str) -> DocumentStatus:
    """State and delivery of one document by its result code (spine's ``show_document``)."""
    view = show_document(result_code, paths=paths)
    return DocumentStatus(view.document.result_code, view.document.state.value, view.outbox_state)


def queue_summary(paths: Paths) -> QueueSummary:
    """Outbox depth by state and the last delivery time (for the technician page)."""
    with Store.open(paths) as store:
        found = store.outbox_counts()
        last = store.last_delivered_at()
        with store.sync_progress() as progress:
            sync_state = progress.state()
    counts = {s.value: 0 for s in OutboxState}
    counts.update(found)
    if "last_connect" in sync_state and sync_state["last_connect"].isdigit():
        when = dt.datetime.fromtimestamp(int(sync_state["last_connect"]), dt.UTC)
        sync_state["last_connect"] = when.isoformat(timespec="seconds")
    return QueueSummary(counts, last, sync_state)


def signed_roles(paths: Paths, result_code: str) -> set[str]:
    """The roles (``officer``, ``agency``) whose signatures a stored document carries."""
    with Store.open(paths) as store:
        doc = store.get(result_code)
        return {s.role for s in store.signatures_of(doc.id)}
