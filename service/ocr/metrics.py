"""Accuracy measures for OCR output against ground truth: CER with order-free line matching."""

from __future__ import annotations

import unicodedata
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass


def normalize(text: str) -> str:
    """NFC with runs of whitespace collapsed to one space (how texts are compared)."""
    return " ".join(unicodedata.normalize("NFC", text).split())


def levenshtein(a: str, b: str) -> int:
    """Edit distance (insertions, deletions, substitutions) between two strings."""
    if len(a) < len(b):
        a, b = b, a
    if not b:
        return len(a)
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, start=1):
        cur = [i]
        for j, cb in enumerate(b, start=1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb)))
        prev = cur
    return prev[-1]


@dataclass(frozen=True, slots=True)
class PageScore:
    """Errors on one page: ``page_errors`` counts matched edits plus missed and extra lines."""

    gt_chars: int
    page_errors: int
    matched_chars: int
    matched_errors: int
    pairs: tuple[tuple[str, str], ...]

    @property
    def page_cer(self) -> float:
        """Page CER: all errors over ground-truth characters."""
        return self.page_errors / max(1, self.gt_chars)

    @property
    def line_cer(self) -> float:
        """Line CER over the lines that were matched (recognition quality given detection)."""
        return self.matched_errors / max(1, self.matched_chars)


def _bag_similarity(a: Counter[str], b: Counter[str], la: int, lb: int) -> float:
    return 2 * sum((a & b).values()) / max(1, la + lb)


def match_lines(truth: Sequence[str], predicted: Sequence[str], candidates: int = 4) -> PageScore:
    """Pair ground-truth and predicted lines one-to-one regardless of order, cheapest first.

    Each truth line is compared (edit distance) with its ``candidates`` most similar predicted
    lines by character bag; pairs are taken greedily by CER. Unpaired truth lines count as fully
    missed, unpaired predicted lines as inserted characters.
    """
    gts = [normalize(t) for t in truth if normalize(t)]
    preds = [normalize(p) for p in predicted if normalize(p)]
    bags_p = [Counter(p) for p in preds]
    options: list[tuple[float, int, int, int]] = []
    for gi, g in enumerate(gts):
        bag = Counter(g)
        ranked = sorted(range(len(preds)), key=lambda pi: -_bag_similarity(bag, bags_p[pi], len(g), len(preds[pi])))
        for pi in ranked[:candidates]:
            d = levenshtein(g, preds[pi])
            if d < len(g):
                options.append((d / max(1, len(g)), d, gi, pi))
    options.sort()
    used_g: set[int] = set()
    used_p: set[int] = set()
    errors = matched_chars = matched_errors = 0
    pairs = []
    for _, d, gi, pi in options:
        if gi in used_g or pi in used_p:
            continue
        used_g.add(gi)
        used_p.add(pi)
        errors += d
        matched_errors += d
        matched_chars += len(gts[gi])
        pairs.append((gts[gi], preds[pi]))
    errors += sum(len(g) for i, g in enumerate(gts) if i not in used_g)
    errors += sum(len(p) for i, p in enumerate(preds) if i not in used_p)
    return PageScore(sum(len(g) for g in gts), errors, matched_chars, matched_errors, tuple(pairs))
