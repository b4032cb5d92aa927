"""A second, independent page generator for evaluation that the OCR cannot be tuned to.

Nothing here is shared with :mod:`service.synth.render` except the ground-truth types: its own
font set (every Vietnamese-complete serif and sans face in Debian: Liberation 2, DejaVu, Noto,
Tinos/Arimo from ``fonts-croscore``, FreeFont), its own header geometry (column ratios, one- and
two-line agencies, rules), body sizes 11–14 pt with bold and italic runs, punctuation- and
digit-dense lines (legal references, dates, codes, phone numbers), a ruled table and a red stamp
over the signature, at 300 dpi, and its own scanner and phone degradations.

Fonts and source texts are split into two slices: ``tune`` (what layout work may look at) and
``never`` (reported separately, never looked at while tuning). Documents are one page each.
"""

from __future__ import annotations

import math
import random
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from service.domain.errors import ConfigError, InputError
from service.synth.heldout_degrade import photo, scan
from service.synth.heldout_text import HeldoutSpec
from service.synth.model import Condition, RenderedPage, Role, TruthLine

Slice = Literal["tune", "never"]
Run = tuple[str, str]  # (text, style) with style in regular/bold/italic/bolditalic
_ROOT = Path("/usr/share/fonts/truetype")
_R, _B, _I, _BI = "regular", "bold", "italic", "bolditalic"
#: family -> (apt package, {style: file under /usr/share/fonts/truetype})
FAMILIES: dict[str, tuple[str, dict[str, str]]] = {
    "tinos": ("fonts-croscore", {_R: "croscore/Tinos-Regular.ttf", _B: "croscore/Tinos-Bold.ttf",
                                 _I: "croscore/Tinos-Italic.ttf", _BI: "croscore/Tinos-BoldItalic.ttf"}),
    "arimo": ("fonts-croscore", {_R: "croscore/Arimo-Regular.ttf", _B: "croscore/Arimo-Bold.ttf",
                                 _I: "croscore/Arimo-Italic.ttf", _BI: "croscore/Arimo-BoldItalic.ttf"}),
    "liberation-sans": ("fonts-liberation2", {
        _R: "liberation2/LiberationSans-Regular.ttf", _B: "liberation2/LiberationSans-Bold.ttf",
        _I: "liberation2/LiberationSans-Italic.ttf", _BI: "liberation2/LiberationSans-BoldItalic.ttf"}),
    "dejavu-sans": ("fonts-dejavu-core", {
        _R: "dejavu/DejaVuSans.ttf", _B: "dejavu/DejaVuSans-Bold.ttf", _I: "dejavu/DejaVuSans-Oblique.ttf",
        _BI: "dejavu/DejaVuSans-BoldOblique.ttf"}),
    "freeserif": ("fonts-freefont-ttf", {
        _R: "freefont/FreeSerif.ttf", _B: "freefont/FreeSerifBold.ttf", _I: "freefont/FreeSerifItalic.ttf",
        _BI: "freefont/FreeSerifBoldItalic.ttf"}),
    "freesans": ("fonts-freefont-ttf", {
        _R: "freefont/FreeSans.ttf", _B: "freefont/FreeSansBold.ttf", _I: "freefont/FreeSansOblique.ttf",
        _BI: "freefont/FreeSansBoldOblique.ttf"}),
    "noto-sans": ("fonts-noto-core", {
        _R: "noto/NotoSans-Regular.ttf", _B: "noto/NotoSans-Bold.ttf", _I: "noto/NotoSans-Italic.ttf",
        _BI: "noto/NotoSans-BoldItalic.ttf"}),
    "dejavu-serif-condensed": ("fonts-dejavu-extra", {
        _R: "dejavu/DejaVuSerifCondensed.ttf", _B: "dejavu/DejaVuSerifCondensed-Bold.ttf",
        _I: "dejavu/DejaVuSerifCondensed-Italic.ttf", _BI: "dejavu/DejaVuSerifCondensed-BoldItalic.ttf"}),
}
SLICE_FONTS: dict[Slice, tuple[str, ...]] = {
    "tune": ("tinos", "arimo", "liberation-sans", "dejavu-sans"),
    "never": ("freeserif", "freesans", "noto-sans", "dejavu-serif-condensed"),
}
MOTTO = "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"
MOTTO_SUB = "Độc lập - Tự do - Hạnh phúc"
DPI = 300
INK = (25, 25, 30)


def _nfc(text: str) -> str:
    return unicodedata.normalize("NFC", " ".join(text.split()))


def font(family: str, style: str, pt: float) -> ImageFont.FreeTypeFont:
    """``family``/``style`` at ``pt`` points and 300 dpi; ConfigError naming the apt package if absent."""
    if family not in FAMILIES:
        raise InputError(f"unknown held-out font family {family!r}", remedy=f"use one of {', '.join(FAMILIES)}")
    package, files = FAMILIES[family]
    path = _ROOT / files[style]
    if not path.is_file():
        raise ConfigError(f"font file {path} is missing", remedy=f"apt-get install {package}")
    return _load(str(path), round(pt * DPI / 72))


_FONTS: dict[tuple[str, int], ImageFont.FreeTypeFont] = {}


def _load(path: str, px: int) -> ImageFont.FreeTypeFont:
    key = (path, px)
    if key not in _FONTS:
        _FONTS[key] = ImageFont.truetype(path, px)
    return _FONTS[key]


class _Sheet:
    """One A4 page at 300 dpi with rich-text lines; records one TruthLine per printed line."""

    def __init__(self, family: str, body_pt: float, rng: random.Random) -> None:
        self.family, self.body_pt, self.rng = family, body_pt, rng
        self.w, self.h = self.mm(210), self.mm(297)
        self.left = self.mm(rng.uniform(25, 32))
        self.right = self.w - self.mm(rng.uniform(15, 20))
        self.top, self.bottom = self.mm(rng.uniform(15, 22)), self.h - self.mm(18)
        self.image = Image.new("RGB", (self.w, self.h), (255, 255, 255))
        self.draw = ImageDraw.Draw(self.image)
        self.truth: list[TruthLine] = []
        self.y = self.top

    @staticmethod
    def mm(v: float) -> int:
        """Millimetres to pixels at 300 dpi."""
        return round(v * DPI / 25.4)

    def f(self, style: str, pt: float | None = None) -> ImageFont.FreeTypeFont:
        """This page's family in ``style`` at ``pt`` (default: the body size)."""
        return font(self.family, style, pt or self.body_pt)

    def width(self, runs: list[Run], pt: float) -> float:
        """Rendered width of ``runs`` (word spaces in the regular face)."""
        return sum(self.f(s, pt).getlength(t) for t, s in runs)

    def line(self, runs: list[Run], x: float, pt: float, role: Role, *, align: str = "left",
             to: float | None = None) -> tuple[int, int, int, int]:
        """Draw one line of runs at the current y; ``align`` left/center/justify (to ``to``)."""
        runs = [(t, s) for t, s in runs if t]
        asc = max(self.f(s, pt).getmetrics()[0] for _, s in runs)
        base = self.y + asc
        words: list[Run] = [(w, s) for t, s in runs for w in t.split()]
        space = self.f(_R, pt).getlength(" ")
        total = sum(self.f(s, pt).getlength(w) for w, s in words) + space * (len(words) - 1)
        gap = space
        if align == "center":
            x = x - total / 2
        elif align == "justify" and to is not None and len(words) > 1:
            gap = (to - x - total + space * (len(words) - 1)) / (len(words) - 1)
        boxes = []
        cx = float(x)
        for w, s in words:
            fnt = self.f(s, pt)
            self.draw.text((round(cx), base), w, font=fnt, fill=INK, anchor="ls")
            boxes.append(self.draw.textbbox((round(cx), base), w, font=fnt, anchor="ls"))
            cx += fnt.getlength(w) + gap
        box = (int(min(b[0] for b in boxes)), int(min(b[1] for b in boxes)),
               int(max(b[2] for b in boxes)), int(max(b[3] for b in boxes)))
        self.truth.append(TruthLine(" ".join(w for w, _ in words), box, role))
        return box

    def rule(self, cx: float, width: float, dy: int = 0) -> None:
        """A thin horizontal rule centred on ``cx`` just under the current y."""
        y = self.y + dy
        self.draw.line([(cx - width / 2, y), (cx + width / 2, y)], fill=INK, width=2)

    def wrap(self, runs: Sequence[Run], pt: float, width: float, indent: float = 0) -> list[list[Run]]:
        """Greedy wrap of styled words into lines of at most ``width`` px (first line indented)."""
        words = [(w, s) for t, s in runs for w in t.split()]
        lines: list[list[Run]] = [[]]
        for w, s in words:
            trial = [*lines[-1], (w, s)]
            avail = width - (indent if len(lines) == 1 else 0)
            if lines[-1] and self.width(trial, pt) + self.f(_R, pt).getlength(" ") * (len(trial) - 1) > avail:
                lines.append([(w, s)])
            else:
                lines[-1] = trial
        return [ln for ln in lines if ln]

    def room(self, pt: float, lines: int = 1) -> bool:
        """Whether ``lines`` more lines of ``pt`` fit above the bottom margin."""
        return self.y + lines * self.pitch(pt) <= self.bottom

    def pitch(self, pt: float) -> int:
        """Line pitch at ``pt`` (1.2–1.45 line spacing, fixed per page)."""
        return round(pt * DPI / 72 * self.spacing)

    spacing = 1.3


def _header(s: _Sheet, spec: HeldoutSpec) -> None:
    rng = s.rng
    tw = s.right - s.left
    split = rng.uniform(0.38, 0.46)
    lcx = s.left + tw * split / 2 - s.mm(rng.uniform(0, 6))
    rcx = s.left + tw * split + tw * (1 - split) / 2
    hpt = rng.choice((12.0, 12.5, 13.0))
    y0 = s.y
    col = tw * split - s.mm(2)
    parts: list[tuple[str, str, Role]] = [(p, _B, "agency") for p in spec.agency_lines]
    if spec.parent_agency:
        parts.insert(0, (spec.parent_agency, _R, "parent_agency"))
    for text, style, role in parts:
        for words in s.wrap([(text, style)], hpt, col):  # a long name wraps inside its column
            s.line(words, lcx, hpt, role, align="center")
            s.y += s.pitch(hpt)
    s.rule(lcx, s.mm(rng.uniform(12, 25)), dy=s.mm(0.3))
    ly = s.y + s.mm(rng.uniform(2.5, 4))
    s.y = y0
    mpt = hpt - 0.5
    while s.f(_B, mpt).getlength(MOTTO) > tw * (1 - split) - s.mm(2):
        mpt -= 0.5
    s.line([(MOTTO, _B)], rcx, mpt, "motto", align="center")
    s.y += s.pitch(mpt)
    sub = s.line([(MOTTO_SUB, _B)], rcx, hpt + 0.5, "motto_sub", align="center")
    s.y += s.pitch(hpt)
    s.rule(rcx, sub[2] - sub[0], dy=s.mm(0.3))
    row = max(ly, s.y + s.mm(rng.uniform(2.5, 4)))
    s.y = row
    if rng.random() < 0.3:
        s.line([(f"Số: {spec.number_symbol}", _R)], s.left, hpt, "number")
    else:
        s.line([(f"Số: {spec.number_symbol}", _R)], lcx, hpt, "number", align="center")
    dpt = hpt + 0.5
    while s.f(_I, dpt).getlength(spec.date_line) > tw * (1 - split):
        dpt -= 0.5
    s.line([(spec.date_line, _I)], rcx, dpt, "date", align="center")
    s.y += s.pitch(dpt) + s.mm(rng.uniform(6, 11))


def _title(s: _Sheet, spec: HeldoutSpec) -> None:
    cx = (s.left + s.right) / 2
    tpt = s.rng.choice((13.0, 14.0))
    s.line([(spec.doc_type.upper(), _B)], cx, tpt + 1, "doctype", align="center")
    s.y += s.pitch(tpt + 1)
    last = (0, 0, 0, 0)
    for words in s.wrap([(spec.summary, _B)], tpt, (s.right - s.left) * s.rng.uniform(0.55, 0.9)):
        last = s.line(words, cx, tpt, "summary", align="center")
        s.y += s.pitch(tpt)
    s.rule(cx, max(s.mm(20), (last[2] - last[0]) * 0.35), dy=s.mm(0.5))
    s.y += s.mm(s.rng.uniform(3, 8))


def _paragraph(s: _Sheet, runs: Sequence[Run], role: Role = "body", reserve: int = 0) -> bool:
    """A justified paragraph with a first-line indent; False (nothing drawn) if it would overflow."""
    pt = s.body_pt
    indent = s.mm(s.rng.choice((10, 12.7)))
    lines = s.wrap(runs, pt, s.right - s.left, indent)
    if s.y + (len(lines) + reserve) * s.pitch(pt) > s.bottom:
        return False
    for i, words in enumerate(lines):
        x = s.left + (indent if i == 0 else 0)
        last = i == len(lines) - 1
        s.line(words, x, pt, role, align="left" if last else "justify", to=s.right)
        s.y += s.pitch(pt)
    s.y += s.mm(s.rng.uniform(0.8, 2.0))
    return True


def _table(s: _Sheet, rows: Sequence[tuple[str, ...]]) -> None:
    """A ruled table: header row bold, one truth line per cell (texts fit their cells)."""
    pt = max(10.5, s.body_pt - 1.5)
    fracs = (0.08, 0.52, 0.2, 0.2)
    tw = s.right - s.left
    xs = [s.left + tw * sum(fracs[:i]) for i in range(len(fracs) + 1)]
    rh = round(s.pitch(pt) * 1.35)
    y_top = s.y
    for r, row in enumerate(rows):
        s.y = y_top + r * rh + (rh - s.pitch(pt)) // 2 + s.mm(0.6)
        for c, text in enumerate(row):
            style = _B if r == 0 else _R
            width = xs[c + 1] - xs[c] - s.mm(3)
            while text and s.f(style, pt).getlength(text) > width:
                text = text.rsplit(" ", 1)[0] if " " in text else text[:-1]
            if not text:
                continue
            if c == 1 and r > 0:
                s.line([(text, style)], xs[c] + s.mm(1.5), pt, "body")
            else:
                s.line([(text, style)], (xs[c] + xs[c + 1]) / 2, pt, "body", align="center")
    y_end = y_top + len(rows) * rh
    for r in range(len(rows) + 1):
        s.draw.line([(xs[0], y_top + r * rh), (xs[-1], y_top + r * rh)], fill=INK, width=2)
    for x in xs:
        s.draw.line([(x, y_top), (x, y_end)], fill=INK, width=2)
    s.y = y_end + s.mm(3)


def _stamp(s: _Sheet, cx: float, cy: float, agency: str) -> None:
    """A red round seal (ring text, star) drawn over the signature; not part of the truth."""
    layer = Image.new("RGBA", s.image.size, (0, 0, 0, 0))
    d = ImageDraw.Draw(layer)
    r = s.mm(s.rng.uniform(16, 19))
    red = (200, 30, 40, 170)
    d.ellipse([cx - r, cy - r, cx + r, cy + r], outline=red, width=6)
    d.ellipse([cx - 0.72 * r, cy - 0.72 * r, cx + 0.72 * r, cy + 0.72 * r], outline=red, width=3)
    pts = [(cx + 0.3 * r * math.cos(math.pi / 2 + k * 4 * math.pi / 5),
            cy - 0.3 * r * math.sin(math.pi / 2 + k * 4 * math.pi / 5)) for k in range(5)]
    d.polygon(pts, fill=red)
    fnt = font(s.family, _B, 9)
    text = agency.upper()[:34]
    for k, ch in enumerate(text):
        a = math.pi * (1.05 - 1.1 * k / max(1, len(text) - 1))
        d.text((cx + 0.86 * r * math.cos(a), cy - 0.86 * r * math.sin(a)), ch, font=fnt, fill=red, anchor="mm")
    s.image.paste(layer, (0, 0), layer)


def _signature(s: _Sheet, spec: HeldoutSpec) -> None:
    pt = s.body_pt
    small = max(10.5, pt - 2)
    y0 = s.y + s.mm(3)
    s.y = y0
    s.line([("Nơi nhận:", _BI)], s.left, small + 1, "recipients")
    s.y += s.pitch(small)
    for rec in spec.recipients:
        s.line([(rec, _R)], s.left, small, "recipients")
        s.y += s.pitch(small)
    rcx = s.left + (s.right - s.left) * s.rng.uniform(0.68, 0.76)
    s.y = y0
    for part in spec.signer_title:
        s.line([(part, _B)], rcx, pt, "signer", align="center")
        s.y += s.pitch(pt)
    stamp_y = s.y + s.mm(10)
    s.y += s.mm(22)
    s.line([(spec.signer_name, _B)], rcx, pt, "signer", align="center")
    _stamp(s, rcx - s.mm(s.rng.uniform(10, 18)), stamp_y, spec.agency_lines[-1])


def compose(spec: HeldoutSpec, family: str, body_pt: float, seed: int) -> tuple[Image.Image, list[TruthLine]]:
    """Lay out ``spec`` on one clean A4 page; returns the image and its truth lines."""
    rng = random.Random(seed)
    s = _Sheet(family, body_pt, rng)
    s.spacing = rng.uniform(1.2, 1.45)
    _header(s, spec)
    _title(s, spec)
    sig_lines = 2 + max(len(spec.recipients) + 1, len(spec.signer_title) + 5)
    for runs in spec.preamble:
        if not _paragraph(s, runs, reserve=sig_lines):
            break
    if spec.table and s.y + (len(spec.table) * 1.4 + sig_lines + 2) * s.pitch(body_pt) < s.bottom:
        _paragraph(s, spec.table_intro, reserve=sig_lines)
        _table(s, spec.table)
    for runs in spec.articles:
        if not _paragraph(s, runs, reserve=sig_lines):
            break
    _signature(s, spec)
    return s.image, s.truth


def render_heldout(spec: HeldoutSpec, *, family: str, body_pt: float, condition: Condition,
                   seed: int) -> RenderedPage:
    """Render one held-out page (deterministic for ``seed``); InputError on a bad condition."""
    if condition not in ("clean", "scanner", "phone"):
        raise InputError(f"unknown condition {condition!r}", remedy="use clean, scanner or phone")
    if not 10 <= body_pt <= 15:
        raise InputError(f"body size {body_pt} pt is out of range", remedy="use 11–14 pt")
    image, truth = compose(spec, family, body_pt, seed)
    arr = np.asarray(image)
    rng = np.random.default_rng(seed + 7919)
    if condition == "scanner":
        arr, truth = scan(arr, truth, rng)
    elif condition == "phone":
        arr, truth = photo(arr, truth, rng)
    return RenderedPage(Image.fromarray(arr), DPI, tuple(truth), 1, condition, family,  # type: ignore[arg-type]
                        {"doc_id": spec.id, "family": family, "body_pt": f"{body_pt:g}"})


@dataclass(frozen=True, slots=True)
class HeldoutPage:
    """One page of the held-out set: which slice, font, size and seed made it."""

    spec: HeldoutSpec
    slice: Slice
    family: str
    body_pt: float
    seed: int


def plan(slice_: Slice, count: int, specs: list[HeldoutSpec]) -> list[HeldoutPage]:
    """``count`` pages of a slice, cycling its fonts and body sizes 11–14 pt (deterministic)."""
    fonts = SLICE_FONTS[slice_]
    sizes = (11.0, 12.0, 13.0, 14.0, 12.5, 13.5)
    return [HeldoutPage(specs[i % len(specs)], slice_, fonts[i % len(fonts)], sizes[(i * 5 + 1) % len(sizes)],
                        1000 * (slice_ == "never") + i) for i in range(count)]
