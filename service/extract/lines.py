"""Working form of OCR lines: NFC text, accent-folded text, box geometry, page index.

Also splits lines that the OCR layout stage merged across the two header columns
("ỦY BAN NHÂN DÂN TỈNH X CỘNG HÒA XÃ HỘI ..." or "Số: 12/QĐ-UBND Hà Nội, ngày ...").
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from statistics import median

from service.domain.errors import InputError
from service.domain.text import fold, nfc
from service.ocr.types import OcrLine, OcrPage

# Where a right-column phrase starts inside a merged header line (on folded text).
_RIGHT_STARTS = re.compile(r"(?<=\S)\s+(cong hoa xa hoi|cong hoa xhcn|doc lap\s*[-–]?\s*tu do)")
_NUMBER_THEN_DATE = re.compile(
    r"^(\s*s[o0]\s*[:.]?\s*\d{1,6}\s*/\s*(?:\d{4}\s*/\s*)?[^\s]+)\s+(\S.*\bngay\b.*)$")


@dataclass(frozen=True, slots=True)
class Line:
    """One OCR line prepared for matching."""

    text: str
    folded: str
    box: tuple[int, int, int, int]
    confidence: float
    page: int

    @property
    def cx(self) -> float:
        """Horizontal centre of the box."""
        return (self.box[0] + self.box[2]) / 2

    @property
    def top(self) -> int:
        """Top edge."""
        return self.box[1]

    @property
    def bottom(self) -> int:
        """Bottom edge."""
        return self.box[3]

    @property
    def height(self) -> int:
        """Box height in pixels (at least 1)."""
        return max(1, self.box[3] - self.box[1])

    @property
    def width(self) -> int:
        """Box width in pixels (at least 1)."""
        return max(1, self.box[2] - self.box[0])

    def is_upper(self) -> bool:
        """True when at least 80 % of the letters are upper case (headings, agency names)."""
        letters = [c for c in self.text if c.isalpha()]
        return bool(letters) and sum(c.isupper() for c in letters) >= 0.8 * len(letters)

    def is_rule(self) -> bool:
        """True for a line of dashes / underscores (the rules under header blocks)."""
        return bool(re.fullmatch(r"[\s\-_–—.=*]+", self.text))


def _cut(line: Line, at: int) -> tuple[Line, Line]:
    """Split ``line`` at character ``at``, dividing the box in proportion to the characters."""
    n = max(1, len(line.text))
    x0, y0, x1, y1 = line.box
    xm = x0 + round((x1 - x0) * at / n)
    left, right = line.text[:at].rstrip(), line.text[at:].lstrip()
    return (Line(left, fold(left), (x0, y0, xm, y1), line.confidence, line.page),
            Line(right, fold(right), (xm, y0, x1, y1), line.confidence, line.page))


def split_merged(line: Line) -> list[Line]:
    """Split a header line that joins the left and right columns; otherwise ``[line]``."""
    m = _RIGHT_STARTS.search(line.folded)
    if m and m.start(1) >= 4:
        left, right = _cut(line, m.start(1))
        if left.is_upper() and (right.is_upper() or right.folded.startswith("doc lap")):
            return [*split_merged(left), right]
    m = _NUMBER_THEN_DATE.match(line.folded)
    if m:
        left, right = _cut(line, m.start(2))
        return [left, right]
    return [line]


def prepare(pages: list[OcrPage]) -> list[list[Line]]:
    """Lines of each page, NFC text, empty lines dropped, merged header lines split."""
    out: list[list[Line]] = []
    for index, page in enumerate(pages):
        lines: list[Line] = []
        for n, raw in enumerate(page.lines, start=1):
            for name, at in (("box", raw.box), ("flat_box", raw.flat)):
                if at is not None and (len(at) != 4 or at[0] > at[2] or at[1] > at[3]):
                    raise InputError(f"OCR page {index + 1} line {n}: {name} must be 4 numbers x0, y0, x1, y1 "
                                     "with x0 <= x1 and y0 <= y1", remedy="pass the output of 'sohoa ocr --json'")
            lines.extend(_from_ocr(raw, index))
        out.append(lines)
    return out


def _from_ocr(raw: OcrLine, page: int) -> list[Line]:
    text = nfc(raw.text)
    if not text:
        return []
    at = raw.layout_box  # a photographed page's straightened box: its columns and centres line up
    box = (int(at[0]), int(at[1]), int(at[2]), int(at[3]))
    conf = min(1.0, max(0.0, float(raw.confidence)))
    return split_merged(Line(text, fold(text), box, conf, page))


def typical_height(lines: list[Line]) -> float:
    """Median line height (1.0 when there are no lines)."""
    return float(median(ln.height for ln in lines)) if lines else 1.0


def mean_confidence(lines: list[Line]) -> float:
    """Mean OCR confidence of ``lines`` (0 when empty)."""
    return sum(ln.confidence for ln in lines) / len(lines) if lines else 0.0
