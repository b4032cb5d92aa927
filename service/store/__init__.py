"""Store: SQLite (WAL) + content-addressed files, outbox and hash-chained audit.

How other rooms use it (``Store.open(get_paths(), config.store)``, a context manager):

* read: ``get(code_or_id)``, ``list_documents()``, ``outbox_for(document_id)``, ``audit_entries()``,
  ``files.get(sha256)`` (bytes, re-hashed), ``files.path_for(sha256)``;
* signing: ``replace_pdf(document_id, pdf_bytes, actor=..., action="signed_officer",
  state=DocumentState.SIGNED, details={...})`` stores the file durably, updates the document,
  enqueues a new outbox row for the new PDF and appends an audit row, in one transaction;
* sync: ``pending_outbox(now=..., limit=...)`` (queued, or failed and due), then
  ``mark_sending(id)``, ``mark_delivered(id)`` or ``mark_failed(id, error, next_attempt_at=...)``;
* UI / officers: ``update_metadata(document_id, metadata, actor=...)``, ``audit_append(...)``;
* integrity: ``verify()`` (audit chain + every file), what ``sohoa audit verify`` runs.

Writes use ``transaction()`` (``BEGIN IMMEDIATE``) and append an audit row in the same
transaction; never write personal data into audit ``details`` or logs.

May import: ``service.domain``, ``service.configbase``, ``service.paths``; no pipeline stage (OCR,
extract, PDF, signing, sync, capture, use cases). The only room that opens SQLite on the device.
"""

from service.store.store import CodeTakenError, IntegrityReport, Store
from service.store.types import DocumentState, NewDocument, OutboxItem, OutboxState, PageRecord, StoredDocument

__all__ = [
    "CodeTakenError", "DocumentState", "IntegrityReport", "NewDocument", "OutboxItem", "OutboxState",
    "PageRecord", "Store", "StoredDocument",
]
