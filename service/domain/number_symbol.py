"""Number and symbol (số, ký hiệu) of a document, NĐ 30/2020 Điều 8 and Phụ lục III (docs/REGULATION.md §7.1).

Forms handled:

* ``1403/QĐ-UBND`` - number / type abbreviation - issuer (- drafting unit);
* ``52/2020/NĐ-CP`` - legal normative documents carry the year;
* ``123/UBND-VP`` - công văn: no type abbreviation, issuer - drafting unit or field;
* OCR / PDF-text quirks: a leading "Số:", spaces around "/", typographic dashes, the hyphen lost
  after a known type ("3027/QĐUBND", "365/TTrSNV", "92/2017/NĐCP").
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType

from service.domain.errors import ValidationError
from service.domain.text import fold, nfc, normalize_dashes

# NĐ 30/2020 Phụ lục III: abbreviations of administrative document types.
ADMIN_TYPE_ABBREVIATIONS: MappingProxyType[str, str] = MappingProxyType({
    "NQ": "Nghị quyết (cá biệt)", "QĐ": "Quyết định (cá biệt)", "CT": "Chỉ thị", "QC": "Quy chế",
    "QyĐ": "Quy định", "TC": "Thông cáo", "TB": "Thông báo", "HD": "Hướng dẫn", "CTr": "Chương trình",
    "KH": "Kế hoạch", "PA": "Phương án", "ĐA": "Đề án", "DA": "Dự án", "BC": "Báo cáo", "BB": "Biên bản",
    "TTr": "Tờ trình", "HĐ": "Hợp đồng", "CĐ": "Công điện", "BGN": "Bản ghi nhớ", "BTT": "Bản thỏa thuận",
    "GUQ": "Giấy ủy quyền", "GM": "Giấy mời", "GGT": "Giấy giới thiệu", "GNP": "Giấy nghỉ phép",
    "PG": "Phiếu gửi", "PC": "Phiếu chuyển", "PB": "Phiếu báo", "SY": "Bản sao y", "TrS": "Bản trích sao",
    "SL": "Bản sao lục",
})

# Legal normative document types (văn bản QPPL) that appear with a year in the number.
LEGAL_TYPE_ABBREVIATIONS: MappingProxyType[str, str] = MappingProxyType({
    "NĐ": "Nghị định", "TT": "Thông tư", "TTLT": "Thông tư liên tịch", "NQ": "Nghị quyết",
    "QĐ": "Quyết định", "CT": "Chỉ thị", "L": "Luật", "PL": "Pháp lệnh", "NQLT": "Nghị quyết liên tịch",
})

ALL_TYPE_ABBREVIATIONS: MappingProxyType[str, str] = MappingProxyType(
    {**LEGAL_TYPE_ABBREVIATIONS, **ADMIN_TYPE_ABBREVIATIONS})

_PREFIX = re.compile(r"^\s*(?:luat\s+|nghi dinh\s+|quyet dinh\s+)?so\s*(?:hieu)?\s*[:.]?\s*")
_SHAPE = re.compile(r"^(\d{1,6})/(?:(\d{4})/)?([^\s/]+)$")
_NOTATION_CHARS = re.compile(r"^[0-9A-Za-zĐđ&.\-]+$")
_PART = re.compile(r"^[0-9A-Za-zĐđ&.]+$")


def _folded_lookup() -> dict[str, str]:
    """Accent-free upper-case key -> abbreviation, only where that key is unambiguous."""
    seen: dict[str, list[str]] = {}
    for abbr in ALL_TYPE_ABBREVIATIONS:
        seen.setdefault(fold(abbr).upper(), []).append(abbr)
    return {k: v[0] for k, v in seen.items() if len(v) == 1 and k not in ALL_TYPE_ABBREVIATIONS}


_FOLDED_TYPES = _folded_lookup()


class NumberSymbolKind(StrEnum):
    """The three shapes of a number and symbol."""

    WITH_TYPE = "with_type"  # 1403/QĐ-UBND
    WITH_YEAR = "with_year"  # 52/2020/NĐ-CP (legal normative, numbered with the year)
    CONG_VAN = "cong_van"  # 123/UBND-VP (no type abbreviation)


@dataclass(frozen=True, slots=True)
class NumberSymbol:
    """A parsed number and symbol; ``str()`` gives the canonical written form."""

    number: str
    year: int | None
    type_abbr: str | None
    issuer: str
    drafting_unit: str | None = None

    @property
    def kind(self) -> NumberSymbolKind:
        """Which of the three shapes this is."""
        if self.year is not None:
            return NumberSymbolKind.WITH_YEAR
        return NumberSymbolKind.WITH_TYPE if self.type_abbr else NumberSymbolKind.CONG_VAN

    @property
    def notation(self) -> str:
        """The symbol (ký hiệu) after the number: ``QĐ-UBND``, ``BNV-VP``."""
        parts = [p for p in (self.type_abbr, self.issuer, self.drafting_unit) if p]
        return "-".join(parts)

    @property
    def type_name(self) -> str | None:
        """The document type named by the abbreviation (Phụ lục III first), if any."""
        if self.type_abbr is None:
            return None
        if self.year is None:
            return ADMIN_TYPE_ABBREVIATIONS.get(self.type_abbr) or LEGAL_TYPE_ABBREVIATIONS.get(self.type_abbr)
        return LEGAL_TYPE_ABBREVIATIONS.get(self.type_abbr) or ADMIN_TYPE_ABBREVIATIONS.get(self.type_abbr)

    def __str__(self) -> str:
        year = f"{self.year}/" if self.year is not None else ""
        return f"{self.number}/{year}{self.notation}"


def _as_type(token: str) -> str | None:
    if token in ALL_TYPE_ABBREVIATIONS:
        return token
    return _FOLDED_TYPES.get(fold(token).upper())


def _split_glued(token: str) -> tuple[str, str] | None:
    """Split "QĐUBND" into ("QĐ", "UBND") when a known type is glued to an upper-case issuer."""
    for abbr in sorted(ALL_TYPE_ABBREVIATIONS, key=len, reverse=True):
        rest = token[len(abbr):]
        if token.startswith(abbr) and len(rest) >= 2 and rest[0].isupper():
            return abbr, rest
    return None


def parse_number_symbol(text: str, *, field_name: str = "number_symbol") -> NumberSymbol:
    """Parse "Số: 1403/QĐ-UBND", "52/2020/NĐ-CP" or "123/UBND-VP" into a :class:`NumberSymbol`."""
    clean = normalize_dashes(nfc(text))
    prefix = _PREFIX.match(fold(clean))  # "Số:", "So:", "Sô:" (OCR), "Số hiệu:" ...
    if prefix:
        clean = clean[prefix.end():]
    clean = re.sub(r"\s*([/\-])\s*", r"\1", clean).strip().rstrip(".;,")
    m = _SHAPE.fullmatch(clean)
    if not m:
        raise ValidationError(field_name, "expected '<number>/<symbol>' such as 1403/QĐ-UBND or 52/2020/NĐ-CP",
                              remedy="copy the 'Số:' line under the agency name exactly")
    number, year_text, notation = m.groups()
    if not _NOTATION_CHARS.fullmatch(notation) or notation.startswith("-") or notation.endswith("-"):
        raise ValidationError(field_name, f"symbol '{notation}' has characters a symbol cannot contain",
                              remedy="a symbol is capital letters joined by '-' (e.g. QĐ-UBND)")
    year = int(year_text) if year_text else None
    if year is not None and not 1945 <= year <= 2100:
        raise ValidationError(field_name, f"year {year} in the number is not plausible",
                              remedy="check the four digits between the two slashes")
    parts = notation.split("-")
    if any(not _PART.fullmatch(p) for p in parts):
        raise ValidationError(field_name, f"symbol '{notation}' has an empty part", remedy="remove doubled '-'")
    type_abbr = _as_type(parts[0]) if len(parts) >= 2 else None
    if type_abbr is not None:
        return NumberSymbol(number, year, type_abbr, parts[1], "-".join(parts[2:]) or None)
    if len(parts) == 1:
        glued = _split_glued(parts[0])
        if glued is not None:
            return NumberSymbol(number, year, glued[0], glued[1])
        return NumberSymbol(number, year, None, parts[0])
    return NumberSymbol(number, year, None, parts[0], "-".join(parts[1:]))
