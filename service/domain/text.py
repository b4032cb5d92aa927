"""Small pure text helpers for Vietnamese: NFC, accent folding, dash and space clean-up."""

from __future__ import annotations

import re
import unicodedata

_DASHES = str.maketrans({"\u2010": "-", "\u2011": "-", "\u2012": "-", "\u2013": "-", "\u2014": "-",
                         "\u2212": "-", "\u00ad": "-"})
_SPACES = re.compile(r"\s+")


def nfc(text: str) -> str:
    """Unicode NFC form with runs of whitespace collapsed to one space and the ends stripped."""
    return _SPACES.sub(" ", unicodedata.normalize("NFC", text)).strip()


def normalize_dashes(text: str) -> str:
    """Replace the typographic dashes (en dash, em dash, minus ...) by an ASCII hyphen."""
    return text.translate(_DASHES)


def fold(text: str) -> str:
    """Lower-case, accent-free form for OCR-tolerant keyword matching ("Số định danh" -> "so dinh danh").

    The result has the same number of characters as ``nfc(text)`` for Vietnamese letters, since each
    precomposed letter folds to one base letter (``đ`` -> ``d``).
    """
    decomposed = unicodedata.normalize("NFD", nfc(text))
    base = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return base.replace("đ", "d").replace("Đ", "D").lower()
