"""Serif fonts with full Vietnamese coverage, checked glyph by glyph before rendering."""

from __future__ import annotations

import functools
import unicodedata
from pathlib import Path
from typing import Literal

from fontTools.ttLib import TTFont
from PIL import ImageFont

from service.domain.errors import ConfigError, InputError

Style = Literal["regular", "bold", "italic", "bolditalic"]

_ROOT = Path("/usr/share/fonts/truetype")
#: family -> style -> file; ``fonts-liberation2`` (NOT ``fonts-liberation``, which lacks Vietnamese).
FONT_FILES: dict[str, dict[Style, Path]] = {
    "liberation": {
        "regular": _ROOT / "liberation2/LiberationSerif-Regular.ttf",
        "bold": _ROOT / "liberation2/LiberationSerif-Bold.ttf",
        "italic": _ROOT / "liberation2/LiberationSerif-Italic.ttf",
        "bolditalic": _ROOT / "liberation2/LiberationSerif-BoldItalic.ttf",
    },
    "dejavu": {
        "regular": _ROOT / "dejavu/DejaVuSerif.ttf",
        "bold": _ROOT / "dejavu/DejaVuSerif-Bold.ttf",
        "italic": _ROOT / "dejavu/DejaVuSerif-Italic.ttf",
        "bolditalic": _ROOT / "dejavu/DejaVuSerif-BoldItalic.ttf",
    },
    "noto": {
        "regular": _ROOT / "noto/NotoSerif-Regular.ttf",
        "bold": _ROOT / "noto/NotoSerif-Bold.ttf",
        "italic": _ROOT / "noto/NotoSerif-Italic.ttf",
        "bolditalic": _ROOT / "noto/NotoSerif-BoldItalic.ttf",
    },
}
_PACKAGE = {"liberation": "fonts-liberation2", "dejavu": "fonts-dejavu-core", "noto": "fonts-noto-core"}

_VIET_LOWER = "aàáảãạăằắẳẵặâầấẩẫậeèéẻẽẹêềếểễệiìíỉĩịoòóỏõọôồốổỗộơờớởỡợuùúủũụưừứửữựyỳýỷỹỵđ"
#: Every letter of the Vietnamese alphabet with its tones, both cases (precomposed, NFC).
VIETNAMESE_LETTERS = _VIET_LOWER + _VIET_LOWER.upper()


def font_path(family: str, style: Style) -> Path:
    """The file of ``family``/``style``; ConfigError with the apt package to install if absent."""
    if family not in FONT_FILES:
        raise InputError(f"unknown font family {family!r}", remedy=f"use one of {', '.join(FONT_FILES)}")
    path = FONT_FILES[family][style]
    if not path.is_file():
        raise ConfigError(f"font file {path} is missing", remedy=f"apt-get install {_PACKAGE[family]}")
    return path


@functools.lru_cache(maxsize=32)
def _cmap(path: Path) -> frozenset[int]:
    return frozenset(TTFont(str(path), lazy=True).getBestCmap())


def missing_glyphs(family: str, style: Style, text: str) -> str:
    """The characters of ``text`` (NFC, whitespace ignored) that the font has no glyph for."""
    cmap = _cmap(font_path(family, style))
    seen: dict[str, None] = {}
    for ch in unicodedata.normalize("NFC", text):
        if not ch.isspace() and ord(ch) not in cmap:
            seen[ch] = None
    return "".join(seen)


def check_coverage(family: str, text: str = VIETNAMESE_LETTERS) -> None:
    """Raise InputError if any style of ``family`` lacks a glyph used by ``text``."""
    for style in FONT_FILES[family] if family in FONT_FILES else ("regular",):
        missing = missing_glyphs(family, style, text)  # type: ignore[arg-type]
        if missing:
            raise InputError(f"font {family}/{style} has no glyph for {missing!r}",
                             remedy="choose a font with full Vietnamese coverage (liberation, dejavu or noto)")


@functools.lru_cache(maxsize=128)
def load_font(family: str, style: Style, size_px: int) -> ImageFont.FreeTypeFont:
    """A PIL font of ``family``/``style`` at ``size_px`` pixels (cached)."""
    return ImageFont.truetype(str(font_path(family, style)), size_px)
