"""Use case: page images → capture rules → PDF/A-2b → result code → store → outbox.

The CLI (``sohoa digitize``), the demo and the kiosk UI call :func:`digitize`; nothing here
touches SQLite directly. A failure at any step raises a typed :class:`SohoaError` and leaves the
store unchanged (files written before a failed commit are unreferenced and harmless).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from service.capture import RawPage, assemble, check_finalizable, verify_hashes
from service.capture.types import CaptureSet
from service.config import Config, load_config
from service.domain.errors import ValidationError
from service.domain.fields import ART9_FIELDS, FieldSource, FieldValue, Metadata
from service.domain.result_code import render_result_code, with_suffix
from service.domain.schema import ensure_valid
from service.domain.text import clean_text, hygiene_problem
from service.hooks import point as fault_point
from service.ocr.types import OcrPage
from service.paths import Paths, get_paths
from service.pdf import build_pdfa
from service.store import CodeTakenError, NewDocument, PageRecord, Store, StoredDocument

log = logging.getLogger(__name__)

#: Field names accepted from ``--field name=value`` (the Art. 9 fields other than the owner id);
#: ``extra.<key>`` adds a specialised-law field.
MANUAL_FIELDS: tuple[str, ...] = tuple(n for n in ART9_FIELDS if n != "owner_id")
_CODE_RETRIES = 3


@dataclass(frozen=True, slots=True)
class DigitizeRequest:
    """Everything one digitization needs. ``fields`` are typed values (source manual/ocr/...)."""

    pages: tuple[RawPage, ...]
    document_type_code: str
    owner_id: str | None = None
    fields: Mapping[str, FieldValue] = field(default_factory=dict)
    declared_pages: int | None = None
    mismatch_reason: str | None = None
    duplex: bool = False
    sticky_notes: tuple[int, ...] = ()
    ocr_pages: tuple[OcrPage | None, ...] | None = None
    run_ocr: bool = False
    extract_fields: bool = False
    dossier_id: str | None = None
    actor: str = "officer"


@dataclass(frozen=True, slots=True)
class DigitizeResult:
    """What the user needs afterwards: code, PDF path and hash, page count, outbox state."""

    document_id: str
    result_code: str
    pdf: Path
    sha256: str
    pages: int
    queued: bool
    outbox_state: str
    document: StoredDocument

    def to_json(self) -> dict[str, Any]:
        """The ``sohoa digitize --json`` contract: result_code, pdf, sha256, pages, queued."""
        return {"result_code": self.result_code, "pdf": str(self.pdf), "sha256": self.sha256,
                "pages": self.pages, "queued": self.queued}


def manual_fields(pairs: Sequence[str]) -> dict[str, FieldValue]:
    """Parse ``name=value`` strings into manual field values; unknown names are refused."""
    out: dict[str, FieldValue] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        name = name.strip()
        if not sep or not name:
            raise ValidationError("field", f"'{pair}' is not name=value",
                                  remedy="write each field as --field name=value")
        if name.startswith("extra."):
            name = name[len("extra."):]
            if not name or name in ART9_FIELDS:
                raise ValidationError("field", "extra.<key> needs a key that is not an Art. 9 field name",
                                      remedy="e.g. --field extra.plate_number=29A12345")
            out[name] = FieldValue(value.strip(), FieldSource.MANUAL, 1.0)
            continue
        if name not in MANUAL_FIELDS:
            raise ValidationError(name, "is not a known field",
                                  remedy="use one of: " + ", ".join(MANUAL_FIELDS) + " or extra.<key>")
        if name in out:
            raise ValidationError(name, "is given twice", remedy="give each field once")
        out[name] = FieldValue(value.strip(), FieldSource.MANUAL, 1.0)
    return out


def build_metadata(document_type_code: str, owner_id: str | None, fields: Mapping[str, FieldValue]) -> Metadata:
    """Typed Art. 9 metadata, validated by the domain rules (:class:`ValidationError` names the field)."""
    md = Metadata(document_type_code=clean_text("document_type_code", document_type_code).strip())
    if owner_id and owner_id.strip():
        md = md.with_field("owner_id", FieldValue(clean_text("owner_id", owner_id).strip(), FieldSource.MANUAL, 1.0))
    for name, value in fields.items():
        if not value.value.strip():
            continue
        if value.source is FieldSource.OCR and hygiene_problem(name, value.value) is not None:
            log.info("extracted field %s left out: it breaks the text rule", name)  # the officer types it
            continue
        md = md.with_field(name, FieldValue(clean_text(name, value.value), value.source, value.confidence))
    return ensure_valid(md)


def page_records(capture: CaptureSet) -> tuple[PageRecord, ...]:
    """Store records of the captured pages (1-based order; sticky links as page numbers)."""
    return tuple(
        PageRecord(page_no=i, sha256=p.sha256, media_type=p.media_type, width=p.width, height=p.height,
                   dpi=p.dpi, colour=p.colour.value, side=p.side.value, blank=p.blank,
                   sticky_note_of=None if p.sticky_note_of is None else p.sticky_note_of + 1)
        for i, p in enumerate(capture.pages, start=1)
    )


def ocr_text_layer(capture: CaptureSet, config: Config) -> tuple[OcrPage | None, ...]:
    """OCR every non-blank page with the installed engine (blank pages get no text layer)."""
    import io

    from PIL import Image

    from service.ocr.engine import get_engine

    engine = get_engine(config.ocr)
    out: list[OcrPage | None] = []
    for page in capture.pages:
        if page.blank:
            out.append(None)
            continue
        with Image.open(io.BytesIO(page.data)) as img:
            out.append(engine.read_page(img.convert("RGB"), source="scanner"))
    return tuple(out)


def extracted_fields(ocr_pages: Sequence[OcrPage | None], typed: Mapping[str, FieldValue],
                     config: Config) -> dict[str, FieldValue]:
    """``typed`` plus what extraction (TT 01/2023 Art. 9) read from the OCR pages.

    Typed values win; the owner id stays the caller's; an extracted value the domain rules
    flag as invalid is left out (the officer types it). Extraction finding nothing is not an
    error: the document is stored with the typed fields only.
    """
    from service.domain.errors import SohoaError
    from service.extract.extractor import extract_pages

    pages = [page for page in ocr_pages if page is not None and page.lines]
    if not pages:
        return dict(typed)
    try:
        extraction = extract_pages(pages, config=config.extract)
    except SohoaError as exc:
        log.info("extraction found nothing usable (%s); storing the typed fields only", type(exc).__name__)
        return dict(typed)
    invalid = {flag.field for flag in extraction.flags if flag.kind == "invalid"}
    out = dict(typed)
    for name in (*MANUAL_FIELDS, *sorted(extraction.metadata.extra)):
        found = extraction.get(name)
        if found is not None and name not in out and name not in invalid and found.value.strip():
            out[name] = found
    log.info("extraction filled %d field(s)", len(out) - len(typed))
    return out


def digitize(request: DigitizeRequest, *, paths: Paths | None = None, config: Config | None = None) -> DigitizeResult:
    """Run the spine for one paper document and return where it is and whether it is queued.

    With ``extract_fields`` the pages are OCR'd and the Art. 9 fields the caller did not type
    are taken from extraction (source ``ocr``).
    """
    p = paths or get_paths()
    cfg = config or load_config(p.config)
    metadata = build_metadata(request.document_type_code, request.owner_id, request.fields)
    if request.mismatch_reason:
        clean_text("mismatch_reason", request.mismatch_reason)
    capture = assemble(request.pages, config=cfg.capture, duplex=request.duplex,
                       sticky_notes=request.sticky_notes, declared_pages=request.declared_pages,
                       mismatch_reason=request.mismatch_reason)
    check_finalizable(capture)
    ocr_pages = request.ocr_pages
    if ocr_pages is None and (request.run_ocr or request.extract_fields):
        ocr_pages = ocr_text_layer(capture, cfg)
    if request.extract_fields and ocr_pages is not None:
        fields = extracted_fields(ocr_pages, request.fields, cfg)
        metadata = build_metadata(request.document_type_code, request.owner_id, fields)
    fault_point("captured")
    base_code = render_result_code(cfg.codes.result_code_template, metadata, max_length=cfg.codes.max_length)
    max_suffix = min(cfg.store.max_code_suffix, 10 ** cfg.codes.suffix_width - 1)

    def suffixed(code: str, n: int) -> str:
        return with_suffix(code, n, separator=cfg.codes.suffix_separator, width=cfg.codes.suffix_width)

    with Store.open(p, cfg.store) as store:
        attempt = 0
        while True:
            attempt += 1
            with store.code_lock():
                code = store.first_free_code(base_code, suffixed, max_suffix=max_suffix)
                verify_hashes(capture)
                pdf = build_pdfa(capture, metadata, code, ocr_pages=ocr_pages, config=cfg.pdf)
                fault_point("pdf_built")
                for page in capture.pages:
                    store.files.put(page.data)
                pdf_sha = store.files.put(pdf)
                fault_point("files_written")
                new = NewDocument(result_code=code, metadata=metadata, pdf_sha256=pdf_sha,
                                  pages=page_records(capture), declared_pages=capture.declared_pages,
                                  mismatch_reason=capture.mismatch_reason, dossier_id=request.dossier_id)
                try:
                    doc = store.add_document(new, actor=request.actor)
                except CodeTakenError:
                    # Only a writer that bypasses the lock (another host on shared storage) gets here.
                    if attempt == _CODE_RETRIES:
                        raise
                    log.info("result code taken by a concurrent writer; retrying (attempt %d)", attempt + 1)
                    continue
            outbox = store.outbox_for(doc.id)
            state = outbox[-1].state.value if outbox else "none"
            log.info("document stored: %d pages, pdf %s…, outbox %s", len(capture.pages), pdf_sha[:12], state)
            return DigitizeResult(document_id=doc.id, result_code=doc.result_code,
                                  pdf=store.files.path_for(doc.pdf_sha256), sha256=doc.pdf_sha256,
                                  pages=len(capture.pages), queued=state == "queued", outbox_state=state,
                                  document=doc)
