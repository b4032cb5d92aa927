"""Use case behind ``sohoa demo`` / ``make run``: digitize the bundled sample dossier end to end.

The sample paper is rendered by the project's own renderer (:mod:`service.synth`) from a packaged
sample (invented person, no real personal data): a one-sheet certificate captured duplex, whose
blank back is detected and kept. It then runs the whole spine and reports code, PDF and outbox.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path

from PIL import Image

from service.capture import RawPage
from service.domain.fields import FieldSource, FieldValue
from service.paths import Paths, get_paths
from service.usecases.digitize import DigitizeRequest, DigitizeResult, digitize
from service.usecases.documents import export_document

SAMPLE_ID = "gxn-cu-tru-0001"
SAMPLE_DOCUMENT_TYPE = "DEMO.GXN-CU-TRU"
DPI = 300


@dataclass(frozen=True, slots=True)
class DemoResult:
    """The digitization result plus a note on which optional stages ran."""

    result: DigitizeResult
    exported_pdf: Path
    blank_backs: int
    notes: tuple[str, ...]


def _jpeg(img: Image.Image) -> bytes:
    buf = io.BytesIO()
    img.convert("RGB").save(buf, "JPEG", quality=90, dpi=(DPI, DPI))
    return buf.getvalue()


def sample_request() -> DigitizeRequest:
    """The sample dossier as a digitize request: rendered front page(s), each followed by a blank back."""
    from service.synth.render import render_document
    from service.synth.samples import sample_document

    doc = sample_document(SAMPLE_ID)
    rendered = render_document(doc, dpi=DPI)
    pages: list[RawPage] = []
    for i, page in enumerate(rendered, start=1):
        pages.append(RawPage(_jpeg(page.image), f"sample page {i} front"))
        pages.append(RawPage(_jpeg(Image.new("RGB", page.image.size, (250, 250, 247))), f"sample page {i} back"))
    owner = doc.owner
    fields = {
        "document_name": doc.doc_type,
        "number_symbol": doc.number_symbol or "",
        "issue_date": doc.issue_date,
        "issuing_agency": doc.issuing_body,
    }
    if owner is not None:
        fields.update(owner_name=owner.full_name, owner_birth_date=owner.date_of_birth,
                      valid_until=owner.valid_until)
    return DigitizeRequest(
        pages=tuple(pages), document_type_code=SAMPLE_DOCUMENT_TYPE,
        owner_id=owner.personal_id if owner is not None else None,
        fields={k: FieldValue(v, FieldSource.MANUAL, 1.0) for k, v in fields.items() if v},
        declared_pages=len(rendered), duplex=True, actor="demo",
    )


def run_demo(*, paths: Paths | None = None) -> DemoResult:
    """Digitize the sample dossier into the store under ``paths`` (default: ``SOHOA_HOME``)."""
    p = (paths or get_paths()).ensure()
    request = sample_request()
    result = digitize(request, paths=p)
    exported = export_document(result.result_code, p.exports, paths=p)
    blank = sum(1 for pg in result.document.pages if pg.blank and pg.side == "back")
    notes = ("text layer: none (no OCR engine wired yet)", "signature: none (no signing use case wired yet)")
    return DemoResult(result=result, exported_pdf=exported.pdf, blank_backs=blank, notes=notes)
