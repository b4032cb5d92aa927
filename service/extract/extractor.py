"""OCR pages -> Art. 9 fields (TT 01/2023 Art. 9), each validated by the domain rules.

A value that breaks a domain rule is never stored as valid: an identifier or number keeps its
text with its confidence capped to ``invalid_confidence`` and an ``invalid`` flag; an impossible
or unreadable date is left empty with an ``invalid`` flag carrying what was read. Fields under
``review_threshold`` get a ``low_confidence`` flag for the officer.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date

from service.domain.dates import parse_vn_date
from service.domain.errors import InputError, ValidationError
from service.domain.fields import ART9_FIELDS, FieldSource, FieldValue, Metadata
from service.domain.identifiers import IdentifierKind, parse_identifier
from service.domain.number_symbol import NumberSymbolKind, parse_number_symbol
from service.domain.schema import owner_errors
from service.domain.text import nfc
from service.extract.catalog import Catalog
from service.extract.config import ExtractConfig
from service.extract.kv import KeyValue, key_values
from service.extract.layout import Header, parse_header
from service.extract.lines import Line, prepare
from service.extract.types import UNKNOWN_TYPE, DocumentType, Extraction, Flag
from service.extract.vocab import restore_address, restore_agency
from service.ocr.lexicon import correct_lines
from service.ocr.types import OcrPage

DATE_FIELDS = ("owner_birth_date", "issue_date", "valid_until")
ADDRESS_FIELDS = ("residence", "place_of_birth", "land_address", "construction_address")
_ID_TOKEN = re.compile(r"[A-Za-z]?\d[\d .\-]{6,16}\d")


@dataclass
class _Builder:
    """Collects field values and flags while the extractor reads a document."""

    config: ExtractConfig
    values: dict[str, FieldValue] = field(default_factory=dict)
    flags: list[Flag] = field(default_factory=list)

    def put(self, name: str, value: str, confidence: float, *, overwrite: bool = False) -> None:
        text = nfc(value)
        if not text or (name in self.values and not overwrite):
            return
        self.values[name] = FieldValue(text, FieldSource.OCR, round(max(0.0, min(1.0, confidence)), 4))

    def invalid(self, name: str, raw: str | None, confidence: float, reason: str) -> None:
        """Flag ``name``; keep ``raw`` (if given) with the capped confidence."""
        if raw:
            self.put(name, raw, min(confidence, self.config.invalid_confidence), overwrite=True)
        self.flags.append(Flag(name, "invalid", reason))


def _title_case(name: str) -> str:
    letters = [c for c in name if c.isalpha()]
    return name.title() if letters and all(c.isupper() for c in letters) else name


def _add_months(d: date, months: int) -> date:
    y, m = divmod(d.month - 1 + months, 12)
    year, month = d.year + y, m + 1
    return date(year, month, min(d.day, calendar.monthrange(year, month)[1]))


def _put_date(b: _Builder, name: str, raw: str, conf: float) -> None:
    try:
        b.put(name, parse_vn_date(raw, field_name=name).isoformat(), conf)
    except ValidationError as exc:
        b.invalid(name, None, conf, f"'{raw}': {exc.reason}")


def _put_identifier(b: _Builder, raw: str, conf: float, today: date | None) -> None:
    """Validate the labelled identifier: the whole value first, then the identifier-shaped token in it."""
    text = raw.strip()
    token = _ID_TOKEN.search(text)
    candidates = [text] + ([token.group(0)] if token and token.group(0) != text else [])
    first_error: ValidationError | None = None
    for candidate in candidates:
        try:
            ident = parse_identifier(candidate, field_name="owner_id", today=today)
        except ValidationError as exc:
            first_error = first_error or exc
            continue
        b.put("owner_id", ident.value, conf)
        return
    shown = re.sub(r"\s+", "", candidates[-1])
    b.invalid("owner_id", shown, conf, first_error.reason if first_error else "not an identifier")


def _header_fields(b: _Builder, header: Header) -> None:
    for name, found in (("issuing_agency", header.agency), ("parent_agency", header.parent_agency)):
        if found:
            text, fixes = restore_agency(found.value)
            b.put(name, text, found.confidence * (0.97 if fixes else 1.0))
    if header.number and "/" not in header.number.value:
        # Specialised papers number themselves ("Số: 012345"), Điều 15.1.b NĐ 30/2020.
        b.put("certificate_number", header.number.value.upper(), header.number.confidence)
    elif header.number:
        try:
            ns = parse_number_symbol(header.number.value)
            b.put("number_symbol", str(ns), header.number.confidence)
        except ValidationError as exc:
            b.invalid("number_symbol", header.number.value, header.number.confidence, exc.reason)
    if header.date_match and header.date:
        b.put("issue_date", header.date_match.value.isoformat(), header.date.confidence)
        if header.date_match.place:
            b.put("issue_place", header.date_match.place, header.date.confidence)
    elif header.date_error and header.date:
        b.invalid("issue_date", None, header.date.confidence, f"'{header.date.value}': {header.date_error.reason}")
    if header.summary:
        # an upper-case summary ("VỀ VIỆC … HỌI ĐỒNG") kept its marks through the OCR's text step
        (summary,), _ = correct_lines([header.summary.value])
        b.put("summary", summary, header.summary.confidence)


def _kv_fields(b: _Builder, kvs: list[KeyValue], today: date | None) -> None:
    period: KeyValue | None = None
    for kv in kvs:
        target = kv.target.removeprefix("extra:")
        if target in b.values:
            continue
        if target == "owner_name":
            b.put(target, _title_case(kv.value), kv.confidence)
        elif target in DATE_FIELDS or target == "organization_founded_date":
            _put_date(b, target, kv.value, kv.confidence)
        elif target == "owner_id":
            _put_identifier(b, kv.value, kv.confidence, today)
        elif target == "organization_founded_year":
            m = re.search(r"\b(1[89]\d\d|2\d\d\d)\b", kv.value)
            if m:
                b.put(target, m.group(1), kv.confidence)
            else:
                b.invalid(target, kv.value, kv.confidence, "no four-digit year")
        elif target == "validity_period":
            period = kv
            b.put(target, kv.value, kv.confidence)
        elif target in ADDRESS_FIELDS:
            text, fixes = restore_address(kv.value)
            b.put(target, text, kv.confidence * (0.97 if fixes else 1.0))
        elif target in ("plate_number", "chassis_number", "engine_number", "certificate_number"):
            b.put(target, re.sub(r"\s+", " ", kv.value).upper(), kv.confidence)
        else:
            b.put(target, kv.value, kv.confidence)
    founded = b.values.get("organization_founded_date")
    if founded and "organization_founded_year" not in b.values:
        b.put("organization_founded_year", founded.value[:4], founded.confidence)
    issue = b.values.get("issue_date")
    if period and issue and "valid_until" not in b.values:
        n, unit = period.value.split()
        months = int(n) * (12 if unit == "years" else 1)
        until = _add_months(date.fromisoformat(issue.value), months)
        b.put("valid_until", until.isoformat(), min(period.confidence, issue.confidence) * 0.95)


def _document_type(b: _Builder, header: Header, catalog: Catalog) -> DocumentType:
    ns_value = b.values.get("number_symbol")
    by_abbr = None
    ns_kind = None
    if ns_value is not None and not any(f.field == "number_symbol" for f in b.flags):
        ns = parse_number_symbol(ns_value.value)
        by_abbr, ns_kind = catalog.by_abbreviation(ns.type_abbr), ns.kind
    if header.heading is not None and header.heading_line is not None:
        entry = header.heading.entry
        conf = header.heading.score * header.heading_line.confidence
        if by_abbr is not None:
            conf = min(1.0, conf + 0.05) if by_abbr.code == entry.code else conf * 0.7
        return DocumentType(entry.code, entry.name, round(conf, 4))
    if by_abbr is not None and ns_value is not None:
        return DocumentType(by_abbr.code, by_abbr.name, round(ns_value.confidence * 0.85, 4))
    if ns_kind is NumberSymbolKind.CONG_VAN and ns_value is not None and b.values.get("summary") is not None:
        letter = catalog.by_code("VB.CV")
        if letter is not None:
            return DocumentType(letter.code, letter.name, round(ns_value.confidence * 0.8, 4))
    return UNKNOWN_TYPE


def _cross_checks(b: _Builder, today: date | None) -> None:
    owner, born = b.values.get("owner_id"), b.values.get("owner_birth_date")
    if owner and born and not any(f.field == "owner_id" for f in b.flags):
        ident = parse_identifier(owner.value, today=today)
        if ident.kind is IdentifierKind.CCCD and ident.details["birth_year"] != int(born.value[:4]):
            reason = (f"birth year {born.value[:4]} differs from {ident.details['birth_year']} encoded in the "
                      "personal ID; one of them is misread")
            b.invalid("owner_birth_date", born.value, born.confidence, reason)
            b.invalid("owner_id", owner.value, owner.confidence, reason)
    until, issued = b.values.get("valid_until"), b.values.get("issue_date")
    if until and issued and until.value < issued.value:
        b.invalid("valid_until", until.value, until.confidence, "validity ends before the issue date")


def finish(document_type: DocumentType, values: dict[str, FieldValue], flags: list[Flag],
           config: ExtractConfig, today: date | None = None) -> Extraction:
    """Assemble an :class:`Extraction`: Art. 9 fields, extras, owner/fallback and confidence flags."""
    art9 = {k: v for k, v in values.items() if k in ART9_FIELDS}
    extra = {k: v for k, v in values.items() if k not in ART9_FIELDS}
    md = Metadata(document_type_code=document_type.code, extra=extra, **art9)
    out = list(flags)
    if not document_type.code:
        out.append(Flag("document_type_code", "missing", "the document type was not recognised; choose it"))
    flagged = {f.field for f in out}
    if "owner_id" not in flagged:
        out.extend(Flag(e.field, "missing", e.reason) for e in owner_errors(md, today=today))
    for name in (*ART9_FIELDS, *sorted(extra)):
        fv = md.get(name)
        if fv is not None and fv.confidence < config.review_threshold and name not in flagged:
            out.append(Flag(name, "low_confidence", f"confidence {fv.confidence:.2f} is below "
                            f"{config.review_threshold:.2f}; check against the paper"))
    return Extraction(document_type, md, tuple(out))


def extract_pages(pages: Sequence[OcrPage], *, config: ExtractConfig | None = None, catalog: Catalog | None = None,
                  today: date | None = None) -> Extraction:
    """Extract the document type and Art. 9 fields from the OCR pages of one document."""
    cfg = config or ExtractConfig()
    if not pages:
        raise InputError("no OCR pages to extract from", remedy="pass the pages of one document")
    cat = catalog or Catalog.load(cfg.catalog_path)
    prepared = prepare(list(pages))
    b = _Builder(cfg)
    first: list[Line] = prepared[0]
    header = parse_header(first, cat, pages[0].layout_width)
    _header_fields(b, header)
    body = first[header.body_start:] + [ln for page in prepared[1:] for ln in page]
    _kv_fields(b, key_values(body, cfg.fuzzy_key_ratio), today)
    doc_type = _document_type(b, header, cat)
    entry = cat.by_code(doc_type.code) if doc_type.code else None
    if entry is not None:
        b.put("document_name", entry.name, doc_type.confidence)
    _cross_checks(b, today)
    return finish(doc_type, b.values, b.flags, cfg, today)
