"""Small pure text helpers for Vietnamese: NFC, accent folding, dash and space clean-up."""

from __future__ import annotations

import re
import unicodedata

from service.domain.errors import ValidationError

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


# ----------------------------------------------------------------- input hygiene (one rule for every text input)
#: Bidirectional embeddings / overrides / isolates: they make a name display differently from its bytes.
BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c")
#: Invisible characters that make two equal-looking values differ.
ZERO_WIDTH = frozenset("\u200b\u200c\u200d\u2060\ufeff\u180e")
#: Longest value accepted per field (characters, after NFC); other fields get :data:`DEFAULT_MAX_LENGTH`.
FIELD_MAX_LENGTH: dict[str, int] = {
    # dates and years are typed as the paper writes them ("ngày 05 tháng 3 năm 2024") before normalising
    "owner_id": 32, "owner_name": 200, "organization_name": 300, "owner_birth_date": 40,
    "organization_founded_year": 40, "issue_date": 40, "valid_until": 40, "number_symbol": 64,
    "certificate_number": 64, "document_name": 500, "issuer": 300, "issue_place": 200,
    "summary": 2000, "mismatch_reason": 500, "issuing_agency": 300, "validity_scope": 500,
    "document_type_code": 200, "qr_payload": 2000, "username": 64, "password": 256, "pin": 16,
}
DEFAULT_MAX_LENGTH = 1000
#: Fields whose value may span lines (newline and tab allowed there, nowhere else).
MULTILINE_FIELDS = frozenset({"summary", "mismatch_reason"})


def hygiene_problem(name: str, value: str, *, max_length: int | None = None) -> str | None:
    """Why ``value`` is refused for field ``name`` (English, for logs and the CLI), or None if it is clean.

    Refused: a character that is not valid Unicode text (an unpaired surrogate), a control character
    (newline and tab only in :data:`MULTILINE_FIELDS`), a bidi override or isolate, a zero-width
    character, and a value longer than the field's limit. The value itself is never quoted.
    """
    limit = max_length if max_length is not None else FIELD_MAX_LENGTH.get(name, DEFAULT_MAX_LENGTH)
    text = unicodedata.normalize("NFC", value) if _encodable(value) else value
    if len(text) > limit:
        return f"is {len(text)} characters long, over the {limit}-character limit"
    allowed = "\n\t\r" if name in MULTILINE_FIELDS else ""
    for pos, ch in enumerate(text, start=1):
        code = ord(ch)
        if 0xD800 <= code <= 0xDFFF:
            return f"holds bytes that are not valid UTF-8 text (position {pos})"
        if ch in BIDI_CONTROLS:
            return f"holds a bidirectional control character U+{code:04X} (position {pos})"
        if ch in ZERO_WIDTH:
            return f"holds an invisible zero-width character U+{code:04X} (position {pos})"
        if (unicodedata.category(ch) == "Cc" and ch not in allowed) or code in (0x2028, 0x2029):
            return f"holds a control character U+{code:04X} (position {pos})"
    return None


def _encodable(value: str) -> bool:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def clean_text(name: str, value: str, *, max_length: int | None = None) -> str:
    """``value`` in NFC if it passes :func:`hygiene_problem`; :class:`ValidationError` naming ``name`` otherwise."""
    problem = hygiene_problem(name, value, max_length=max_length)
    if problem is not None:
        raise ValidationError(name, problem, remedy=f"type the {name.replace('_', ' ')} again as plain text "
                                                    "(no invisible or control characters), within its length limit")
    return unicodedata.normalize("NFC", value)
