"""Render Vietnamese administrative pages with the layout of Nghị định 30/2020/NĐ-CP (Appendix I).

A4 portrait, margins 20/20/30/20 mm (top/bottom/left/right); header table with the agency block
left (parent agency regular, issuing agency bold, short underline, "Số: …" below) and the national
motto right (bold, underline, italic place/date line below); document type and summary centred,
bold; justified body with a first-line indent; signature block; continuation pages numbered at the
top centre. Ground truth is one :class:`TruthLine` per printed line with its ink box.
"""

from __future__ import annotations

import unicodedata

from PIL import Image, ImageDraw, ImageFont

from service.domain.errors import InputError
from service.synth.degrade import degrade
from service.synth.fonts import Style, check_coverage, load_font, missing_glyphs
from service.synth.model import (
    CONDITIONS,
    FONTS,
    RenderedPage,
    Role,
    SampleDocument,
    TruthLine,
    vn_date_numeric,
)

MOTTO = "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"
MOTTO_SUB = "Độc lập - Tự do - Hạnh phúc"
SUPPORTED_DPI = (150, 200, 300)
_MAX_BODY_CHARS = 60_000


def _nfc(text: str) -> str:
    return unicodedata.normalize("NFC", " ".join(text.split()))


class _Composer:
    """Lays out lines onto A4 pages, breaking pages as needed and recording ground truth."""

    def __init__(self, dpi: int, family: str) -> None:
        self.dpi = dpi
        self.family = family
        self.width, self.height = self.mm(210), self.mm(297)
        self.left, self.right = self.mm(30), self.width - self.mm(20)
        self.top, self.bottom = self.mm(20), self.height - self.mm(20)
        self.pages: list[tuple[Image.Image, list[TruthLine]]] = []
        self.y = 0
        self._new_page()

    def mm(self, v: float) -> int:
        """Millimetres to pixels."""
        return round(v * self.dpi / 25.4)

    def font(self, pt: float, style: Style = "regular") -> ImageFont.FreeTypeFont:
        """The family's font at ``pt`` points."""
        return load_font(self.family, style, round(pt * self.dpi / 72))

    @property
    def draw(self) -> ImageDraw.ImageDraw:
        """A drawing context on the current page."""
        return ImageDraw.Draw(self.pages[-1][0])

    def _new_page(self) -> None:
        self.pages.append((Image.new("RGB", (self.width, self.height), "white"), []))
        self.y = self.top
        if len(self.pages) > 1:
            number = str(len(self.pages))
            font = self.font(13)
            self.put(number, (self.left + self.right) // 2, self.mm(10), font, "page_number", "center")

    def pitch(self, font: ImageFont.FreeTypeFont, spacing: float = 1.3) -> int:
        """Line pitch of ``font`` (single spacing × ``spacing``)."""
        return round(font.size * spacing)

    def ensure_room(self, height: int) -> None:
        """Start a new page unless ``height`` pixels still fit above the bottom margin."""
        if self.y + height > self.bottom:
            self._new_page()

    def put(self, text: str, x: int, y: int, font: ImageFont.FreeTypeFont, role: Role,
            align: str = "left") -> tuple[int, int, int, int]:
        """Draw one line with its top at ``y``; ``x`` is the left edge or the centre."""
        ascent = font.getmetrics()[0]
        width = font.getlength(text)
        x0 = round(x - width / 2) if align == "center" else x
        baseline = y + ascent
        self.draw.text((x0, baseline), text, font=font, fill=(20, 20, 20), anchor="ls")
        box = self.draw.textbbox((x0, baseline), text, font=font, anchor="ls")
        bx = (int(box[0]), int(box[1]), int(box[2]), int(box[3]))
        self.pages[-1][1].append(TruthLine(text, bx, role))
        return bx

    def put_justified(self, words: list[str], y: int, font: ImageFont.FreeTypeFont, x0: int, x1: int,
                      role: Role) -> None:
        """Draw ``words`` spread evenly from ``x0`` to ``x1`` (justified line)."""
        ascent = font.getmetrics()[0]
        widths = [font.getlength(w) for w in words]
        gap = (x1 - x0 - sum(widths)) / max(1, len(words) - 1)
        x = float(x0)
        boxes = []
        for word, w in zip(words, widths, strict=True):
            self.draw.text((round(x), y + ascent), word, font=font, fill=(20, 20, 20), anchor="ls")
            boxes.append(self.draw.textbbox((round(x), y + ascent), word, font=font, anchor="ls"))
            x += w + gap
        box = (int(min(b[0] for b in boxes)), int(min(b[1] for b in boxes)),
               int(max(b[2] for b in boxes)), int(max(b[3] for b in boxes)))
        self.pages[-1][1].append(TruthLine(" ".join(words), box, role))

    def hline(self, cx: int, y: int, width: int) -> None:
        """A thin horizontal rule centred on ``cx``."""
        self.draw.line([(cx - width // 2, y), (cx + width // 2, y)], fill=(20, 20, 20),
                       width=max(1, self.dpi // 150))


def wrap(text: str, font: ImageFont.FreeTypeFont, width: float, first_indent: float = 0) -> list[list[str]]:
    """Greedy word wrap: lists of words whose rendered width fits ``width`` (first line indented)."""
    lines: list[list[str]] = []
    current: list[str] = []
    for word in text.split():
        avail = width - (first_indent if not lines else 0)
        if current and font.getlength(" ".join([*current, word])) > avail:
            lines.append(current)
            current = []
        current.append(word)
    if current:
        lines.append(current)
    return lines


def _fit(c: _Composer, text: str, pt: float, style: Style, width: int) -> ImageFont.FreeTypeFont:
    """The largest font ≤ ``pt`` (down to 10 pt) in which ``text`` fits on one line of ``width``."""
    while pt > 10 and c.font(pt, style).getlength(text) > width:
        pt -= 0.5
    return c.font(pt, style)


def _column(c: _Composer, lines: list[tuple[str, ImageFont.FreeTypeFont, Role]], cx: int, width: int,
            y: int) -> tuple[int, list[int]]:
    """Draw centred (wrapped) lines in a header column; returns the next y and the line widths."""
    widths = []
    for text, font, role in lines:
        for words in wrap(text, font, width):
            box = c.put(" ".join(words), cx, y, font, role, "center")
            widths.append(box[2] - box[0])
            y += c.pitch(font, 1.35)
    return y, widths


def _header(c: _Composer, doc: SampleDocument) -> None:
    text_w = c.right - c.left
    lw, rw = round(text_w * 0.44), round(text_w * 0.56)
    lcx, rcx = c.left + lw // 2 - c.mm(8), c.left + lw + rw // 2
    agency: list[tuple[str, ImageFont.FreeTypeFont, Role]] = []
    if doc.parent_agency:
        agency.append((_nfc(doc.parent_agency).upper(), c.font(13), "parent_agency"))
    agency.append((_nfc(doc.issuing_body).upper(), c.font(13, "bold"), "agency"))
    ly, lwidths = _column(c, agency, lcx, lw + c.mm(4), c.y)
    c.hline(lcx, ly + c.mm(0.5), max(c.mm(20), lwidths[-1] // 3))
    motto: list[tuple[str, ImageFont.FreeTypeFont, Role]] = [
        (MOTTO, _fit(c, MOTTO, 12, "bold", rw), "motto"), (MOTTO_SUB, _fit(c, MOTTO_SUB, 13, "bold", rw), "motto_sub"),
    ]
    ry, rwidths = _column(c, motto, rcx, rw + c.mm(1), c.y)
    c.hline(rcx, ry + c.mm(0.5), rwidths[-1])
    row = max(ly, ry) + c.mm(4)
    if doc.number_line:
        c.put(_nfc(doc.number_line), lcx, row, c.font(13), "number", "center")
    date_font = _fit(c, doc.date_line, 14, "italic", rw)
    c.put(_nfc(doc.date_line), rcx, row, date_font, "date", "center")
    c.y = row + c.pitch(date_font) + c.mm(8)


def _title(c: _Composer, doc: SampleDocument) -> None:
    cx = (c.left + c.right) // 2
    font = c.font(14, "bold")
    c.put(_nfc(doc.doc_type).upper(), cx, c.y, font, "doctype", "center")
    c.y += c.pitch(font, 1.25)
    last_w = 0
    for words in wrap(_nfc(doc.summary), font, (c.right - c.left) * 0.8):
        box = c.put(" ".join(words), cx, c.y, font, "summary", "center")
        last_w = box[2] - box[0]
        c.y += c.pitch(font, 1.25)
    if doc.summary:
        c.hline(cx, c.y + c.mm(1), max(c.mm(25), last_w // 3))
    c.y += c.mm(8)


def _paragraph(c: _Composer, text: str, role: Role = "body") -> None:
    text = _nfc(text)
    if not text:
        return
    heading = text.upper() == text and len(text) < 70 and any(ch.isalpha() for ch in text)
    font = c.font(14, "bold" if heading else "regular")
    pitch = c.pitch(font)
    if heading:
        for words in wrap(text, font, (c.right - c.left) * 0.9):
            c.ensure_room(pitch)
            c.put(" ".join(words), (c.left + c.right) // 2, c.y, font, role, "center")
            c.y += pitch
    else:
        indent = c.mm(12.7)
        lines = wrap(text, font, c.right - c.left, indent)
        for i, words in enumerate(lines):
            c.ensure_room(pitch)
            x0 = c.left + (indent if i == 0 else 0)
            if i < len(lines) - 1 and len(words) > 1:
                c.put_justified(words, c.y, font, x0, c.right, role)
            else:
                c.put(" ".join(words), x0, c.y, font, role)
            c.y += pitch
    c.y += round(6 * c.dpi / 72)


def _signature(c: _Composer, doc: SampleDocument) -> None:
    small, title_f = c.font(11), c.font(13, "bold")
    block_h = c.pitch(title_f) * 5 + c.pitch(small) * (len(doc.recipients) + 1)
    c.ensure_room(block_h)
    y0 = c.y + c.mm(4)
    if doc.recipients:
        y = y0
        c.put("Nơi nhận:", c.left, y, c.font(12, "bolditalic"), "recipients")
        y += c.pitch(small, 1.35)
        for rec in doc.recipients:
            c.put(_nfc(rec), c.left, y, small, "recipients")
            y += c.pitch(small, 1.35)
    rcx = c.left + round((c.right - c.left) * 0.72)
    y = y0
    if doc.signer_title:
        for part in doc.signer_title.split("\n"):
            for words in wrap(_nfc(part).upper(), title_f, c.mm(75)):
                c.put(" ".join(words), rcx, y, title_f, "signer", "center")
                y += c.pitch(title_f, 1.2)
    if doc.signer_name:
        c.put(_nfc(doc.signer_name), rcx, y + c.pitch(title_f) * 3, title_f, "signer", "center")
    c.y = y0 + block_h


def _certificate_fields(c: _Composer, doc: SampleDocument) -> None:
    assert doc.owner is not None
    o = doc.owner
    fields = [
        ("Họ và tên", o.full_name.upper()), ("Ngày sinh", vn_date_numeric(o.date_of_birth)),
        ("Số định danh cá nhân", o.personal_id), ("Nơi cư trú", o.residence),
    ]
    font = c.font(14)
    pitch = c.pitch(font, 1.4)
    for label, value in fields:
        for i, words in enumerate(wrap(_nfc(f"{label}: {value}"), font, c.right - c.left - c.mm(10))):
            c.ensure_room(pitch)
            c.put(" ".join(words), c.left + c.mm(10) + (c.mm(10) if i else 0), c.y, font, "field")
            c.y += pitch
    c.y += c.mm(2)
    c.put(f"Có giá trị đến ngày {vn_date_numeric(o.valid_until)}", c.left + c.mm(10), c.y, font, "field")
    c.y += pitch + c.mm(2)


def _validate(doc: SampleDocument, dpi: int, font: str, condition: str) -> None:
    if dpi not in SUPPORTED_DPI:
        raise InputError(f"unsupported dpi {dpi}", remedy=f"use one of {SUPPORTED_DPI}")
    if font not in FONTS:
        raise InputError(f"unknown font {font!r}", remedy=f"use one of {', '.join(FONTS)}")
    if condition not in CONDITIONS:
        raise InputError(f"unknown condition {condition!r}", remedy=f"use one of {', '.join(CONDITIONS)}")
    if not doc.issuing_body.strip() or not doc.doc_type.strip():
        raise InputError(f"document {doc.id!r} has no issuing body or document type",
                         remedy="fill issuing_body and doc_type")
    if doc.kind == "certificate" and doc.owner is None:
        raise InputError(f"certificate {doc.id!r} has no owner fields", remedy="set SampleDocument.owner")
    if sum(len(p) for p in doc.body) > _MAX_BODY_CHARS:
        raise InputError(f"document {doc.id!r} body is longer than {_MAX_BODY_CHARS} characters",
                         remedy="truncate the body (the renderer is for test pages, not whole codes)")
    check_coverage(font)
    everything = " ".join([doc.title, doc.summary, doc.issuing_body, doc.parent_agency or "", doc.place,
                           doc.number_symbol or "", doc.signer_title, doc.signer_name, *doc.recipients,
                           *doc.body])
    missing = missing_glyphs(font, "regular", everything)
    if missing:
        raise InputError(f"font {font} cannot render {missing!r} in document {doc.id!r}",
                         remedy="remove those characters or choose another font")


def render_document(doc: SampleDocument, *, dpi: int = 300, font: str = "liberation", condition: str = "clean",
                    seed: int = 0) -> list[RenderedPage]:
    """Render ``doc`` to pages at ``dpi`` with ``font`` under ``condition`` (clean/scanner/phone).

    Deterministic for a given ``seed``. Each page carries its ground-truth lines (NFC text + ink box
    in the returned image's pixel coordinates, reading order). Raises InputError on bad arguments.
    """
    _validate(doc, dpi, font, condition)
    c = _Composer(dpi, font)
    _header(c, doc)
    _title(c, doc)
    for para in doc.body:
        _paragraph(c, para)
    if doc.kind == "certificate":
        _certificate_fields(c, doc)
    _signature(c, doc)
    pages = []
    for i, (image, lines) in enumerate(c.pages, start=1):
        out_img, out_lines = degrade(image, lines, condition, seed * 1009 + i, dpi)  # type: ignore[arg-type]
        pages.append(RenderedPage(out_img, dpi, tuple(out_lines), i, condition, font,  # type: ignore[arg-type]
                                  {"doc_id": doc.id}))
    return pages
