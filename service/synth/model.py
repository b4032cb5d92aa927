"""Types of the test-document renderer: what to render and what came out (image + ground truth)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Literal

from PIL import Image

DocKind = Literal["document", "certificate"]
Condition = Literal["clean", "scanner", "phone"]
FontName = Literal["liberation", "dejavu", "noto"]
CONDITIONS: tuple[Condition, ...] = ("clean", "scanner", "phone")
FONTS: tuple[FontName, ...] = ("liberation", "dejavu", "noto")

#: Roles of ground-truth lines (benchmarks report the "number" and "date" lines separately).
Role = Literal[
    "parent_agency", "agency", "motto", "motto_sub", "number", "date", "doctype", "summary",
    "body", "page_number", "recipients", "signer", "field",
]


@dataclass(frozen=True, slots=True)
class OwnerFields:
    """The person a certificate is about (key-value lines of the form; synthetic data only)."""

    full_name: str
    date_of_birth: str  # ISO date
    personal_id: str  # 12-digit "số định danh cá nhân"
    residence: str
    valid_until: str  # ISO date


@dataclass(frozen=True, slots=True)
class SampleDocument:
    """An administrative document to render with the layout of Nghị định 30/2020/NĐ-CP.

    ``title`` is the full title as in registries ("QUYẾT ĐỊNH VỀ VIỆC ..."); the page shows
    ``doc_type`` upper-cased as a heading and ``summary`` (the rest of the title) under it.
    """

    id: str
    doc_type: str
    title: str
    issuing_body: str
    issue_date: str  # ISO date, e.g. "2021-07-09"
    place: str
    number_symbol: str | None = None
    number_label: str = "Số"
    parent_agency: str | None = None
    summary: str = ""
    body: tuple[str, ...] = ()
    signer_title: str = ""
    signer_name: str = ""
    recipients: tuple[str, ...] = ()
    kind: DocKind = "document"
    owner: OwnerFields | None = None

    @property
    def number_line(self) -> str | None:
        """The "Số: …" line as printed, or None when the document has no number."""
        if not self.number_symbol:
            return None
        return f"{self.number_label}: {self.number_symbol}"

    @property
    def date_line(self) -> str:
        """The italic place/date line, e.g. "Nam Định, ngày 09 tháng 7 năm 2021"."""
        return f"{self.place}, {vn_date_words(self.issue_date)}"


def vn_date_words(iso: str) -> str:
    """Format an ISO date the Nghị định 30 way: day < 10 and months 1–2 get a leading zero."""
    d = dt.date.fromisoformat(iso)
    month = f"{d.month:02d}" if d.month < 3 else str(d.month)
    return f"ngày {d.day:02d} tháng {month} năm {d.year}"


def vn_date_numeric(iso: str) -> str:
    """Format an ISO date as dd/mm/yyyy (used in forms and certificates)."""
    d = dt.date.fromisoformat(iso)
    return f"{d.day:02d}/{d.month:02d}/{d.year}"


@dataclass(frozen=True, slots=True)
class TruthLine:
    """Ground truth of one printed line: NFC text, ink box ``(x0, y0, x1, y1)`` in page pixels, role."""

    text: str
    box: tuple[int, int, int, int]
    role: Role


@dataclass(slots=True)
class RenderedPage:
    """One rendered page: an RGB image at ``dpi`` and its ground-truth lines in reading order."""

    image: Image.Image
    dpi: int
    lines: tuple[TruthLine, ...]
    page_number: int = 1
    condition: Condition = "clean"
    font: FontName = "liberation"
    meta: dict[str, str] = field(default_factory=dict)

    def text(self) -> str:
        """All ground-truth lines joined by newlines (reading order)."""
        return "\n".join(line.text for line in self.lines)

    def line_with_role(self, role: Role) -> TruthLine | None:
        """The first ground-truth line with ``role`` or None."""
        return next((ln for ln in self.lines if ln.role == role), None)
