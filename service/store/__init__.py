"""Store: SQLite (WAL) + content-addressed files, outbox and hash-chained audit."""

from service.store.store import CodeTakenError, IntegrityReport, Store
from service.store.types import DocumentState, NewDocument, OutboxItem, OutboxState, PageRecord, StoredDocument

__all__ = [
    "CodeTakenError", "DocumentState", "IntegrityReport", "NewDocument", "OutboxItem", "OutboxState",
    "PageRecord", "Store", "StoredDocument",
]
