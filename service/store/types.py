"""Typed records the store returns (never raw SQLite rows)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from service.domain.fields import Metadata


class DocumentState(StrEnum):
    """The values of a document's ``state`` column.

    The store writes ``stored`` for a new document and otherwise only the state a caller passes to
    :meth:`Store.replace_pdf` (the signing room passes ``signed``); it attaches no meaning to them.
    """

    STORED = "stored"
    SIGNED = "signed"


class DocumentKind(StrEnum):
    """Whether a document is one of its dossier's papers (thành phần) or the procedure's result (kết quả)."""

    COMPONENT = "component"
    RESULT = "result"


class OutboxState(StrEnum):
    """Delivery state of an outbox row."""

    QUEUED = "queued"
    SENDING = "sending"
    DELIVERED = "delivered"
    FAILED = "failed"
    SUPERSEDED = "superseded"  # a newer version of the document replaced it before it was sent


@dataclass(frozen=True, slots=True)
class PageRecord:
    """A stored page image's description (its bytes are in the file store under ``sha256``)."""

    page_no: int
    sha256: str
    media_type: str
    width: int
    height: int
    dpi: float
    colour: str
    side: str
    blank: bool
    sticky_note_of: int | None


@dataclass(frozen=True, slots=True)
class NewDocument:
    """What :meth:`Store.add_document` needs; files must already be in the file store."""

    result_code: str
    metadata: Metadata
    pdf_sha256: str
    pages: tuple[PageRecord, ...]
    declared_pages: int | None = None
    mismatch_reason: str | None = None
    dossier_id: str | None = None
    kind: DocumentKind | None = None
    component_code: str | None = None


@dataclass(frozen=True, slots=True)
class StoredDocument:
    """A document as stored: identity, code, metadata, current PDF, pages and state."""

    id: str
    result_code: str
    dossier_id: str
    document_type_code: str
    owner_id: str | None
    metadata: Metadata
    pdf_sha256: str
    page_count: int
    declared_pages: int | None
    mismatch_reason: str | None
    state: DocumentState
    created_at: str
    updated_at: str
    pages: tuple[PageRecord, ...]
    kind: DocumentKind = DocumentKind.COMPONENT
    component_code: str | None = None


@dataclass(frozen=True, slots=True)
class OutboxRow:
    """One queued upload of one version (``pdf_sha256``) of a document."""

    id: int
    document_id: str
    pdf_sha256: str
    state: OutboxState
    attempts: int
    next_attempt_at: str
    last_error: str | None
    created_at: str
    delivered_at: str | None
