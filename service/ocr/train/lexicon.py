"""``python -m service.ocr.train.lexicon``: build the syllable lexicon the OCR's text step reads
(``service/ocr/data/vi-lexicon.tsv``) from the shared Vietnamese legal corpus.

The rows the held-out benchmark pages are rendered from (``bench/data/heldout_corpus.jsonl``, both
slices) are left out, so the lexicon never knows the evaluation text. Words are lower-case runs of
letters; a bigram is two words with only a space between them (no punctuation, digit or line
break). Output is sorted, so the same corpus gives the same file.

    python -m service.ocr.train.lexicon [--corpus ../shared/data/vi_legal_corpus.jsonl]
"""

from __future__ import annotations

import argparse
import collections
import json
import re
import unicodedata
from collections.abc import Iterable
from pathlib import Path

from service.ocr.lexicon import DATA, NUMBER, WORD

REPO = Path(__file__).resolve().parents[3]
CORPUS = REPO.parent / "shared" / "data" / "vi_legal_corpus.jsonl"
HELDOUT = REPO / "bench" / "data" / "heldout_corpus.jsonl"
OUT = DATA
MIN_BIGRAM = 2  # a pair seen once is as likely a typo as a word pair
_WORD = re.compile(WORD)
_NUMBER = re.compile(r"\S*\d\S*")
_BREAK = re.compile(r"[^\w\s]|_|\n")
#: Signature-block titles (Decree 30/2020/NĐ-CP, Phụ lục I): the corpus holds no signatures.
TITLES = ("KT. BỘ TRƯỞNG\nTHỨ TRƯỞNG", "KT. CHỦ TỊCH\nPHÓ CHỦ TỊCH", "TM. ỦY BAN NHÂN DÂN\nCHỦ TỊCH",
          "KT. GIÁM ĐỐC\nPHÓ GIÁM ĐỐC", "KT. CỤC TRƯỞNG\nPHÓ CỤC TRƯỞNG", "KT. TRƯỞNG PHÒNG\nPHÓ TRƯỞNG PHÒNG",
          "TL. BỘ TRƯỞNG\nVỤ TRƯỞNG", "KT. TỔNG CỤC TRƯỞNG\nPHÓ TỔNG CỤC TRƯỞNG", "KT. THỦ TƯỚNG\nPHÓ THỦ TƯỚNG")
TITLE_WEIGHT = 20


def count(texts: Iterable[str]) -> tuple[collections.Counter[str], collections.Counter[tuple[str, str]]]:
    """Word and adjacent-word-pair counts of ``texts`` (lower-case NFC)."""
    uni: collections.Counter[str] = collections.Counter()
    bi: collections.Counter[tuple[str, str]] = collections.Counter()
    for text in texts:
        text = _NUMBER.sub(f" {NUMBER} ", unicodedata.normalize("NFC", text).lower())
        for segment in _BREAK.split(text):
            words = [w for w in segment.split() if _WORD.fullmatch(w) or w == NUMBER]
            uni.update(words)
            bi.update(zip(words, words[1:], strict=False))
    return uni, bi


def corpus_texts(corpus: Path, heldout: Path) -> list[str]:
    """Texts of the corpus rows the held-out benchmark does not use (by row index and by id), then
    the signature-block titles (TITLE_WEIGHT times each)."""
    held = [json.loads(line) for line in heldout.read_text(encoding="utf-8").splitlines() if line.strip()]
    rows, ids = {h["row"] for h in held}, {h["id"] for h in held}
    out = []
    for i, line in enumerate(corpus.read_text(encoding="utf-8").splitlines()):
        row = json.loads(line)
        if i in rows or row.get("id") in ids:
            continue
        out.append("\n".join(str(row.get(k) or "") for k in ("title", "issuing_body", "text")))
    return out + list(TITLES) * TITLE_WEIGHT


def write(uni: collections.Counter[str], bi: collections.Counter[tuple[str, str]], out: Path) -> None:
    """The lexicon file: ``1<TAB>word<TAB>count`` rows, then ``2<TAB>w1 w2<TAB>count`` rows."""
    rows = [f"1\t{w}\t{n}" for w, n in sorted(uni.items())]
    rows += [f"2\t{a} {b}\t{n}" for (a, b), n in sorted(bi.items()) if n >= MIN_BIGRAM]
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("\n".join(rows) + "\n", encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    """Build the lexicon; returns the exit code."""
    ap = argparse.ArgumentParser(prog="python -m service.ocr.train.lexicon", description=__doc__.split("\n")[0])
    ap.add_argument("--corpus", type=Path, default=CORPUS)
    ap.add_argument("--heldout", type=Path, default=HELDOUT)
    ap.add_argument("--out", type=Path, default=OUT)
    args = ap.parse_args(argv)
    if not args.corpus.is_file():
        print(f"error: corpus {args.corpus} not found (the shared data folder is needed to rebuild the lexicon)")
        return 2
    uni, bi = count(corpus_texts(args.corpus, args.heldout))
    write(uni, bi, args.out)
    print(f"{args.out}: {len(uni)} words, {sum(1 for n in bi.values() if n >= MIN_BIGRAM)} word pairs")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
