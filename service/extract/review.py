"""Officer review: which fields need a look, corrections, manual entry, and their audit trail.

A correction or a manual entry gives exactly the structure OCR gives (``FieldValue`` with source
``manual`` and confidence 1.0). Every change yields one audit entry (who, which field, old -> new);
:func:`apply_corrections` is pure, :func:`record_audit` writes the entries through the store.
Values of personal fields are written as SHA-256 fingerprints unless configured ``clear``.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from datetime import date
from typing import Any, Protocol

from service.domain.codes import validate_document_type_code
from service.domain.dates import parse_vn_date
from service.domain.errors import ValidationError
from service.domain.fields import ART9_FIELDS, FieldSource, FieldValue, Metadata
from service.domain.identifiers import parse_identifier
from service.domain.number_symbol import parse_number_symbol
from service.domain.schema import MetadataInvalid, ensure_valid
from service.domain.text import nfc
from service.extract.config import ExtractConfig
from service.extract.extractor import finish
from service.extract.types import DocumentType, Extraction, Flag

PERSONAL_FIELDS = frozenset({"owner_id", "owner_name", "owner_birth_date", "residence", "place_of_birth", "gender",
                             "old_id", "id_issue_date", "ethnicity", "nationality", "marital_status"})
DATE_FIELDS = frozenset({"owner_birth_date", "issue_date", "valid_until", "id_issue_date",
                         "organization_founded_date"})
MAX_VALUE_CHARS = 2000
_EXTRA_KEY = re.compile(r"^[a-z][a-z0-9_]{0,63}$")


class AuditSink(Protocol):
    """What :func:`record_audit` needs from the store (``service.store.Store`` provides it)."""

    def audit_append(self, *, actor: str, action: str, subject: str | None, details: dict[str, Any]) -> None:
        """Append one audit row."""


def normalize_value(name: str, value: str, *, today: date | None = None) -> str:
    """Validate an officer-typed value for ``name`` and return its stored form (ISO dates, NFC ...)."""
    text = nfc(value)
    if not text:
        raise ValidationError(name, "is empty", remedy="type the value, or clear the field")
    if len(text) > MAX_VALUE_CHARS:
        raise ValidationError(name, f"is longer than {MAX_VALUE_CHARS} characters", remedy="shorten it")
    if name == "document_type_code":
        return validate_document_type_code(text)
    if name not in ART9_FIELDS and not _EXTRA_KEY.fullmatch(name):
        raise ValidationError(name, "is not an Art. 9 field nor a snake_case extra field name",
                              remedy="use one of " + ", ".join(ART9_FIELDS) + " or e.g. plate_number")
    if name == "owner_id":
        return parse_identifier(text, field_name=name, today=today).value
    if name in DATE_FIELDS:
        return parse_vn_date(text, field_name=name).isoformat()
    if name == "number_symbol":
        return str(parse_number_symbol(text, field_name=name))
    if name == "organization_founded_year":
        if not re.fullmatch(r"\d{4}", text) or not 1800 <= int(text) <= (today or date.today()).year:
            raise ValidationError(name, "must be a four-digit year, not in the future", remedy="e.g. 2005")
        return text
    if name == "owner_name" and (any(c.isdigit() for c in text) or not any(c.isalpha() for c in text)):
        raise ValidationError(name, "a person's name has letters and no digits", remedy="check the spelling")
    return text


def needs_review(extraction: Extraction, threshold: float) -> list[str]:
    """Fields the officer must look at: invalid or missing ones, then those under ``threshold``."""
    names = [f.field for f in extraction.flags if f.kind != "low_confidence"]
    for name in extraction.field_names():
        fv = extraction.get(name)
        if fv is not None and fv.confidence < threshold:
            names.append(name)
    return list(dict.fromkeys(names))


def _audit_value(name: str, fv: FieldValue | None, mode: str) -> str | None:
    if fv is None:
        return None
    if name in PERSONAL_FIELDS and mode == "fingerprint":
        return "sha256:" + hashlib.sha256(fv.value.encode("utf-8")).hexdigest()
    return fv.value


def apply_corrections(extraction: Extraction, corrections: Mapping[str, str | None], actor: str, *,
                      config: ExtractConfig | None = None, type_name: str | None = None,
                      today: date | None = None) -> tuple[Extraction, list[dict[str, Any]]]:
    """Apply the officer's corrections; return the new extraction and one audit entry per change.

    ``corrections`` maps a field (Art. 9 name, extra key or ``document_type_code``) to its new
    value, or to ``None``/"" to clear it. All values are validated first: on any error nothing is
    applied and a :class:`ValidationError` (or :class:`MetadataInvalid` for several) is raised.
    """
    cfg = config or ExtractConfig()
    who = nfc(actor)
    if not who:
        raise ValidationError("actor", "the officer making the correction must be named", remedy="log in first")
    normalized: dict[str, str | None] = {}
    errors: list[ValidationError] = []
    for name, value in corrections.items():
        try:
            normalized[name] = normalize_value(name, value, today=today) if value and value.strip() else None
        except ValidationError as exc:
            errors.append(exc)
    if errors:
        raise errors[0] if len(errors) == 1 else MetadataInvalid(errors)
    md = extraction.metadata
    doc_type = extraction.document_type
    entries: list[dict[str, Any]] = []
    for name, new in normalized.items():
        if name == "document_type_code":
            if new is None:
                raise ValidationError(name, "cannot be cleared", remedy="choose a document type")
            old_type = doc_type
            doc_type = DocumentType(new, nfc(type_name) if type_name else (old_type.name if old_type.code == new
                                                                           else ""), 1.0)
            entries.append({"actor": who, "action": "document_type_corrected", "field": name,
                            "old": old_type.code or None, "new": new, "old_confidence": old_type.confidence})
            continue
        old = md.get(name)
        fv = FieldValue(new, FieldSource.MANUAL, 1.0) if new is not None else None
        if old is None and fv is None:
            continue
        action = "field_cleared" if fv is None else "field_confirmed" if old and old.value == new else "field_corrected"
        entries.append({"actor": who, "action": action, "field": name,
                        "old": _audit_value(name, old, cfg.audit_personal_values),
                        "new": _audit_value(name, fv, cfg.audit_personal_values),
                        "old_source": str(old.source) if old else None,
                        "old_confidence": old.confidence if old else None, "new_source": "manual" if fv else None})
        md = md.with_field(name, fv)
    changed = set(normalized)
    kept = [f for f in extraction.flags if f.kind == "invalid" and f.field not in changed]
    values: dict[str, FieldValue] = {n: v for n in (*ART9_FIELDS, *md.extra) if (v := md.get(n)) is not None}
    return finish(doc_type, values, kept, cfg, today), entries


def manual_extraction(document_type_code: str, values: Mapping[str, str], actor: str, *,
                      type_name: str = "", config: ExtractConfig | None = None,
                      today: date | None = None) -> tuple[Extraction, list[dict[str, Any]]]:
    """Fields typed by the officer when OCR cannot be used: the same structure as OCR's output."""
    empty = Extraction(DocumentType("", "", 0.0), Metadata(document_type_code=""), ())
    corrections: dict[str, str | None] = {"document_type_code": document_type_code, **values}
    return apply_corrections(empty, corrections, actor, config=config, type_name=type_name, today=today)


def record_audit(store: AuditSink, document_id: str | None, entries: list[dict[str, Any]]) -> int:
    """Write each correction entry to the store's hash-chained audit log; returns how many."""
    for entry in entries:
        details = {k: v for k, v in entry.items() if k not in ("actor", "action")}
        store.audit_append(actor=str(entry["actor"]), action=str(entry["action"]), subject=document_id,
                           details=details)
    return len(entries)


class CorrectableStore(AuditSink, Protocol):
    """The store operations :func:`correct_stored` uses (``service.store.Store`` provides them)."""

    def get(self, code_or_id: str) -> Any:
        """The stored document (``.id``, ``.metadata``)."""

    def update_metadata(self, document_id: str, metadata: Metadata, *, actor: str) -> Any:
        """Replace the document's field values."""


def correct_stored(store: CorrectableStore, code_or_id: str, corrections: Mapping[str, str | None], actor: str, *,
                   config: ExtractConfig | None = None, today: date | None = None) -> Any:
    """Correct fields of a stored document: validate, audit each change, then update the store.

    The corrected metadata must pass :func:`ensure_valid` (else nothing is written). The document
    type cannot change after storing (the result code embeds it). Audit rows are written before
    the update, so a crash in between leaves an audited intent, never an unaudited change.
    """
    if "document_type_code" in corrections:
        raise ValidationError("document_type_code", "cannot be changed once the document is stored "
                              "(the result code contains it)", remedy="digitize the paper again with the right type")
    doc = store.get(code_or_id)
    md: Metadata = doc.metadata
    current = Extraction(DocumentType(md.document_type_code, "", 1.0), md, ())
    fixed, entries = apply_corrections(current, corrections, actor, config=config, today=today)
    ensure_valid(fixed.metadata, today=today)
    record_audit(store, doc.id, entries)
    return store.update_metadata(doc.id, fixed.metadata, actor=nfc(actor))


def review_flags(extraction: Extraction) -> list[Flag]:
    """The extraction's flags, invalid first, then missing, then low confidence."""
    order = {"invalid": 0, "missing": 1, "low_confidence": 2}
    return sorted(extraction.flags, key=lambda f: (order.get(f.kind, 3), f.field))
