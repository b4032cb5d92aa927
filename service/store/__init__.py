"""Store: SQLite (WAL) + content-addressed files, outbox and hash-chained audit.

How other rooms use it (``Store.open(get_paths(), config.store)``, a context manager):

* read: ``get(code_or_id)``, ``list_documents()``, ``outbox_for(document_id)``, ``audit_entries()``,
  ``files.get(sha256)`` (bytes, re-hashed), ``files.path_for(sha256)``;
* a new version: ``replace_pdf(document_id, pdf_bytes, actor=..., action=..., state=...,
  details={...})`` stores the file durably, updates the document (to the ``state`` the caller
  names, e.g. the signing room's ``DocumentState.SIGNED``), enqueues a new outbox row for the new
  PDF and appends an audit row, in one transaction;
* sync: ``pending_outbox(now=..., limit=...)`` (queued, or failed and due), ``sending_outbox()``
  (left ``sending`` by a sender that died), then ``mark_sending(id, actor=...)``,
  ``mark_delivered(id, actor=...)`` or ``mark_failed(id, error, next_attempt_at=..., actor=...)``;
  ``count_undelivered()``, ``outbox_counts()``, ``last_delivered_at()`` for status pages;
  ``sync_progress()`` opens the worker's transfer-progress tables (:mod:`service.store.sync_state`);
* dossiers: ``open_dossier(...)``, ``set_dossier_status(id, status, expected=..., actor=...)``,
  ``dossier(id)``, ``list_dossiers(status=, owner_id=)``, ``dossier_history(id)``,
  ``dossier_documents(id)``, ``document_kind(document_id)`` (``component`` | ``result``, for sync);
* reports: ``report_facts(start, end, settled_statuses=...)``, ``dossier_papers(ids, until, with_reuse=)``,
  ``record_reuse(dossier_id, component_code, document_id, actor=...)``, ``dossier_reuses(id)``;
* signing: ``add_signature(record)``, ``signatures_of(document_id)``, ``untimestamped_signatures()``;
* backup: :mod:`service.store.snapshot` (consistent copy of the live database, integrity check);
* UI / officers: ``update_metadata(document_id, metadata, actor=...)``, ``audit_append(...)``;
* integrity: ``verify()`` (audit chain + every file), what ``sohoa audit verify`` runs.

Writes use ``transaction()`` (``BEGIN IMMEDIATE``) and append an audit row in the same
transaction under the ``actor`` the caller names; never write personal data into audit ``details``
or logs. The store knows no pipeline stage: it names its own hook points (``service.hooks``) and
decides no state other than ``stored`` for a new document. No other room opens the database.

May import: ``service.domain``, ``service.configbase``, ``service.paths``, ``service.durable``,
``service.hooks``; no pipeline stage (OCR, extract, PDF, signing, sync, capture, use cases).
"""

from service.store.dossiers import DossierRecord, HistoryEntry
from service.store.store import CodeTakenError, IntegrityReport, Store
from service.store.types import (
    DocumentKind,
    DocumentState,
    NewDocument,
    OutboxRow,
    OutboxState,
    PageRecord,
    StoredDocument,
)

__all__ = [
    "CodeTakenError", "DocumentKind", "DocumentState", "DossierRecord", "HistoryEntry", "IntegrityReport",
    "NewDocument", "OutboxRow", "OutboxState", "PageRecord", "Store", "StoredDocument",
]
