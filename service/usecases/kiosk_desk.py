"""Desk rules for a draft dossier: owner identification, procedure, reuse, review, dossier code.

Pure decisions come from ``service.domain`` (identifiers, dates, codes); this module applies them
to a :class:`Draft` and saves it through the :class:`DraftStore`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from service.desk.camera import DeskCamera
from service.desk.drafts import CaptureFeedback, Draft, DraftComponent, DraftStore
from service.domain.dates import DateStyle, format_vn_date, parse_vn_date
from service.domain.dossier import owner_mismatch
from service.domain.fields import ART9_FIELDS, FieldValue
from service.domain.identifiers import parse_identifier
from service.domain.result_code import component_document_type_code
from service.domain.text import nfc
from service.errors import ValidationError
from service.extract.config import ExtractConfig
from service.extract.extractor import finish
from service.extract.review import apply_corrections
from service.extract.types import DocumentType
from service.procedures.catalogue import Procedure, ProcedureCatalogue, import_catalogue, load_catalogue
from service.receipts.render import Receipt, ReceiptLine, render_receipt

__all__ = ["CaptureFeedback", "Check", "Draft", "DraftComponent", "DeskCamera", "DraftStore", "OwnerCheck", "Procedure",
           "ProcedureCatalogue", "ReviewRow"]  # what the views name, besides the functions below

REVIEW_FIELDS: tuple[str, ...] = tuple(f for f in ART9_FIELDS)
#: Fields shown and typed as dd/mm/yyyy on the review screen (stored ISO).
DATE_FIELDS: frozenset[str] = frozenset({"owner_birth_date", "issue_date", "valid_until"})
VN_TZ = dt.timezone(dt.timedelta(hours=7))
#: ``Draft.kind`` of a draft that digitizes the procedure's result of an existing dossier.
RESULT_DRAFT = "result"


@dataclass(frozen=True, slots=True)
class OwnerCheck:
    """Result of validating a typed identifier: a message key and its parameters for the UI."""

    ok: bool
    kind: str
    message_key: str
    params: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Check:
    """An inconsistency shown before the PIN: a message key and its parameters, and what it needs:
    ``confirm`` (the officer ticks having checked it), ``fix`` (the paper's value would be refused
    when stored: correct it on the review) or ``info`` (page counts: the review asks a reason)."""

    key: str
    params: dict[str, str]
    level: str = "confirm"

    @property
    def ack(self) -> bool:
        """Whether the officer must confirm it before signing."""
        return self.level == "confirm"


@dataclass(frozen=True, slots=True)
class ReviewRow:
    """One field on the review screen."""

    component: str
    name: str
    value: str
    source: str
    confidence: float
    low: bool
    note: str = ""  # why extraction flagged it (shown to the officer only)


def check_owner(text: str) -> OwnerCheck:
    """Validate an owner identifier for live feedback (never raises for bad input)."""
    if not text.strip():
        return OwnerCheck(False, "", "owner.empty")
    try:
        ident = parse_identifier(text)
    except ValidationError as exc:
        return OwnerCheck(False, "", "owner.invalid", {"reason": exc.reason})
    params = {k: str(v) for k, v in ident.details.items() if k in ("province", "gender", "birth_year")}
    return OwnerCheck(True, ident.kind.value, f"owner.ok_{ident.kind.value}", params)


def set_owner(store: DraftStore, draft: Draft, owner_id: str, name: str, birth_date: str,
              source: str = "manual") -> None:
    """Record the owner: a valid identifier, or (Art. 10) the fallback full name + date of birth."""
    name = nfc(" ".join(name.split()))
    if owner_id.strip():
        ident = parse_identifier(owner_id)
        draft.owner_id, draft.owner_kind = ident.value, ident.kind.value
    else:
        if not name or not birth_date.strip():
            raise ValidationError("owner_id", "is empty; then the full name and the date of birth are both required",
                                  remedy="type the identifier, scan the ID card's QR, or fill name and birth date")
        draft.owner_id, draft.owner_kind = "", ""
    draft.owner_name = name
    draft.owner_birth_date = parse_vn_date(birth_date, field_name="owner_birth_date").isoformat() \
        if birth_date.strip() else ""
    draft.owner_source = source
    store.save(draft)


def set_procedure(store: DraftStore, draft: Draft, proc: Procedure, picked: Sequence[str],
                  pages: Mapping[str, str]) -> None:
    """Keep the ticked components with their declared page counts (pages already captured stay)."""
    old = {c.code: c for c in draft.components}
    comps = []
    for i, comp in enumerate(c for c in proc.components if c.code in set(picked)):
        raw = (pages.get(comp.code) or str(comp.pages)).strip()
        if not raw.isdigit() or not 1 <= int(raw) <= 500:
            raise ValidationError(f"pages_{comp.code}", "declared pages must be a number from 1 to 500")
        kept = old.get(comp.code)
        dc = kept if kept is not None and draft.procedure_code == proc.code else DraftComponent(comp.code, comp.name, 1)
        dc.declared_pages = int(raw)
        dc.document_type = component_document_type_code(proc.code, comp.code, i + 1)
        comps.append(dc)
    draft.procedure_code, draft.procedure_name, draft.return_days = proc.code, proc.name, proc.return_days
    draft.components = comps
    store.save(draft)


def set_reuse(store: DraftStore, draft: Draft, chosen: Mapping[str, str], allowed: Mapping[str, Sequence[str]]) -> None:
    """Mark components as reused from already digitized papers (only codes that were offered)."""
    for c in draft.components:
        code = chosen.get(c.code, "")
        if code and code not in allowed.get(c.code, ()):
            raise ValidationError(f"reuse_{c.code}", "that paper was not offered for this owner")
        c.reuse_code = code or None
    store.save(draft)


def review_rows(draft: Draft, low_confidence: float) -> list[ReviewRow]:
    """The fields of every captured component for the review screen."""
    rows = []
    for c in draft.components:
        if c.reuse_code:
            continue
        flagged = {f.get("field") for f in c.flags if f.get("kind") in ("invalid", "low_confidence")}
        notes = {f.get("field", ""): f.get("message", "") for f in c.flags if f.get("kind") == "invalid"}
        for name in REVIEW_FIELDS:
            fv = c.fields.get(name)
            value = str(fv["value"]) if fv else ""
            conf = float(fv["confidence"]) if fv else 0.0
            src = str(fv["source"]) if fv else ""
            low = name in flagged or (bool(fv) and src == "ocr" and conf < low_confidence)
            rows.append(ReviewRow(c.code, name, display_value(name, value), src, conf, low, notes.get(name, "")))
    return rows


def display_value(name: str, value: str) -> str:
    """A stored value as the desk shows it: ISO dates as dd/mm/yyyy, the rest unchanged."""
    if name in DATE_FIELDS and value:
        try:
            return format_vn_date(dt.date.fromisoformat(value), DateStyle.NUMERIC)
        except ValueError:
            return value
    return value


def consistency_checks(draft: Draft) -> list[Check]:
    """What does not fit together, shown before the PIN: the paper's owner vs the dossier's owner,
    a CCCD's encoded birth year (and century) vs the birth date, pages captured vs declared."""
    out: list[Check] = []
    pairs = [("", draft.owner_id, draft.owner_birth_date)]
    for c in draft.components:
        if c.reuse_code:
            continue
        found = str(c.fields.get("owner_id", {}).get("value", "") or "")
        if owner_mismatch(draft.owner_id, found):
            out.append(Check("check.owner_differs", {"component": c.name, "found": found, "owner": draft.owner_id}))
        born = str(c.fields.get("owner_birth_date", {}).get("value", "") or "")
        pairs.append((c.name, draft.owner_id or found, born))
        if c.pages and c.content_pages != c.declared_pages:
            out.append(Check("check.pages", {"component": c.name, "n": str(c.content_pages),
                                             "d": str(c.declared_pages)}, level="info"))
    for label, ident_text, born_text in pairs:
        # a paper is stored under the dossier's owner: its birth date must fit that identifier
        check = _birth_check(label or draft.owner_name, ident_text, born_text, "fix" if label else "confirm")
        if check is not None and check not in out:
            out.append(check)
    return out


def _birth_check(label: str, ident_text: str, born_text: str, level: str) -> Check | None:
    """A CCCD encodes the century (4th digit) and the year (5th-6th) of birth: they must match."""
    if not ident_text or not born_text:
        return None
    try:
        ident = parse_identifier(ident_text)
        born = dt.date.fromisoformat(born_text)
    except (ValidationError, ValueError):
        return None
    if ident.kind.value != "cccd" or ident.details["birth_year"] == born.year:
        return None
    return Check("check.birth_century", {"component": label, "encoded": str(ident.details["birth_year"]),
                                         "century": str(int(ident.details["century_base"]) // 100 + 1),
                                         "birth": format_vn_date(born, DateStyle.NUMERIC)}, level)


def apply_review(store: DraftStore, draft: Draft, form: Mapping[str, str], actor: str,
                 config: ExtractConfig | None = None) -> list[dict[str, Any]]:
    """Apply the officer's edits through the extraction room's review rules.

    Each typed value is validated and normalised (identifiers, ISO dates, number & symbol) and
    becomes source ``manual``; nothing is saved unless every component's edits are valid. A
    page-count mismatch needs a reason. Returns the audit entries (who, field, old -> new, with
    personal values fingerprinted) for the caller to write to the audit log.
    """
    entries: list[dict[str, Any]] = []
    updates: list[tuple[DraftComponent, dict[str, dict[str, Any]], list[dict[str, str]], str | None]] = []
    for c in draft.components:
        if c.reuse_code:
            continue
        corrections: dict[str, str | None] = {}
        for name in REVIEW_FIELDS:
            key = f"{c.code}__{name}"
            if key in form:
                new = nfc(form[key].strip())
                old = str(c.fields[name]["value"]) if name in c.fields else ""
                if new != old and new != display_value(name, old):
                    corrections[name] = new or None
        reason = form.get(f"{c.code}__mismatch", "").strip() or None
        if c.declared_pages != c.content_pages and not reason:
            raise ValidationError(c.name, f"{c.content_pages} pages captured but {c.declared_pages} declared",
                                  remedy="capture the missing pages or write the reason for the difference")
        values = {n: FieldValue.from_json(v) for n, v in c.fields.items()}
        current = finish(DocumentType(c.document_type, "", 1.0), values, [], config or ExtractConfig())
        fixed, found = apply_corrections(current, corrections, actor, config=config)
        fields = {n: fv.to_json() for n in fixed.field_names() if (fv := fixed.get(n)) is not None}
        flags = [f.to_json() for f in fixed.flags if f.field not in corrections]
        entries += [{**e, "component": c.code} for e in found]
        updates.append((c, fields, flags, reason))
    for c, fields, flags, reason in updates:
        c.fields, c.flags, c.mismatch_reason = fields, flags, reason
    store.save(draft)
    return entries


def add_working_days(start: dt.date, days: int) -> dt.date:
    """``start`` plus ``days`` working days (Saturday and Sunday skipped; public holidays are not known)."""
    d = start
    left = days
    while left > 0:
        d += dt.timedelta(days=1)
        if d.weekday() < 5:
            left -= 1
    return d


# ------------------------------------------------------------------ the dossier draft's life (views call these)
def open_draft(store: DraftStore, kind: str, created_by: str) -> Draft:
    """Open a new draft dossier (``officer`` at the desk, ``citizen`` at the self-service kiosk)."""
    return store.create(kind, created_by)


def get_draft(store: DraftStore, draft_id: str) -> Draft:
    """The draft ``draft_id`` (NotFoundError when there is none)."""
    return store.get(draft_id)


def list_drafts(store: DraftStore) -> list[Draft]:
    """Every draft, for the officer's desk list."""
    return store.list()


def discard_draft(store: DraftStore, draft_id: str) -> None:
    """Delete a draft and its page images (nothing of it is kept)."""
    store.discard(draft_id)


def submit_draft(store: DraftStore, draft: Draft) -> None:
    """The citizen hands the scanned papers to the desk."""
    draft.state = "submitted"
    store.save(draft)


def take_draft(store: DraftStore, draft: Draft, officer_id: str) -> None:
    """An officer takes over a dossier a citizen scanned (it is open again, now theirs)."""
    draft.state = "open"
    draft.created_by = officer_id
    store.save(draft)


def move_page(store: DraftStore, draft: Draft, component: str, index: int, step: int) -> None:
    """Move a captured page up (-1) or down (+1)."""
    store.move_page(draft, component, index, step)


def delete_page(store: DraftStore, draft: Draft, component: str, index: int) -> None:
    """Delete a captured page."""
    store.delete_page(draft, component, index)


def page_image(store: DraftStore, draft: Draft, sha256: str) -> tuple[bytes, str]:
    """A captured page's bytes and media type (NotFoundError when it is not in the draft)."""
    return store.page_bytes(draft, sha256)


def camera_still(camera: DeskCamera) -> bytes:
    """A full-resolution still from the desk camera (an ID card's or a receipt's QR code)."""
    return camera.capture()


def preview_jpeg(camera: DeskCamera) -> bytes:
    """The desk camera's live preview frame (DeviceError when the camera cannot give one)."""
    return camera.preview_jpeg()


# ------------------------------------------------------------------ procedures and receipt
def active_procedures(kiosk_home: Path, fallback: Path) -> ProcedureCatalogue:
    """The active procedure catalogue (the imported file, else ``fallback``)."""
    return load_catalogue(kiosk_home / "catalogue.json", fallback)


def import_procedures(raw: bytes, filename: str, kiosk_home: Path) -> ProcedureCatalogue:
    """Validate and activate an uploaded procedure catalogue (a bad file changes nothing)."""
    return import_catalogue(raw, filename, kiosk_home / "catalogue.json")


def receipt_of(draft: Draft, *, office_name: str, issuing_system: str, printed_at: dt.datetime) -> Receipt:
    """The receipt record of a finalized dossier (what the A4 PDF and the roll slip both print)."""
    lines = tuple(ReceiptLine(c.name, c.content_pages, bool(c.reuse_code), c.result_code or c.reuse_code or "")
                  for c in draft.components)
    return Receipt(
        dossier_code=draft.dossier_code, procedure_code=draft.procedure_code, procedure_name=draft.procedure_name,
        owner_id=draft.owner_id, owner_name=draft.owner_name, office_name=office_name,
        issuing_system=issuing_system, officer_name=draft.signed_by,
        received_at=dt.datetime.fromisoformat(draft.received_at), printed_at=printed_at,
        return_date=dt.date.fromisoformat(draft.return_date), lines=lines)


def receipt_pdf(draft: Draft, *, office_name: str, issuing_system: str, printed_at: dt.datetime) -> bytes:
    """The receipt (giấy tiếp nhận) PDF of a finalized dossier."""
    return render_receipt(receipt_of(draft, office_name=office_name, issuing_system=issuing_system,
                                     printed_at=printed_at))
