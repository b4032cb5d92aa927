"""The spine's request/result types and its store step: PDF/A-2b → result code → store → outbox.

The flow itself (capture → extraction → review → store → signatures) is
:mod:`service.usecases.procedure`; :func:`digitize` is that flow without signatures. Nothing
here touches SQLite directly. A failure at any step raises a typed :class:`SohoaError` and leaves the
store unchanged (files written before a failed commit are unreferenced and harmless).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from service.capture import RawPage, verify_hashes
from service.capture.types import CaptureSet
from service.config import Config
from service.domain.errors import SohoaError, ValidationError
from service.domain.fields import ART9_FIELDS, FieldSource, FieldValue, Metadata
from service.domain.result_code import render_result_code, with_suffix
from service.domain.schema import ensure_valid
from service.domain.text import clean_text, hygiene_problem
from service.hooks import point as fault_point
from service.ocr.types import OcrPage
from service.paths import Paths
from service.pdf import build_pdfa
from service.store import CodeTakenError, DocumentKind, NewDocument, PageRecord, StoredDocument
from service.usecases import ocr_timing
from service.usecases.audit_key import open_store

log = logging.getLogger(__name__)

#: Field names accepted from ``--field name=value`` (the Art. 9 fields other than the owner id);
#: ``extra.<key>`` adds a specialised-law field.
MANUAL_FIELDS: tuple[str, ...] = tuple(n for n in ART9_FIELDS if n != "owner_id")
_CODE_RETRIES = 3


@dataclass(frozen=True, slots=True)
class DigitizeRequest:
    """Everything one digitization needs.

    ``fields`` are values the caller typed, ``reviewed`` values the officer confirmed or corrected
    on the review screen; extraction (``extract_fields``) fills the rest — typed > reviewed >
    extracted (:func:`service.usecases.procedure.merge_fields`).
    """

    pages: tuple[RawPage, ...]
    document_type_code: str
    owner_id: str | None = None
    fields: Mapping[str, FieldValue] = field(default_factory=dict)
    declared_pages: int | None = None
    mismatch_reason: str | None = None
    duplex: bool = False
    sides: tuple[str, ...] = ()  # front|back per page when known (kiosk drafts); else from ``duplex``
    sticky_notes: tuple[int, ...] = ()
    reviewed: Mapping[str, FieldValue] = field(default_factory=dict)
    ocr_pages: tuple[OcrPage | None, ...] | None = None
    run_ocr: bool = False
    extract_fields: bool = False
    dossier_id: str | None = None
    actor: str = "officer"
    kind: DocumentKind | None = None
    component_code: str | None = None


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
    #: quality warnings of the stored pages: (1-based page, kind, Vietnamese instruction)
    warnings: tuple[tuple[int, str, str], ...] = ()

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


def capture_warnings(capture: CaptureSet) -> tuple[tuple[int, str, str], ...]:
    """The quality warnings of every page: (1-based page number, kind, Vietnamese instruction)."""
    return tuple((i, kind, message) for i, p in enumerate(capture.pages, start=1) for kind, message in p.warnings)


def digitize(request: DigitizeRequest, *, paths: Paths | None = None, config: Config | None = None) -> DigitizeResult:
    """Run the spine (:func:`service.usecases.procedure.run`) without signatures; the stored result."""
    from service.usecases.procedure import run

    return run(request, paths=paths, config=config).digitized


def store_and_queue(request: DigitizeRequest, capture: CaptureSet, metadata: Metadata,
                    ocr_pages: Sequence[OcrPage | None] | None, *, paths: Paths, config: Config) -> DigitizeResult:
    """PDF/A → result code (Art. 10) → store and outbox (Art. 11), under the store's code lock.

    Files written before a failed commit are unreferenced and harmless; a result code taken by a
    writer that bypassed the lock is retried with the next free suffix.
    """
    p, cfg = paths, config
    base_code = render_result_code(cfg.codes.result_code_template, metadata, max_length=cfg.codes.max_length)
    max_suffix = min(cfg.store.max_code_suffix, 10 ** cfg.codes.suffix_width - 1)

    def suffixed(code: str, n: int) -> str:
        return with_suffix(code, n, separator=cfg.codes.suffix_separator, width=cfg.codes.suffix_width)

    with open_store(p, cfg) as store:
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
                                  mismatch_reason=capture.mismatch_reason, dossier_id=request.dossier_id,
                                  kind=request.kind, component_code=request.component_code)
                try:
                    # an unsigned version is never final: held in the outbox until signed (signing.policy)
                    doc = store.add_document(new, actor=request.actor,
                                             due=cfg.signing.policy.is_final(None, ()))
                except CodeTakenError:
                    # Only a writer that bypasses the lock (another host on shared storage) gets here.
                    if attempt == _CODE_RETRIES:
                        raise
                    log.info("result code taken by a concurrent writer; retrying (attempt %d)", attempt + 1)
                    continue
            if ocr_pages is not None:  # the OCR time of its pages, for the sohoa_ocr_seconds histogram
                try:
                    store.record_ocr_seconds(ocr_timing.take(page.sha256 for page in capture.pages))
                except SohoaError as exc:  # the document is stored; a lost measurement is no error of it
                    log.warning("OCR durations not recorded: %s", exc.message)
            warnings = capture_warnings(capture)
            if warnings:  # kinds only: no personal data, no pixels
                store.audit_append(actor=request.actor, action="capture_warnings", subject=doc.id,
                                   details={"pages": [{"page": n, "kind": k} for n, k, _ in warnings]})
            outbox = store.outbox_for(doc.id)
            state = outbox[-1].state.value if outbox else "none"
            log.info("document stored: %d pages, pdf %s…, outbox %s", len(capture.pages), pdf_sha[:12], state)
            return DigitizeResult(document_id=doc.id, result_code=doc.result_code,
                                  pdf=store.files.path_for(doc.pdf_sha256), sha256=doc.pdf_sha256,
                                  pages=len(capture.pages), queued=state == "queued", outbox_state=state,
                                  document=doc, warnings=warnings)
