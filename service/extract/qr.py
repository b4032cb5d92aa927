"""The chip ID card's QR code (front side): decode, validate, fill the owner fields (source ``qr``).

Payload: ``<12-digit ID>|<old 9-digit ID or empty>|<full name>|<dob ddmmyyyy>|<gender>|<address>|
<issue date ddmmyyyy>``. The payload is checked field by field and against itself (the gender and
birth year written on the card must match those encoded in the ID); any problem is an
:class:`InputError` that names the part, never the person's data.
"""

from __future__ import annotations

import io
import re
import unicodedata
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import numpy as np
import zxingcpp
from PIL import Image

from service.domain.dates import parse_compact_date
from service.domain.errors import DAMAGED_FILE_ERRORS, InputError, ValidationError
from service.domain.fields import FieldSource, FieldValue, Metadata
from service.domain.identifiers import validate_cccd, validate_cmnd
from service.domain.text import fold, hygiene_problem, nfc
from service.extract.types import DocumentType, Extraction

#: What decoding a damaged, truncated or oversized image raises (UnidentifiedImageError is an OSError).
_UNREADABLE: tuple[type[Exception], ...] = (Image.DecompressionBombError,) + DAMAGED_FILE_ERRORS

CCCD_QR_FIELDS = ("owner_id", "old_id", "owner_name", "owner_birth_date", "gender", "residence", "id_issue_date")
MAX_IMAGE_BYTES = 40 * 1024 * 1024
MAX_IMAGE_PIXELS = 60_000_000
ID_CARD_TYPE = DocumentType("GT.CCCD", "Thẻ căn cước", 1.0)
_REMEDY = "scan the QR code on the front of the chip ID card again, or type the fields by hand"


@dataclass(frozen=True, slots=True)
class CccdQr:
    """A validated chip ID card QR payload (dates as :class:`date`)."""

    personal_id: str
    old_id: str | None
    full_name: str
    birth_date: date
    gender: str
    address: str
    issue_date: date

    def fields(self) -> dict[str, FieldValue]:
        """Art. 9 owner fields and extras, source ``qr``, confidence 1.0."""
        out = {
            "owner_id": self.personal_id, "owner_name": self.full_name,
            "owner_birth_date": self.birth_date.isoformat(), "gender": self.gender, "residence": self.address,
            "id_issue_date": self.issue_date.isoformat(),
        }
        if self.old_id:
            out["old_id"] = self.old_id
        return {k: FieldValue(v, FieldSource.QR, 1.0) for k, v in out.items()}


def _bad(what: str) -> InputError:
    return InputError(f"chip ID card QR: {what}", remedy=_REMEDY)


def parse_cccd_qr(payload: str | bytes, *, max_bytes: int = 2048, today: date | None = None) -> CccdQr:
    """Validate a QR payload (text from a serial reader, or raw bytes) into a :class:`CccdQr`."""
    try:  # text from argv or a serial line may carry undecodable bytes as surrogates
        raw = payload.encode("utf-8", "surrogateescape") if isinstance(payload, str) else bytes(payload)
    except UnicodeEncodeError as exc:
        raise _bad(f"payload is not UTF-8 text (bad character at position {exc.start})") from exc
    if len(raw) > max_bytes:
        raise _bad(f"payload is {len(raw)} bytes, more than the {max_bytes} a card QR can hold")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise _bad(f"payload is not UTF-8 text (bad byte at position {exc.start})") from exc
    text = unicodedata.normalize("NFC", text).strip("\r\n\x00 ")
    if not text:
        raise _bad("payload is empty")
    if any(unicodedata.category(ch) == "Cc" for ch in text):
        raise _bad("payload contains control characters")
    problem = hygiene_problem("qr_payload", text)
    if problem is not None:
        raise _bad(f"payload {problem}")
    parts = [p.strip() for p in text.split("|")]
    if len(parts) != len(CCCD_QR_FIELDS):
        raise _bad(f"expected {len(CCCD_QR_FIELDS)} fields separated by '|', got {len(parts)} "
                   "(truncated or not an ID card code)")
    pid, old, name, dob, gender, address, issued = parts
    now = today or date.today()
    try:
        ident = validate_cccd(pid, field_name="personal ID (field 1)", today=now)
        if old:
            validate_cmnd(old, field_name="old ID (field 2)")
        birth = parse_compact_date(dob, field_name="date of birth (field 4)")
        issue = parse_compact_date(issued, field_name="issue date (field 7)")
    except ValidationError as exc:
        raise _bad(f"{exc.field} {_safe_reason(exc.reason)}") from exc
    name = nfc(name)
    if not name or any(ch.isdigit() for ch in name) or not re.fullmatch(r"[^\W\d_]+(?:[ '\-.][^\W\d_]+)*", name):
        raise _bad("full name (field 3) must be letters and spaces")
    gender_fold = fold(gender)
    if gender_fold not in ("nam", "nu"):
        raise _bad("gender (field 5) must be Nam or Nữ")
    gender_text = "Nam" if gender_fold == "nam" else "Nữ"
    if gender_text != ident.details["gender"]:
        raise _bad("gender (field 5) does not match the gender encoded in the personal ID")
    if birth.year != ident.details["birth_year"]:
        raise _bad("birth year (field 4) does not match the year encoded in the personal ID")
    if birth > now or issue > now:
        raise _bad("a date on the card is in the future")
    if issue < birth:
        raise _bad("issue date (field 7) is before the date of birth")
    if not nfc(address):
        raise _bad("address (field 6) is empty")
    return CccdQr(ident.value, old or None, name, birth, gender_text, nfc(address), issue)


def _safe_reason(reason: str) -> str:
    """The reason without the digits it may quote (no personal data in errors that reach logs)."""
    return re.sub(r"\d{3,}", "…", reason)


def _load_image(source: Path | bytes) -> Image.Image:
    if isinstance(source, Path):
        try:
            size = source.stat().st_size
        except OSError as exc:
            raise InputError(f"{source.name}: cannot be read ({exc.strerror})", remedy="check the file path") from exc
        if size > MAX_IMAGE_BYTES:
            raise InputError(f"{source.name}: {size} bytes is too large for a photo of an ID card",
                             remedy="take a photo of the card only")
        data = source.read_bytes()
    else:
        data = source
        if len(data) > MAX_IMAGE_BYTES:
            raise InputError("image is too large for a photo of an ID card", remedy="take a photo of the card only")
    try:
        with Image.open(io.BytesIO(data)) as probe:
            if probe.width * probe.height > MAX_IMAGE_PIXELS:
                raise InputError("image has too many pixels (possible decompression bomb)",
                                 remedy="take a photo of the card at a normal resolution")
            image = probe.convert("L")
    except _UNREADABLE as exc:
        raise InputError("the file is not a readable image", remedy="use a PNG or JPEG photo of the card") from exc
    return image


def decode_qr_image(source: Path | bytes) -> list[bytes]:
    """Raw payloads of every QR code found in an image file or image bytes (InputError if none)."""
    image = _load_image(source)
    try:
        qr_only = zxingcpp.BarcodeFormats(zxingcpp.BarcodeFormat.QRCode)
        found = zxingcpp.read_barcodes(np.asarray(image), formats=qr_only)
    except (RuntimeError, ValueError) as exc:
        raise InputError("the QR decoder could not read this image", remedy=_REMEDY) from exc
    payloads = [bytes(b.bytes) for b in found if b.valid]
    if not payloads:
        raise InputError("no QR code found in the image", remedy=_REMEDY)
    return payloads


def read_cccd_qr_image(source: Path | bytes, *, max_bytes: int = 2048, today: date | None = None) -> CccdQr:
    """Decode and validate the chip ID card QR from a camera image."""
    errors: list[InputError] = []
    for payload in decode_qr_image(source):
        try:
            return parse_cccd_qr(payload, max_bytes=max_bytes, today=today)
        except InputError as exc:
            errors.append(exc)
    raise errors[0]


def qr_extraction(card: CccdQr) -> Extraction:
    """An extraction of the ID card itself: owner fields from the QR, type ``Thẻ căn cước``."""
    name = FieldValue(ID_CARD_TYPE.name, FieldSource.QR, 1.0)
    issued = FieldValue(card.issue_date.isoformat(), FieldSource.QR, 1.0)
    md = Metadata(document_type_code=ID_CARD_TYPE.code, document_name=name, issue_date=issued)
    return merge_qr(Extraction(ID_CARD_TYPE, md, ()), card)


OWNER_FIELDS = ("owner_id", "owner_name", "owner_birth_date")


def merge_qr(extraction: Extraction, card: CccdQr) -> Extraction:
    """``extraction`` with the owner's identity from the card's QR (source ``qr``, confidence 1).

    ``owner_id``, ``owner_name`` and ``owner_birth_date`` are replaced and their flags dropped (the
    QR is authoritative for who the owner is); the card's other data (address, gender, old ID,
    card issue date) is added only where the document itself gave nothing, since the paper's own
    content (e.g. the residence it certifies) must not be overwritten.
    """
    md = extraction.metadata
    for key, value in card.fields().items():
        if key in OWNER_FIELDS or md.get(key) is None:
            md = md.with_field(key, value)
    resolved = {*OWNER_FIELDS, "organization_name", "organization_founded_year"}
    keep = [f for f in extraction.flags if f.field not in resolved]
    return Extraction(extraction.document_type, md, tuple(keep))


__all__ = ["CCCD_QR_FIELDS", "CccdQr", "decode_qr_image", "merge_qr", "parse_cccd_qr",
           "qr_extraction", "read_cccd_qr_image"]
