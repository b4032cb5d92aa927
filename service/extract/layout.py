"""Layout-aware parsing of the NĐ 30/2020 header (docs/REGULATION.md §7.3).

Top-left: governing body (cơ quan chủ quản) and issuing agency, then "Số: <n>/<ký hiệu>".
Top-right: the national motto, then "<Place>, ngày DD tháng MM năm YYYY". Centre: the document
type heading and the summary (trích yếu); a công văn has "V/v …" under its number instead.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from service.domain.dates import MONTH_WORD, DateMatch, search_vn_date
from service.domain.errors import ValidationError
from service.extract.catalog import Catalog, HeadingMatch
from service.extract.lines import Line, mean_confidence, typical_height

# Words that start a new agency name in the header block (on folded text).
_AGENCY_HEADS = re.compile(
    r"^(uy ban|ubnd|bo |bo$|so |cong an|phong |chi cuc|cuc |tong cuc|hoi dong|hdnd|van phong|ban |truong |"
    r"toa an|vien |chinh phu|quoc hoi|thu tuong|chu tich|trung tam|benh vien|kho bac|ngan hang|doan |"
    r"dang uy|lien doan|hoi |cong ty|tap doan|bhxh|bao hiem|thanh tra|chi nhanh|ky niem|tinh uy|huyen uy)")
_MOTTO = re.compile(r"cong hoa xa hoi|chu nghia viet nam|doc lap|tu do\s*[-–]?\s*hanh phuc")
_NUMBER = re.compile(r"(?:^|\b)s[o0]\s*(?:hieu)?\s*[:.;]?\s*(\d{1,6}\s*/\s*(?:\d{4}\s*/\s*)?[^\s]+)")
_PLAIN_NUMBER = re.compile(r"^\s*s[o0]\s*[:.]\s*([0-9a-z][0-9a-z.\-]{0,20})\s*$")
_BARE_NUMBER = re.compile(r"^\s*(\d{1,6}\s*/\s*(?:\d{4}\s*/\s*)?[a-z][^\s]*)\s*$")
_VV = re.compile(r"^v\s*/\s*v\b")
_MONTH_WORD = re.compile(MONTH_WORD)
_BODY_START = re.compile(r"^(can cu|xet |theo |kinh gui|dieu \d|chuong |thuc hien)")


def _opens_sentence(text: str) -> bool:
    """True when ``text`` starts with a capitalised word ("Theo", "Điều"), not "theo" nor "THEO"."""
    letters = [c for c in text[:3] if c.isalpha()]
    return len(letters) >= 2 and letters[0].isupper() and letters[1].islower()


@dataclass(frozen=True, slots=True)
class Found:
    """A value read from one or more lines, with the confidence of reading it."""

    value: str
    confidence: float
    lines: tuple[Line, ...] = field(default=())


@dataclass(frozen=True, slots=True)
class Header:
    """What the header parser found; absent parts are ``None``."""

    parent_agency: Found | None = None
    agency: Found | None = None
    number: Found | None = None
    date: Found | None = None
    date_match: DateMatch | None = None
    date_error: ValidationError | None = None
    heading: HeadingMatch | None = None
    heading_line: Line | None = None
    summary: Found | None = None
    body_start: int = 0  # index of the first line after the header and title


def _found(lines: list[Line], text: str | None = None, factor: float = 1.0) -> Found:
    value = text if text is not None else " ".join(ln.text for ln in lines)
    return Found(value, mean_confidence(lines) * factor, tuple(lines))


def _clean_agency(lines: list[Line]) -> str:
    """Agency text without the trailing rule some OCR engines read as dashes."""
    return re.sub(r"[\s\-_–—=.]{3,}$", "", " ".join(ln.text for ln in lines)).strip()


def _agency_groups(lines: list[Line]) -> list[list[Line]]:
    groups: list[list[Line]] = []
    for ln in lines:
        if not groups or _AGENCY_HEADS.match(ln.folded):
            groups.append([ln])
        else:
            groups[-1].append(ln)
    return groups


def _find_heading(lines: list[Line], catalog: Catalog, *, below: int,
                  band: tuple[float, float]) -> tuple[int, int, HeadingMatch] | None:
    """The first catalogue heading: upper case, below y ``below``, centre inside ``band``.

    A heading printed over two lines ("GIẤY CHỨNG NHẬN" / "QUYỀN SỬ DỤNG ĐẤT …") is matched joined;
    returns (first line index, last line index, match).
    """
    for i, ln in enumerate(lines[:40]):
        if ln.top < below or not band[0] <= ln.cx <= band[1]:
            continue
        if not ln.is_upper() or ln.is_rule() or _MOTTO.search(ln.folded):
            continue
        best = catalog.match_heading(ln.text)
        last = i
        nxt = lines[i + 1] if i + 1 < len(lines) else None
        if nxt is not None and nxt.is_upper() and abs(nxt.cx - ln.cx) < 0.1 * max(ln.width, nxt.width) + ln.height:
            joined = catalog.match_heading(f"{ln.text} {nxt.text}")
            if joined is not None and (best is None or (joined.score, len(joined.heading)) > (best.score,
                                                                                                 len(best.heading))):
                best, last = joined, i + 1
        if best is not None:
            return i, last, best
    return None


def _rows_below(lines: list[Line], i: int, h: float) -> list[list[Line]]:
    """The lines after index ``i`` on the same page, grouped into rows by geometry (top to bottom,
    each row left to right): a summary read out of order by the OCR is put back in order."""
    head = lines[i]
    mid = (head.top + head.bottom) / 2 + 0.4 * min(h, head.height)
    below = [ln for ln in lines[i + 1:i + 16] if ln.page == head.page and (ln.top + ln.bottom) / 2 >= mid]
    rows: list[list[Line]] = []
    for ln in sorted(below, key=lambda ln: (ln.top + ln.bottom) / 2):
        last = rows[-1] if rows else None
        side_by_side = last is not None and all(min(ln.box[2], o.box[2]) - max(ln.box[0], o.box[0])
                                                < 0.2 * min(ln.width, o.width) for o in last)
        if last is not None and side_by_side and min(ln.bottom, last[0].bottom) - max(ln.top, last[0].top) >= 0.5 * min(
                ln.height, last[0].height):
            last.append(ln)
        else:
            rows.append([ln])
    return [sorted(r, key=lambda ln: ln.box[0]) for r in rows]


def _row_line(row: list[Line]) -> Line:
    """One row's pieces as a single line (text joined left to right, box their union)."""
    if len(row) == 1:
        return row[0]
    text = " ".join(ln.text for ln in row)
    box = (min(ln.box[0] for ln in row), min(ln.box[1] for ln in row), max(ln.box[2] for ln in row),
           max(ln.box[3] for ln in row))
    return Line(text, " ".join(ln.folded for ln in row), box, mean_confidence(row), row[0].page)


def _summary(lines: list[Line], i: int, heading: HeadingMatch, *, joined: bool = False) -> tuple[Found | None, int]:
    """Summary lines under the heading ending at ``i``, in reading order by geometry, stopping at
    a gap, a rule, an off-centre or full-width (body) line, a change of case, or the body's first words."""
    head = lines[i]
    picked: list[Line] = []
    rest = head.text[len(heading.heading):].strip(" :-") if heading.score >= 0.97 and not joined else ""
    if rest and len(rest) < len(head.text):
        picked.append(Line(rest, head.folded[-len(rest):], head.box, head.confidence, head.page))
    h = typical_height(lines[i:i + 5])
    full = max((ln.width for ln in lines if ln.page == head.page), default=head.width)
    prev = head
    used: list[Line] = []
    for row in _rows_below(lines, i, h):
        ln = _row_line(row)
        if ln.is_rule():
            break
        # a centred line; a body paragraph's first line is off by half its indent, about a line height
        off_centre = abs(ln.cx - head.cx) > 0.6 * h
        # Top-to-top distance: robust to boxes that are taller or shorter than the ink.
        far = ln.top - prev.top > 2.2 * h
        body_wide = ln.width >= 0.93 * full and len(row) == 1
        authority = bool(picked) and not picked[-1].is_upper() and ln.is_upper()
        lowered = bool(picked) and picked[-1].is_upper() and not ln.is_upper()
        # "Căn cứ …", "Theo đề nghị …": a body paragraph opens with a capital; a summary's own next line
        # ("theo Luật …", or "THEO LUẬT …" in an upper-case summary) does not stop it
        body = any(_BODY_START.match(piece.folded) and _opens_sentence(piece.text) for piece in row)
        if far or authority or lowered or body_wide or body or off_centre:
            break
        picked.append(ln)
        used.extend(row)
        prev = ln
    if not picked:
        return None, i + 1
    j = max((lines.index(ln) for ln in used), default=i) + 1
    return _found(picked), j


def _column_split(motto_idx: list[int], lines: list[Line], page_width: int) -> float:
    """x separating the agency column from the motto column."""
    if motto_idx:
        motto = lines[motto_idx[0]]
        return max(page_width * 0.35, min(page_width * 0.6, motto.box[0] - 0.02 * page_width))
    return page_width * 0.5


def _date(lines: list[Line]) -> tuple[Found | None, DateMatch | None, ValidationError | None]:
    for ln in lines:
        if _MOTTO.search(ln.folded) and "ngay" not in ln.folded:
            continue
        try:
            m = search_vn_date(ln.text, field_name="issue_date")
        except ValidationError as exc:
            return _found([ln]), None, exc
        if m is not None:
            return _found([ln]), m, None
        if "ngay" in ln.folded and _MONTH_WORD.search(ln.folded):  # "tháng", or its vowel misread ("thóng")
            return _found([ln]), None, ValidationError("issue_date", "the date line is unreadable",
                                                       remedy="type the issue date from the paper")
    return None, None, None


def parse_header(lines: list[Line], catalog: Catalog, page_width: int) -> Header:
    """Parse the header block of the first page (``lines`` = that page's lines in reading order)."""
    motto_idx = [i for i, ln in enumerate(lines[:16])
                 if _MOTTO.search(ln.folded) and (ln.is_upper() or ln.folded.startswith("doc lap"))]
    if motto_idx:  # the motto is the top block; a summary quoting "… CỘNG HÒA XÃ HỘI …" lower down is not it
        top = lines[motto_idx[0]]
        motto_idx = [i for i in motto_idx if lines[i].top - top.top < 4 * top.height]
    split_x = _column_split(motto_idx, lines, page_width)
    below = max((lines[i].bottom for i in motto_idx), default=0)
    heading = _find_heading(lines, catalog, below=below, band=(split_x - 0.2 * page_width, page_width * 0.85))
    limit = heading[0] if heading else min(len(lines), 12)
    heading_last = heading[1] if heading else 0
    head_lines = lines[:limit]
    left = [ln for ln in head_lines if ln.cx < split_x and not _MOTTO.search(ln.folded)]
    right = [ln for ln in head_lines if ln.cx >= split_x or _MOTTO.search(ln.folded)]

    number: Found | None = None
    number_pos = len(left)
    for k, ln in enumerate(left):
        m = _NUMBER.search(ln.folded) or _BARE_NUMBER.match(ln.folded) or _PLAIN_NUMBER.match(ln.folded)
        if m:
            number = _found([ln], ln.text[m.start(1):m.end(1)])
            number_pos = k
            break
    agency_lines = [ln for ln in left[:number_pos] if not ln.is_rule() and ln.is_upper()
                    and search_vn_date(ln.text) is None]
    groups = _agency_groups(agency_lines)
    agency = _found(groups[-1], _clean_agency(groups[-1])) if groups else None
    parent_lines = [ln for g in groups[:-1] for ln in g]
    parent = _found(parent_lines, _clean_agency(parent_lines)) if parent_lines else None
    date_found, date_match, date_error = _date([*right, *left[number_pos + 1:]])

    summary: Found | None = None
    used = [*(motto_idx), *(i for i, ln in enumerate(head_lines)
                            if any(ln in f.lines for f in (agency, parent, number, date_found) if f))]
    body_start = max(used) + 1 if used else 0
    if heading is not None:
        summary, body_start = _summary(lines, heading_last, heading[2], joined=heading_last != heading[0])
    else:
        vv = [ln for ln in left[number_pos + 1:] if _VV.match(ln.folded)]
        if vv:
            start = left.index(vv[0])
            rest = [ln for ln in left[start:] if not ln.is_rule() and search_vn_date(ln.text) is None]
            text = re.sub(r"^[Vv]\s*/\s*[Vv]\s*[:.]?\s*", "", " ".join(ln.text for ln in rest))
            summary = _found(rest, text)
    return Header(parent, agency, number, date_found, date_match, date_error,
                  heading[2] if heading else None, lines[heading[0]] if heading else None, summary, body_start)
