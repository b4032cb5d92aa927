"""Vietnamese dates <-> ISO (NĐ 30/2020 Phụ lục I; docs/REGULATION.md §7.2).

Accepted forms: "<Place>, ngày 05 tháng 01 năm 2020" (with or without diacritics, the month word
with its vowel misread as OCR may: "thóng"), "05/4/2023",
"09-08-2022", "09.08.2022", ISO "2022-08-09". A date-shaped text that is not a calendar date
(31/02) is a :class:`ValidationError`, never a guess.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from service.domain.errors import ValidationError
from service.domain.text import fold, nfc

# Patterns run on the folded text (lower case, no diacritics), which keeps the offsets of nfc(text).
# The month word may have its vowel misread ("thóng", "thung": OCR): between the day and the month,
# in the fixed "ngày D … M năm Y" frame, the three numbers alone say which date it is.
MONTH_WORD = r"th[aeiouy]ng"  # "thang", folded, its vowel as OCR may misread it
_LONG = re.compile(rf"ngay\s*(\d{{1,2}})\s*[,.]?\s*{MONTH_WORD}\s*(\d{{1,2}})\s*[,.]?\s*nam\s*(\d{{4}})")
_NUMERIC = re.compile(r"(?<!\d)(\d{1,2})\s*([/.\-])\s*(\d{1,2})\s*\2\s*(\d{4})(?!\d)")
_ISO = re.compile(r"(?<!\d)(\d{4})-(\d{2})-(\d{2})(?!\d)")
_PLACE = re.compile(r"^(.*?)[,\s]*$")


class DateStyle(StrEnum):
    """Output styles of :func:`format_vn_date`."""

    LONG = "long"  # "ngày 05 tháng 01 năm 2020" (NĐ 30 header style)
    NUMERIC = "numeric"  # "05/01/2020"
    SHORT = "short"  # "05/1/2020" (running text: month not padded)
    ISO = "iso"  # "2020-01-05"
    COMPACT = "compact"  # "05012020" (chip ID card QR)


@dataclass(frozen=True, slots=True)
class DateMatch:
    """A date found in a text: the date, the place written before it (if any) and its span."""

    value: date
    place: str | None
    start: int
    end: int


def _make(day: int, month: int, year: int, field_name: str, shown: str) -> date:
    try:
        return date(year, month, day)
    except ValueError as exc:
        raise ValidationError(field_name, f"'{shown}' is not a calendar date ({exc})",
                              remedy="check the day and month on the paper (e.g. there is no 31/02)") from exc


def search_vn_date(text: str, *, field_name: str = "date") -> DateMatch | None:
    """The first date written in ``text`` (long form, numeric or ISO), or ``None`` if there is none.

    Raises :class:`ValidationError` when a date-shaped part is not a calendar date.
    """
    clean = nfc(text)
    folded = fold(clean)
    found: list[tuple[int, int, int, int, int]] = []  # start, end, day, month, year
    for m in _LONG.finditer(folded):
        found.append((m.start(), m.end(), int(m.group(1)), int(m.group(2)), int(m.group(3))))
    for m in _NUMERIC.finditer(folded):
        found.append((m.start(), m.end(), int(m.group(1)), int(m.group(3)), int(m.group(4))))
    for m in _ISO.finditer(folded):
        found.append((m.start(), m.end(), int(m.group(3)), int(m.group(2)), int(m.group(1))))
    if not found:
        return None
    start, end, day, month, year = min(found)
    value = _make(day, month, year, field_name, clean[start:end])
    place = None
    prefix = clean[:start].strip()
    if prefix:
        folded_prefix = fold(prefix)
        if not folded_prefix.endswith("ngay"):
            stripped = _PLACE.match(prefix)
            place = stripped.group(1).strip() if stripped else None
        else:
            cut = prefix[: len(prefix) - 4].rstrip(" ,")
            place = cut or None
    return DateMatch(value, place or None, start, end)


def parse_vn_date(text: str, *, field_name: str = "date") -> date:
    """Parse a Vietnamese or ISO date ("ngày 09 tháng 8 năm 2022", "09/8/2022", "2022-08-09").

    A leading place ("Hà Nội, ") is allowed. No date, or an impossible one, is a ValidationError.
    """
    match = search_vn_date(text, field_name=field_name)
    if match is None:
        raise ValidationError(field_name, "no readable date (expected 'ngày DD tháng MM năm YYYY', DD/MM/YYYY "
                              "or YYYY-MM-DD)", remedy="type the date as written on the paper")
    return match.value


def parse_compact_date(text: str, *, field_name: str = "date") -> date:
    """Parse the ``ddmmyyyy`` form used by the chip ID card QR code."""
    value = nfc(text)
    if not re.fullmatch(r"\d{8}", value):
        raise ValidationError(field_name, "must be 8 digits ddmmyyyy", remedy="re-scan the code")
    return _make(int(value[:2]), int(value[2:4]), int(value[4:]), field_name, value)


def format_vn_date(value: date, style: DateStyle | str = DateStyle.LONG) -> str:
    """Write a date in one of the :class:`DateStyle` forms.

    ``long`` follows NĐ 30/2020: the day below 10 and the months 1 and 2 get a leading zero.
    """
    try:
        kind = DateStyle(style)
    except ValueError as exc:
        raise ValidationError("style", f"unknown date style {style!r}",
                              remedy="use one of " + ", ".join(s.value for s in DateStyle)) from exc
    if kind is DateStyle.LONG:
        month = f"{value.month:02d}" if value.month <= 2 else str(value.month)
        return f"ngày {value.day:02d} tháng {month} năm {value.year}"
    if kind is DateStyle.NUMERIC:
        return f"{value.day:02d}/{value.month:02d}/{value.year}"
    if kind is DateStyle.SHORT:
        return f"{value.day:02d}/{value.month}/{value.year}"
    if kind is DateStyle.COMPACT:
        return f"{value.day:02d}{value.month:02d}{value.year}"
    return value.isoformat()
