"""The OCR's text step: words the recognizer got wrong that the Vietnamese word-pair lexicon can set
right ("HỌI ĐỒNG" → "HỘI ĐỒNG", "Luật trẻ cm" → "Luật trẻ em", "THƯTÍN" → "THƯ TÍN", "L.OO5" →
"L.005").

The lexicon (``data/vi-lexicon.tsv``, built by ``python -m service.ocr.train.lexicon`` from legal text
the benchmarks never render) counts words and adjacent word pairs. A word is weighed against its
variants, the known words that differ by tone marks or one common letter confusion (c/e, n/u, i/l),
by how likely each is between the words beside it (across a line break too): a bigram model
smoothed towards word frequency. A variant replaces the word only when it is :data:`MARGIN` times
likelier in log-odds, which stands for how seldom the recognizer misreads a word. Title-case words are
left alone: mid-sentence they are names (Thị Hoa is not Thị Hóa).
"""

from __future__ import annotations

import math
import re
import unicodedata
from dataclasses import dataclass
from functools import cached_property, lru_cache
from pathlib import Path

from service.domain.text import fold

DATA = Path(__file__).resolve().parent / "data" / "vi-lexicon.tsv"
LETTER = r"[^\W\d_]"
WORD = LETTER + "+"  # a word: a run of letters
NUMBER = "0"  # the word a number stands as: "số 15/2024/QĐ-UBND" is the pair "số 0"
#: The five tone marks (combining characters, NFD), by name.
TONES = {"\u0300": "huyền", "\u0301": "sắc", "\u0309": "hỏi", "\u0303": "ngã", "\u0323": "nặng"}
_TOKEN = re.compile(rf"^(\W*)({WORD})(\W*)$")
_O_DIGIT = re.compile(rf"(?<!{LETTER})O+(?=\d)|(?<=\d)O+(?!{LETTER})")
_CONFUSED = {"c": "e", "e": "c", "n": "u", "u": "n", "i": "l", "l": "i"}
MIN_SUPPORT = 10  # a variant needs this many sightings beside its neighbours, both sides together
MU = 300.0  # smoothing: a pair never seen counts as MU x the second word's frequency
MARGIN = 7.0  # natural-log odds a variant must win by (about 1,100 to 1); MU and MARGIN were chosen
# on the tune slice's OCR and on the tune rows' own text (models/README.md, the lexicon text step)


@dataclass(frozen=True)
class Lexicon:
    """Word and word-pair counts, and the words of each accent-free form."""

    words: dict[str, int]
    pairs: dict[str, int]
    by_fold: dict[str, tuple[str, ...]]

    @cached_property
    def total(self) -> int:
        """All word sightings (at least 1): the denominator of a word's frequency."""
        return max(1, sum(self.words.values()))

    @classmethod
    def load(cls, path: Path = DATA) -> Lexicon:
        """Read a lexicon file written by service.ocr.train.lexicon."""
        words: dict[str, int] = {}
        pairs: dict[str, int] = {}
        for row in path.read_text(encoding="utf-8").splitlines():
            kind, key, n = row.split("\t")
            (words if kind == "1" else pairs)[key] = int(n)
        by_fold: dict[str, list[str]] = {}
        for w in words:
            by_fold.setdefault(fold(w), []).append(w)
        return cls(words, pairs, {k: tuple(v) for k, v in by_fold.items()})

    def pair(self, a: str | None, b: str | None) -> int:
        """How often ``a b`` occurs (0 for a missing neighbour)."""
        return self.pairs.get(f"{a} {b}", 0) if a and b else 0

    def variants(self, word: str) -> set[str]:
        """Known words with the same letters up to tone marks, or one confused letter."""
        key = fold(word)
        keys = {key} | {key[:i] + _CONFUSED[c] + key[i + 1:] for i, c in enumerate(key) if c in _CONFUSED}
        spelling = _spelling(word)
        return {v for k in keys for v in self.by_fold.get(k, ()) if _spelling(v) != spelling}


@lru_cache(maxsize=1)
def lexicon() -> Lexicon:
    """The shipped lexicon, read once."""
    return Lexicon.load()


def _spelling(word: str) -> tuple[str, str]:
    """(letters without tone marks, tone marks): "doạ" and "dọa" spell one word with the tone placed
    the old or the new way; they are never swapped."""
    marks = unicodedata.normalize("NFD", word)
    return ("".join(c for c in marks if c not in TONES), "".join(sorted(c for c in marks if c in TONES)))


def _cased(word: str, like: str) -> str:
    return word.upper() if like.isupper() else word


def _split_glued(core: str, lex: Lexicon) -> str:
    """``core`` with a missing space put back ("THƯTÍN" → "THƯ TÍN") when that is a known pair."""
    low = core.lower()
    if low in lex.words or len(low) < 4:
        return core
    best = max(((lex.pair(low[:i], low[i:]), i) for i in range(2, len(low) - 1)
                if low[:i] in lex.words and low[i:] in lex.words), default=(0, 0))
    return f"{core[:best[1]]} {core[best[1]:]}" if best[0] else core


def _word(token: str, m: re.Match[str] | None) -> str | None:
    """The lexicon word ``token`` stands as for its neighbours: its letters, the number word, or
    ``None`` (punctuation around it breaks the pair)."""
    if m is not None:
        return m.group(2).lower()
    return NUMBER if any(c.isdigit() for c in token) else None


def _score(lex: Lexicon, word: str, left: str | None, right: str | None) -> float:
    """log P(word | left) + log P(right | word) in the lexicon's bigrams, each smoothed towards the
    frequency of the word it predicts (a side without a neighbour weighs the word's frequency)."""
    def freq(w: str) -> float:
        return (lex.words.get(w, 0) + 0.5) / lex.total

    score = math.log((lex.pair(left, word) + MU * freq(word)) / (lex.words.get(left, 0) + MU)) if left \
        else math.log(freq(word))
    if right:
        score += math.log((lex.pair(word, right) + MU * freq(right)) / (lex.words.get(word, 0) + MU))
    return score


def _better(lex: Lexicon, left: str | None, word: str, right: str | None) -> str | None:
    """The variant of ``word`` its neighbours make :data:`MARGIN` likelier than ``word``, or ``None``.
    The variant must have been seen beside them MIN_SUPPORT times. A number beside the word may keep
    it ("số 15/2024") but never changes it."""
    if (left == NUMBER and lex.pair(left, word)) or (right == NUMBER and lex.pair(word, right)):
        return None
    left, right = (None if left == NUMBER else left), (None if right == NUMBER else right)
    if left is None and right is None:
        return None
    base = _score(lex, word, left, right)
    best, gain = None, MARGIN
    for v in sorted(lex.variants(word)):
        if lex.pair(left, v) + lex.pair(v, right) < MIN_SUPPORT:
            continue
        g = _score(lex, v, left, right) - base
        if g > gain:
            best, gain = v, g
    return best


def correct_lines(texts: list[str], lex: Lexicon | None = None, *, upper: bool = True) -> tuple[list[str], int]:
    """``texts`` (one page's lines in reading order) with lexicon fixes applied; returns (texts, fixes).

    ``upper=False`` leaves the tone marks and letters of upper-case words as read: a page's upper-case
    lines are its agency, heading and signature, names the legal text seldom holds (CỤC QUẢN LÝ DƯỢC
    is not ĐƯỢC); extraction sets right the summary alone, knowing it is one.
    """
    lex = lex or lexicon()
    fixes = 0
    lines = []
    for text in texts:
        fixed = _O_DIGIT.sub(lambda m: "0" * len(m.group()), text)
        tokens = []
        for tok in fixed.split(" "):
            m = _TOKEN.match(tok)
            if m and (m.group(2).isupper() or m.group(2).islower()):
                tok = m.group(1) + _split_glued(m.group(2), lex) + m.group(3)
            tokens.extend(tok.split(" "))
        fixes += fixed != text or len(tokens) != len(text.split(" "))
        lines.append(tokens)
    flat = [(li, ti) for li, toks in enumerate(lines) for ti in range(len(toks))]
    parts = [_TOKEN.match(lines[li][ti]) for li, ti in flat]
    words = [_word(lines[li][ti], m) for (li, ti), m in zip(flat, parts, strict=True)]
    for k, m in enumerate(parts):
        if m is None or not (m.group(2).isupper() and upper or m.group(2).islower()):
            continue
        # the neighbours as read (not as set right), so one fix never props up the next
        before, after = (parts[k - 1] if k else None), (parts[k + 1] if k + 1 < len(parts) else None)
        left = words[k - 1] if k and not m.group(1) and not (before and before.group(3)) else None
        right = words[k + 1] if k + 1 < len(words) and not m.group(3) and not (after and after.group(1)) else None
        variant = _better(lex, left, m.group(2).lower(), right)
        if variant is not None:
            li, ti = flat[k]
            lines[li][ti] = m.group(1) + _cased(variant, m.group(2)) + m.group(3)
            fixes += 1
    return [" ".join(toks) for toks in lines], fixes
