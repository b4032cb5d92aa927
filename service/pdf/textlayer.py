"""Invisible OCR text layer (render mode 3) with an embedded Vietnamese-capable TrueType font."""

from __future__ import annotations

import io
from functools import lru_cache
from pathlib import Path

from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFError, TTFont
from reportlab.pdfgen import canvas

from service.domain.errors import ConfigError
from service.ocr.types import OcrPage

_PROBE = "Cộng hòa xã hội chủ nghĩa Việt Nam ĐđƠơƯư ẮẰẲẴẶ ếềểễệ ỗộ ựửữ"


@lru_cache(maxsize=4)
def register_font(path: Path) -> str:
    """Register ``path`` with reportlab (once) and return its font name; checks Vietnamese coverage."""
    name = f"sohoa-{path.stem}"
    try:
        font = TTFont(name, str(path))
    except (OSError, TTFError) as exc:
        raise ConfigError(f"text-layer font {path} cannot be loaded ({exc})",
                          remedy="install fonts-dejavu-core or set pdf.text_font to a TrueType font") from exc
    cmap = font.face.charToGlyph
    missing = sorted({ch for ch in _PROBE if not ch.isspace() and ord(ch) not in cmap})
    if missing:
        raise ConfigError(f"text-layer font {path.name} lacks Vietnamese letters: {''.join(missing)}",
                          remedy="set pdf.text_font to a font with full Vietnamese coverage (e.g. DejaVu Sans)")
    pdfmetrics.registerFont(font)
    return name


def overlay(ocr: OcrPage, width_pt: float, height_pt: float, font_path: Path) -> bytes:
    """A one-page PDF of the page's size with each OCR line drawn invisibly over its box."""
    font = register_font(font_path)
    sx = width_pt / max(1, ocr.width)
    sy = height_pt / max(1, ocr.height)
    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=(width_pt, height_pt), initialFontName=font, invariant=True,
                      pageCompression=1)
    for line in ocr.lines:
        text = line.text.strip()
        if not text:
            continue
        x0, y0, x1, y1 = line.box
        box_w = max(1.0, (x1 - x0) * sx)
        box_h = max(1.0, (y1 - y0) * sy)
        size = max(1.0, box_h * 0.8)
        natural = pdfmetrics.stringWidth(text, font, size)
        t = c.beginText()
        t.setTextRenderMode(3)
        t.setFont(font, size)
        if natural > 0:
            t.setHorizScale(100.0 * box_w / natural)
        t.setTextOrigin(x0 * sx, height_pt - y1 * sy + box_h * 0.2)
        t.textOut(text)
        c.drawText(t)
    c.showPage()
    c.save()
    return buf.getvalue()
