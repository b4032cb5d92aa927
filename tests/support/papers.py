"""An owner's stored paper of a given document type (reuse tests), through the spine's Store API."""

from __future__ import annotations

from bench.sync_common import make_pdf, page_png
from service.domain.fields import FieldSource, FieldValue, Metadata
from service.store.store import Store
from service.store.types import NewDocument, PageRecord


def add_paper(store: Store, i: int, doc_type: str, name: str, owner: str, *, issued: str,
              pdf: bytes | None = None, agency: str | None = None) -> str:
    """Store paper ``i`` (result code ``owner.type.ii``) with one page image; returns its result code."""
    m = FieldSource.MANUAL
    meta = Metadata(document_type_code=doc_type, document_name=FieldValue(name, m),
                    number_symbol=FieldValue(f"{i}/2019", m), issue_date=FieldValue(issued, m),
                    issuing_agency=FieldValue(agency, m) if agency else None, owner_id=FieldValue(owner, m))
    new = NewDocument(result_code=f"{owner}.{doc_type}.{i:02d}", metadata=meta,
                      pdf_sha256=store.files.put(pdf if pdf is not None else make_pdf(i)),
                      pages=(PageRecord(1, store.files.put(page_png()), "image/png", 64, 90, 300.0, "grey", "front",
                                        False, None),))
    return store.add_document(new, actor="test").result_code
