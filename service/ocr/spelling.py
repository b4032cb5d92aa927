"""Vietnamese syllable shape: whether a word read by OCR can be a Vietnamese syllable at all.

Each written Vietnamese word (between spaces) is one syllable: an optional initial consonant, one
to three vowels and an optional final consonant ("tỉnh" = t + i + nh). A word that has no such
shape ("TNH", "NGHN") is a misreading with letters dropped or swapped, an abbreviation ("UBND"), a
foreign word or a highland name ("ĐẮK MAR"); the cascade uses the count of such words to send a
header line to the second recognizer and to prefer a re-read with fewer (service.ocr.engine),
never to keep a first reading for having fewer.
"""

from __future__ import annotations

import re
import unicodedata

from service.ocr.lexicon import TONES

#: Initial consonants (longest first), final consonants (``k`` for Đắk Lắk and other highland names).
_SHAPE = re.compile(r"^(ngh|ng|nh|ch|gh|gi|kh|ph|qu|th|tr|[bcdđghklmnprstvx])?"
                    r"([aăâeêioôơuưy]{1,3})(ch|ng|nh|[cmnptk])?$")
_WORD = re.compile(r"[^\W\d_]+")
_EDGES = "\"'“”‘’()[],.;:!?"


def is_syllable(word: str) -> bool:
    """Whether ``word`` (letters only, any case, tone marks or not) has the shape of a Vietnamese
    syllable."""
    marks = unicodedata.normalize("NFD", word.lower())
    bare = unicodedata.normalize("NFC", "".join(c for c in marks if c not in TONES))
    return bool(_SHAPE.match(bare))


def unspelled(text: str) -> int:
    """How many upper-case words of ``text`` cannot be Vietnamese syllables. A word is a token of
    letters alone between spaces (punctuation at its ends aside): codes and references glued to
    digits, hyphens or slashes ("QĐ-UBND", "87/2016/NĐ-CP") are not words."""
    words = (tok.strip(_EDGES) for tok in text.split())
    return sum(1 for w in words if w and _WORD.fullmatch(w) and w.isupper() and not is_syllable(w))
