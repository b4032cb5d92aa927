"""Owner identifiers: personal ID (CCCD), old ID (CMND), passport, tax code, organisation e-ID.

Rules and sources are in ``docs/REGULATION.md`` §5:

* CCCD (§5.1): 12 digits ``PPP G YY NNNNNN``; ``PPP`` a province of TT 07/2016/TT-BCA Phụ lục 1,
  ``G`` century + gender (even male, odd female), ``YY`` birth year. No check digit exists.
* CMND (§5.2): 9 digits, no checksum.
* Passport (§5.3): one upper-case letter and 7 digits.
* Tax code (§5.4): 10 digits whose 10th is ``10 - (Σ Ni·Wi mod 11)`` (remainder 10 -> 0) with
  ``W = 31,29,23,19,17,13,7,5,3``; branches append ``-NNN`` (001–999).
* Organisation e-ID (§5.5): QCVN 102 ``V1V2V3.Z1Z2.Y1Y2.MX1X2`` (M = G central, H provincial) or the
  general QĐ 20/2020 form: dot-separated groups of 0–9 A–Z, at most 35 characters.

Every failure is a :class:`ValidationError` naming the field and saying why.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from typing import Any

from service.domain.errors import ValidationError
from service.domain.provinces import province_name
from service.domain.text import nfc, normalize_dashes

TAX_WEIGHTS: tuple[int, ...] = (31, 29, 23, 19, 17, 13, 7, 5, 3)
ORG_ID_MAX_LEN = 35

_TAX_FORMAT = re.compile(r"^(\d{10})(?:-(\d{3}))?$")
_PASSPORT = re.compile(r"^[A-Z]\d{7}$")
_QCVN102 = re.compile(r"^(\d{3})\.(\d{2})\.(\d{2})\.([GH])(\d{2})$")
_ORG_GENERAL = re.compile(r"^[0-9A-Z]+(?:\.[0-9A-Z]+)+$")


class IdentifierKind(StrEnum):
    """Which kind of identifier a value is."""

    CCCD = "cccd"
    CMND = "cmnd"
    PASSPORT = "passport"
    TAX_CODE = "tax_code"
    TAX_CODE_BRANCH = "tax_code_branch"
    ORGANIZATION = "organization"

    @property
    def is_person(self) -> bool:
        """True for identifiers of a natural person (CCCD, CMND, passport)."""
        return self in (IdentifierKind.CCCD, IdentifierKind.CMND, IdentifierKind.PASSPORT)


@dataclass(frozen=True, slots=True)
class Identifier:
    """A validated identifier: its kind, normalized value and what its digits say."""

    kind: IdentifierKind
    value: str
    details: dict[str, Any] = field(default_factory=dict, hash=False, compare=False)

    def __str__(self) -> str:
        return self.value


def _clean(text: str) -> str:
    """NFC, ASCII hyphens, no inner whitespace, upper case (OCR and typing tolerant)."""
    return re.sub(r"\s+", "", normalize_dashes(nfc(text))).upper()


def validate_cccd(text: str, *, field_name: str = "owner_id", today: date | None = None) -> Identifier:
    """Validate a 12-digit personal identification number and decode province, gender, birth year.

    Unknown province prefixes are refused (they may be foreign-country codes, which are not covered).
    """
    value = _clean(text)
    if not re.fullmatch(r"\d{12}", value):
        raise ValidationError(field_name, "must be exactly 12 digits",
                              remedy="type the 12 digits of the personal identification number (số định danh cá nhân)")
    prov_code, g, yy, rand = value[:3], int(value[3]), int(value[4:6]), value[6:]
    province = province_name(prov_code)
    if province is None:
        raise ValidationError(
            field_name,
            f"province code {prov_code} not in the 63-province table (TT 07/2016/TT-BCA Phụ lục 1); "
            "could also be a foreign-country code (not covered)",
            remedy="check the first three digits against the card; for a birth registered abroad use the "
                   "name + date-of-birth fallback fields")
    century_base = 1900 + 100 * (g // 2)
    birth_year = century_base + yy
    current = (today or date.today()).year
    if birth_year > current:
        raise ValidationError(field_name, f"decoded birth year {birth_year} is in the future",
                              remedy="the 4th digit (century/gender) or the 5th-6th (year) is misread; check the card")
    return Identifier(IdentifierKind.CCCD, value, {
        "province_code": prov_code,
        "province": province,
        "gender_century_digit": g,
        "gender": "Nam" if g % 2 == 0 else "Nữ",
        "century_base": century_base,
        "birth_year": birth_year,
        "random_6": rand,
    })


def validate_cmnd(text: str, *, field_name: str = "owner_id") -> Identifier:
    """Validate a legacy 9-digit identity card number (no checksum exists)."""
    value = _clean(text)
    if not re.fullmatch(r"\d{9}", value):
        raise ValidationError(field_name, "an old identity card (CMND) number must be exactly 9 digits",
                              remedy="type the 9 digits of the old card, or use the 12-digit personal ID")
    return Identifier(IdentifierKind.CMND, value, {"issuing_prefix": value[:2]})


def validate_passport(text: str, *, field_name: str = "owner_id") -> Identifier:
    """Validate a Vietnamese passport number: one upper-case letter followed by 7 digits."""
    value = _clean(text)
    if not _PASSPORT.fullmatch(value):
        raise ValidationError(field_name, "a passport number must be one letter followed by 7 digits (e.g. B1234567)",
                              remedy="copy the number printed on the passport's data page")
    return Identifier(IdentifierKind.PASSPORT, value, {"letter": value[0]})


def tax_check_digit(first9: str) -> int | None:
    """The check digit N10 for the first nine digits, or ``None`` when the prefix can never be issued."""
    remainder = sum(int(d) * w for d, w in zip(first9, TAX_WEIGHTS, strict=True)) % 11
    if remainder == 0:
        return None
    return (10 - remainder) % 10


def validate_tax_code(text: str, *, field_name: str = "owner_id") -> Identifier:
    """Validate a 10-digit tax code (check digit) or its 13-digit branch form ``NNNNNNNNNN-NNN``."""
    value = _clean(text)
    m = _TAX_FORMAT.fullmatch(value)
    if not m:
        raise ValidationError(field_name, "format: must be 10 digits or 10 digits + '-' + 3 digits",
                              remedy="copy the tax code (mã số thuế) exactly; a branch adds '-' and 3 digits")
    base, branch = m.group(1), m.group(2)
    expected = tax_check_digit(base[:9])
    if expected is None:
        raise ValidationError(field_name, "sum mod 11 == 0 -> check digit would be 10; prefix never issued",
                              remedy="one of the first nine digits is misread; check the document")
    if expected != int(base[9]):
        raise ValidationError(field_name, f"check digit mismatch: expected {expected}, got {base[9]}",
                              remedy="one digit of the tax code is misread; check the document")
    details: dict[str, Any] = {"base": base, "range": base[:2], "serial": base[2:9], "check_digit": base[9]}
    if branch is None:
        return Identifier(IdentifierKind.TAX_CODE, base, details)
    if branch == "000":
        raise ValidationError(field_name, "branch suffix N11N12N13 must be 001..999",
                              remedy="a branch number starts at 001")
    details["branch"] = branch
    return Identifier(IdentifierKind.TAX_CODE_BRANCH, f"{base}-{branch}", details)


def validate_organization_id(text: str, *, field_name: str = "owner_id") -> Identifier:
    """Validate an organisation electronic identifier (QCVN 102 / QĐ 20/2020/QĐ-TTg).

    The QCVN 102 form ``V1V2V3.Z1Z2.Y1Y2.MX1X2`` is decoded (level, central/provincial); other
    dot-separated forms of 0–9 A–Z up to 35 characters are accepted as ``general``.
    """
    value = _clean(text)
    if len(value) > ORG_ID_MAX_LEN:
        raise ValidationError(field_name, f"an organisation identifier has at most {ORG_ID_MAX_LEN} characters",
                              remedy="copy the agency code (mã định danh điện tử) exactly")
    m = _QCVN102.fullmatch(value)
    if m:
        v, z, y, scope, x = m.groups()
        level = 4 if v != "000" else 3 if z != "00" else 2 if y != "00" else 1
        return Identifier(IdentifierKind.ORGANIZATION, value, {
            "scheme": "qcvn102", "level": level, "scope": "central" if scope == "G" else "provincial",
            "unit": f"{scope}{x}"})
    if _ORG_GENERAL.fullmatch(value):
        return Identifier(IdentifierKind.ORGANIZATION, value, {"scheme": "general", "groups": value.split(".")})
    raise ValidationError(field_name,
                          "an organisation identifier is dot-separated groups of digits and capital letters "
                          "(e.g. 000.00.00.H56)",
                          remedy="copy the agency code exactly, or use the enterprise tax code")


def parse_identifier(text: str, *, field_name: str = "owner_id", today: date | None = None) -> Identifier:
    """Recognise and validate any owner identifier by its shape.

    12 digits -> CCCD; 9 digits -> CMND; 10 digits or ``10-3`` -> tax code; letter + 7 digits ->
    passport; dotted groups -> organisation. Raises :class:`ValidationError` with the reason.
    """
    value = _clean(text)
    if not value:
        raise ValidationError(field_name, "is empty", remedy="type the identifier or use the fallback fields")
    if value.isdigit():
        if len(value) == 12:
            return validate_cccd(value, field_name=field_name, today=today)
        if len(value) == 9:
            return validate_cmnd(value, field_name=field_name)
        if len(value) == 10:
            return validate_tax_code(value, field_name=field_name)
        raise ValidationError(field_name, f"{len(value)} digits is no known identifier "
                              "(12 personal ID, 9 old ID card, 10 tax code)",
                              remedy="a digit is missing or doubled; check the document")
    if re.fullmatch(r"\d{10}-\d+", value):
        return validate_tax_code(value, field_name=field_name)
    if re.fullmatch(r"[A-Z]\d+", value):
        return validate_passport(value, field_name=field_name)
    if "." in value:
        return validate_organization_id(value, field_name=field_name)
    raise ValidationError(field_name, "is not a personal ID, old ID card, passport, tax code or organisation "
                          "identifier", remedy="check for letters read in place of digits (O/0, I/1)")
