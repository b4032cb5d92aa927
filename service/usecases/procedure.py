"""The digitization procedure of TT 01/2023 Art. 7–11, as one flow of named steps.

:func:`run` is the spine every caller uses — ``sohoa digitize``, ``sohoa demo`` and the kiosk's
finalize — and it reads like the circular::

    capture (Art. 8) → text layer + extraction (Art. 9) → [officer review] → fields merged
    → PDF/A → result code (Art. 10) → store and queue (Art. 11) → signatures on the copy

The officer review is a pause of this same flow, not a second copy of it: the kiosk runs
:func:`read_text` and :func:`extract` (the steps before the pause), keeps the extraction in its
draft while the officer reviews it, and then calls :func:`run` with the reviewed values.

One field-merge policy, :func:`merge_fields`, stated once: **typed > reviewed > extracted**.

Signing is the last step: :class:`SignStep` names the roles (the officer signs the copy; the
agency where it is configured) and how the PIN is asked. A failure at any step raises a typed
:class:`~service.domain.errors.SohoaError`; a document already stored stays stored and can be
signed again with :func:`sign` (``sohoa sign``, the kiosk's resumed finalize).
"""

from __future__ import annotations

import hashlib
import io
import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from PIL import Image

from service.capture import assemble, check_finalizable
from service.capture.types import CaptureSet, Side
from service.config import Config, load_config
from service.domain.errors import SohoaError
from service.domain.fields import ART9_FIELDS, FieldValue, Metadata
from service.domain.text import clean_text
from service.extract.types import Extraction
from service.hooks import point as fault_point
from service.ocr.types import OcrPage
from service.paths import Paths, get_paths
from service.signing.signer import PinProvider, SignatureRole
from service.usecases import ocr_timing
from service.usecases.digitize import DigitizeRequest, DigitizeResult, build_metadata, store_and_queue
from service.usecases.sign import SignOutcome, sign_document

log = logging.getLogger(__name__)

__all__ = ["ProcedureResult", "SignStep", "extract", "merge_fields", "read_page", "read_text", "run", "sign"]

_OCR_CACHE_MAX = 64
_ocr_cache: OrderedDict[str, OcrPage] = OrderedDict()
_ocr_lock = threading.Lock()


@dataclass(frozen=True, slots=True)
class SignStep:
    """The signatures to put on the stored copy, in order, and how the PIN is asked."""

    roles: tuple[SignatureRole, ...]
    pin_provider: PinProvider | None
    actor: str = "officer"


@dataclass(frozen=True, slots=True)
class ProcedureResult:
    """The stored document, the extraction that fed it (None without one) and the signatures."""

    digitized: DigitizeResult
    extraction: Extraction | None
    signatures: tuple[SignOutcome, ...] = ()


# ---------------------------------------------------------------------------------------- Art. 9 steps
def _ocr_key(sha256: str, config: Config) -> str:
    """Cache key: a page's hash under one OCR configuration (another configuration reads it again)."""
    return sha256 + ":" + hashlib.sha256(config.ocr.model_dump_json().encode()).hexdigest()[:16]


def read_page(data: bytes, config: Config, *, sha256: str | None = None) -> OcrPage:
    """OCR one page image with the installed engine; a page read before (same hash, same OCR
    configuration) is not read again — the kiosk's review and its finalize share the reading."""
    from service.ocr.engine import get_engine

    key = _ocr_key(sha256 or hashlib.sha256(data).hexdigest(), config)
    with _ocr_lock:
        hit = _ocr_cache.get(key)
    if hit is not None:
        return hit
    started = time.monotonic()
    with Image.open(io.BytesIO(data)) as img:  # an RGB page is read as decoded (no second full-size copy)
        page = get_engine(config.ocr).read_page(img if img.mode == "RGB" else img.convert("RGB"), source="scanner")
    ocr_timing.note(sha256 or hashlib.sha256(data).hexdigest(), time.monotonic() - started)
    with _ocr_lock:
        _ocr_cache[key] = page
        while len(_ocr_cache) > _OCR_CACHE_MAX:
            _ocr_cache.popitem(last=False)
    return page


def cached_page(sha256: str, config: Config) -> OcrPage | None:
    """The reading of page ``sha256`` if :func:`read_page` already made it (None otherwise)."""
    with _ocr_lock:
        return _ocr_cache.get(_ocr_key(sha256, config))


def read_text(capture: CaptureSet, config: Config) -> tuple[OcrPage | None, ...]:
    """The text layer: OCR of every non-blank captured page (blank pages get none)."""
    return tuple(None if page.blank else read_page(page.data, config, sha256=page.sha256)
                 for page in capture.pages)


def extract(ocr_pages: Sequence[OcrPage | None], config: Config, *, strict: bool = False) -> Extraction | None:
    """Art. 9 extraction from the OCR pages; None when there is no text or nothing usable.

    Extraction finding nothing is not an error: the document is stored with the typed fields.
    With ``strict`` (the kiosk's review, where the officer must see why) the extractor's typed
    error is raised instead.
    """
    from service.extract.extractor import extract_pages

    if strict:
        return extract_pages([page for page in ocr_pages if page is not None], config=config.extract)
    pages = [page for page in ocr_pages if page is not None and page.lines]
    if not pages:
        return None
    try:
        return extract_pages(pages, config=config.extract)
    except SohoaError as exc:
        log.info("extraction found nothing usable (%s); storing the typed fields only", type(exc).__name__)
        return None


def merge_fields(typed: Mapping[str, FieldValue], reviewed: Mapping[str, FieldValue] | None = None,
                 extraction: Extraction | None = None) -> dict[str, FieldValue]:
    """The one field-merge policy: **typed > reviewed > extracted**.

    - a value the officer typed wins over everything;
    - a value the officer reviewed (confirmed or corrected on the review screen) wins over the
      raw extraction;
    - an extracted value fills only a field nobody gave, and only when it is non-empty and the
      domain rules did not flag it invalid; the owner id is never taken from extraction here
      (it is the caller's — typed, or read from the ID card's QR and then reviewed);
    - a typed or reviewed value equal to the extracted one keeps the extraction's provenance
      (source ``ocr`` and its confidence): it was read, then confirmed.
    """
    out: dict[str, FieldValue] = {**(reviewed or {}), **typed}
    if extraction is None:
        return out
    invalid = {flag.field for flag in extraction.flags if flag.kind == "invalid"}
    names = [n for n in ART9_FIELDS if n != "owner_id"] + sorted(extraction.metadata.extra)
    for name in names:
        found = extraction.get(name)
        if found is None or name in invalid or not found.value.strip():
            continue
        given = out.get(name)
        if given is None or given.value == found.value:
            out[name] = found
    return out


# ---------------------------------------------------------------------------------------- signing step
def sign(code: str, step: SignStep, *, paths: Paths, config: Config) -> tuple[SignOutcome, ...]:
    """Put the signatures of ``step`` on stored document ``code`` (officer first, then agency)."""
    return tuple(sign_document(code, role, step.pin_provider, paths=paths, config=config, actor=step.actor)
                 for role in step.roles)


# ---------------------------------------------------------------------------------------- the spine
def run(request: DigitizeRequest, *, paths: Paths | None = None, config: Config | None = None,
        signing: SignStep | None = None,
        on_stored: Callable[[DigitizeResult], None] | None = None) -> ProcedureResult:
    """Digitize one paper document by TT 01/2023 Art. 7–11 and return where it is.

    ``request.fields`` are typed, ``request.reviewed`` the officer's reviewed values; with
    ``request.extract_fields`` the pages are OCR'd and extraction fills the rest (see
    :func:`merge_fields`). ``on_stored`` is told as soon as the document is stored and queued
    (before any signature), so a caller can record progress that survives a failed signature.
    """
    p = paths or get_paths()
    cfg = config or load_config(p.config)
    metadata, capture = _capture(request, cfg)                                       # Art. 8
    fault_point("quality_checked")
    ocr_pages = request.ocr_pages
    if ocr_pages is None and (request.run_ocr or request.extract_fields):
        ocr_pages = read_text(capture, cfg)                                          # text layer
    fault_point("text_read")
    extraction = extract(ocr_pages, cfg) if request.extract_fields and ocr_pages is not None else None
    if extraction is not None:                                                       # Art. 9
        fields = merge_fields(request.fields, request.reviewed, extraction)
        log.info("extraction filled %d field(s)", len(fields) - len(request.fields) - len(request.reviewed))
        metadata = build_metadata(request.document_type_code, request.owner_id, fields)
    fault_point("captured")
    stored = store_and_queue(request, capture, metadata, ocr_pages, paths=p, config=cfg)  # Art. 10-11
    if on_stored is not None:
        on_stored(stored)
    signatures = sign(stored.result_code, signing, paths=p, config=cfg) if signing else ()
    return ProcedureResult(stored, extraction, signatures)


def _capture(request: DigitizeRequest, cfg: Config) -> tuple[Metadata, CaptureSet]:
    """Art. 8: the given (typed and reviewed) metadata checked, the pages assembled by the capture rules."""
    given = merge_fields(request.fields, request.reviewed)
    metadata = build_metadata(request.document_type_code, request.owner_id, given)
    if request.mismatch_reason:
        clean_text("mismatch_reason", request.mismatch_reason)
    capture = assemble(request.pages, config=cfg.capture, duplex=request.duplex,
                       sides=[Side(s) for s in request.sides] or None, sticky_notes=request.sticky_notes,
                       declared_pages=request.declared_pages, mismatch_reason=request.mismatch_reason)
    check_finalizable(capture)
    return metadata, capture
