"""Use case behind ``sohoa demo`` / ``make run``: digitize the bundled sample dossier end to end.

The sample paper is rendered by the project's own renderer (:mod:`service.synth`) from a packaged
sample (invented person, no real personal data): a one-sheet certificate captured duplex, whose
blank back is detected and kept. When the other rooms' stages are installed, the demo also runs
them: OCR (invisible text layer), extraction (the officer's typed values confirm or correct each
extracted field) and the officer + agency signatures with the development tokens. Each optional
stage that cannot run is reported in ``notes`` instead of failing the demo.
"""

from __future__ import annotations

import io
import logging
import os
from dataclasses import dataclass
from pathlib import Path

from PIL import Image

from service.capture import RawPage
from service.config import Config, load_config
from service.domain.errors import SohoaError
from service.domain.fields import FieldSource, FieldValue
from service.ocr.types import OcrPage
from service.paths import Paths, get_paths
from service.usecases.digitize import DigitizeRequest, DigitizeResult
from service.usecases.documents import DocumentView, export_document, show_document
from service.usecases.procedure import ProcedureResult, SignStep, run, sign

log = logging.getLogger(__name__)

SAMPLE_ID = "gxn-cu-tru-0001"
#: Document-type catalog code of "Giấy xác nhận thông tin về cư trú" (service/extract catalogue).
SAMPLE_DOCUMENT_TYPE = "GT.XN_CU_TRU"
DPI = 300
#: The documented PIN of the development SoftHSM tokens (``sohoa token init-dev``); used only for
#: tokens labelled ``SOHOA-DEV-*`` when ``SOHOA_PIN`` is not set.
DEV_TOKEN_PIN = "123456"


@dataclass(frozen=True, slots=True)
class DemoResult:
    """The digitization result, the final stored state and what each optional stage did."""

    result: DigitizeResult
    final: DocumentView
    exported_pdf: Path
    blank_backs: int
    notes: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class _Sample:
    fronts: list[Image.Image]
    typed: dict[str, str]
    owner_id: str | None


def _jpeg(img: Image.Image) -> bytes:
    buf = io.BytesIO()
    img.convert("RGB").save(buf, "JPEG", quality=90, dpi=(DPI, DPI))
    return buf.getvalue()


def _sample() -> _Sample:
    from service.synth.render import render_document
    from service.synth.samples import sample_document

    doc = sample_document(SAMPLE_ID)
    fronts = [page.image for page in render_document(doc, dpi=DPI)]
    typed = {"document_name": doc.doc_type, "number_symbol": doc.number_symbol or "",
             "issue_date": doc.issue_date, "issuing_agency": doc.issuing_body}
    owner = doc.owner
    if owner is not None:
        typed.update(owner_name=owner.full_name, owner_birth_date=owner.date_of_birth,
                     valid_until=owner.valid_until, residence=owner.residence)
    return _Sample(fronts, {k: v for k, v in typed.items() if v}, owner.personal_id if owner else None)


def _ocr(fronts: list[bytes], config: Config) -> tuple[list[OcrPage] | None, str]:
    try:
        from service.usecases.procedure import read_page

        pages = [read_page(data, config) for data in fronts]
    except ImportError as exc:
        return None, f"text layer: skipped (OCR engine not installed: {exc.name})"
    except SohoaError as exc:
        return None, f"text layer: skipped ({exc.message})"
    return pages, f"text layer: OCR, {sum(len(p.lines) for p in pages)} lines on {len(pages)} page(s)"


def _extract_note(sample: _Sample, result: ProcedureResult, ocr: bool) -> str:
    """How extraction and the officer's typed values met (the spine merged them)."""
    if not ocr:
        return "extraction: skipped (no OCR); fields typed by the officer"
    extraction = result.extraction
    if extraction is None:
        return "extraction: nothing usable; fields typed by the officer"
    md = extraction.metadata
    confirmed = corrected = 0
    for name in [n for n in (*sample.typed, *md.extra) if n != "owner_id"]:
        found = md.get(name)
        if found is None:
            continue
        if name not in sample.typed or found.value == sample.typed[name]:
            confirmed += 1
        else:
            corrected += 1
    return (f"extraction: type {extraction.document_type.code}; {confirmed} field(s) from OCR confirmed, "
            f"{corrected} corrected by the officer")


def _sign(code: str, paths: Paths, config: Config) -> str:
    try:
        from service.signing.signer import SignatureRole
        from service.usecases.sign import DEV_TOKEN_PREFIX
    except ImportError as exc:
        return f"signature: skipped (signing not installed: {exc.name})"
    if not (paths.tokens / "softhsm2.conf").exists() and not os.environ.get("SOHOA_PIN"):
        return "signature: skipped (no development token yet: run 'sohoa token init-dev', as 'make run' does)"
    made: list[str] = []
    pin = os.environ.get("SOHOA_PIN", DEV_TOKEN_PIN)

    def provider() -> str:
        return pin

    roles = ((SignatureRole.OFFICER, config.signing.officer), (SignatureRole.AGENCY, config.signing.agency))
    for role, profile in roles:
        if not (profile.token_label or "").startswith(DEV_TOKEN_PREFIX):
            return "signature: skipped (a real card is configured; sign with 'sohoa sign CODE')"
        try:
            (outcome,) = sign(code, SignStep((role,), provider, actor="demo"), paths=paths, config=config)
        except SohoaError as exc:
            done = f"{' + '.join(made)} signed; " if made else ""
            return f"signature: {done}{role.value} not signed ({exc.message}; {exc.remedy or 'see sohoa sign'})"
        made.append(f"{role.value} ({'B-T' if outcome.timestamped else 'B-B'})")
    return f"signature: {' + '.join(made)} with the DEVELOPMENT tokens"


def run_demo(*, paths: Paths | None = None, sign: bool = True, ocr: bool = True) -> DemoResult:
    """Digitize the sample dossier into the store under ``paths`` (default: ``SOHOA_HOME``)."""
    p = (paths or get_paths()).ensure()
    config = load_config(p.config)
    sample = _sample()
    fronts = [_jpeg(img) for img in sample.fronts]
    ocr_pages, ocr_note = _ocr(fronts, config) if ocr else (None, "text layer: not requested")
    pages: list[RawPage] = []
    layer: list[OcrPage | None] = []
    for i, img in enumerate(sample.fronts):
        pages.append(RawPage(fronts[i], f"sample page {i + 1} front"))
        pages.append(RawPage(_jpeg(Image.new("RGB", img.size, (250, 250, 247))), f"sample page {i + 1} back"))
        layer += [ocr_pages[i] if ocr_pages is not None else None, None]
    typed = {k: FieldValue(v, FieldSource.MANUAL, 1.0) for k, v in sample.typed.items()}
    request = DigitizeRequest(
        pages=tuple(pages), document_type_code=SAMPLE_DOCUMENT_TYPE, owner_id=sample.owner_id,
        fields=typed, declared_pages=len(sample.fronts), duplex=True, extract_fields=ocr_pages is not None,
        ocr_pages=tuple(layer) if ocr_pages is not None else None, actor="demo")
    outcome = run(request, paths=p, config=config)
    result = outcome.digitized
    extract_note = _extract_note(sample, outcome, ocr_pages is not None)
    sign_note = _sign(result.result_code, p, config) if sign else "signature: not requested"
    final = show_document(result.result_code, paths=p)
    exported = export_document(result.result_code, p.exports, paths=p)
    blank = sum(1 for pg in result.document.pages if pg.blank and pg.side == "back")
    return DemoResult(result=result, final=final, exported_pdf=exported.pdf, blank_backs=blank,
                      notes=(ocr_note, extract_note, sign_note))
