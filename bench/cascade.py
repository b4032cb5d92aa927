"""Cascade rules scored offline: which lines AsterNet re-reads, and which reading a line keeps.

Each held-out page is read once by the shipped engine's models: FastCtc reads every line, AsterNet
re-reads every line the widest rule below would send it. A rule is then a choice over those
recorded readings (``service.ocr.engine.unsure`` / ``keeps_first`` under a variant of the shipped
``ocr`` settings), assembled into the page the engine would report (``OcrEngine.page_of``) and
scored: page CER per condition, exact extraction of the five header fields, and the share of
lines re-read. All the rules share one OCR pass. Choose on ``tune`` only; the ``never``
slice is for reporting (models/README.md).

    python -m bench.cascade --slice tune --pages 30 --keep /tmp/pages
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from bench.extract import ADMIN_FIELDS, extracted
from bench.ocr_pages import CONDITIONS, Page, heldout_pages
from service.extract.extractor import extract_pages
from service.imaging import Source, prepare
from service.ocr.config import OcrConfig
from service.ocr.engine import OcrEngine, get_engine, keeps_first, placed, unsure
from service.ocr.images import iter_pages, without_red_ink
from service.ocr.layout import Box
from service.ocr.metrics import match_lines
from service.ocr.recognizer import Reading
from service.ocr.types import OcrPage

#: (row label, settings over the shipped OcrConfig); the first row's re-reads hold every other row's
RULES: list[tuple[str, dict[str, object]]] = [
    ("top third < 0.98 or a non-syllable word, the surer kept", {"fallback_header_below": 0.98,
                                                                "fallback_header_spelling": True,
                                                                "fallback_keeps": "surer"}),
    ("top third < 0.98, the surer kept", {"fallback_header_below": 0.98, "fallback_header_spelling": False,
                                          "fallback_keeps": "surer"}),
    ("top third < 0.98 or a non-syllable word, AsterNet's kept", {"fallback_header_below": 0.98,
                                                                 "fallback_header_spelling": True,
                                                                 "fallback_keeps": "fallback"}),
    ("top third < 0.95 or a non-syllable word, the surer kept", {"fallback_header_below": 0.95,
                                                                "fallback_header_spelling": True}),
    ("top third < 0.9 or a non-syllable word, the surer kept", {"fallback_header_below": 0.9,
                                                               "fallback_header_spelling": True}),
    ("no header rule, the surer kept", {"fallback_header_below": 0.0, "fallback_header_dropped_above": 1.0,
                                        "fallback_header_spelling": False, "fallback_keeps": "surer"}),
    ("no re-read (FastCtc alone)", {"fallback_below": 0.0, "fallback_header_below": 0.0,
                                    "fallback_header_dropped_above": 1.0, "fallback_header_spelling": False}),
]


@dataclass
class Recorded:
    """One page's line readings: (ink box on the clean page, FastCtc's reading, AsterNet's or None,
    in the page's top third), and how the clean page maps onto the input image."""

    page: Page
    shape: tuple[int, int]  # the clean page's (height, width)
    size: tuple[int, int]  # the input image's (width, height): boxes are placed back onto it
    matrix: np.ndarray  # input pixels -> clean page pixels (service.imaging.CleanPage.matrix)
    lines: list[tuple[Box, Reading, Reading | None, bool]]


def record(engine: OcrEngine, pages: list[Page], widest: OcrConfig) -> list[Recorded]:
    """Both recognizers' readings of every line of ``pages`` (AsterNet's where ``widest`` re-reads)."""
    if engine.fallback is None:
        raise SystemExit("bench.cascade needs the cascade's fallback recognizer (ocr.fallback_recognizer)")
    out = []
    for page in pages:
        source: Source = "camera" if page.condition == "phone" else "scanner"
        image = next(iter_pages(page.path, engine.config.max_pixels))
        clean = prepare(without_red_ink(image), source, max_pixels=engine.config.max_pixels)
        lines = []
        for box, crop, header in engine.line_crops(clean.image):
            first = engine.recognizer.read(crop)
            again = engine.fallback.read(crop) if unsure(widest, first, header=header) else None
            lines.append((box, first, again, header))
        out.append(Recorded(page, clean.image.shape[:2], image.size, clean.matrix, lines))
    return out


def page_under(engine: OcrEngine, rec: Recorded, rule: OcrConfig) -> OcrPage:
    """The page the engine would report for ``rec`` with the cascade settings of ``rule``."""
    chosen = []
    for box, first, again, header in rec.lines:
        reading = first
        if unsure(rule, first, header=header):
            if again is None:
                raise ValueError("a rule re-reads a line the recording did not: record with the widest rule")
            reading = first if keeps_first(rule, first, again, header=header) else again
        chosen.append((box, reading))
    return placed(engine.page_of(chosen, rec.shape), rec.matrix, rec.size)


def score(engine: OcrEngine, recorded: list[Recorded], rule: OcrConfig) -> tuple[dict[str, float], Counter[str],
                                                                                   float]:
    """Page CER % per condition, exact fields per condition (``"cond field"``) and the share of
    lines re-read, for the pages the engine would report under ``rule``."""
    errors: Counter[str] = Counter()
    chars: Counter[str] = Counter()
    exact: Counter[str] = Counter()
    reread = total = 0
    for rec in recorded:
        total += len(rec.lines)
        reread += sum(unsure(rule, first, header=header) for _, first, _, header in rec.lines)
        ocr = page_under(engine, rec, rule)
        cond = rec.page.condition
        match = match_lines(rec.page.truth, [ln.text for ln in ocr.lines])
        errors[cond] += match.page_errors
        chars[cond] += match.gt_chars
        ex = extract_pages([ocr])
        for name in ADMIN_FIELDS:
            exact[f"{cond} {name}"] += extracted(ex, name) == rec.page.fields.get(name)
    cer = {c: 100 * errors[c] / max(1, chars[c]) for c in chars}
    return cer, exact, reread / max(1, total)


def table(recorded: list[Recorded], engine: OcrEngine) -> str:
    """One row per rule in :data:`RULES`: page CER per condition, exact fields, lines re-read."""
    conds = [c for c in CONDITIONS if any(r.page.condition == c for r in recorded)]
    head = ("| rule | " + " | ".join(f"page CER % {c}" for c in conds) + " | "
            + " | ".join(f"{f} {'/'.join(conds)}" for f in ADMIN_FIELDS) + " | lines re-read |")
    rows = [head, "|---" * (2 + len(conds) + len(ADMIN_FIELDS)) + "|"]
    for label, settings in RULES:
        cer, exact, share = score(engine, recorded, engine.config.model_copy(update=settings))
        fields = [" / ".join(f"{exact[f'{c} {f}']}" for c in conds) for f in ADMIN_FIELDS]
        rows.append(f"| {label} | " + " | ".join(f"{cer[c]:.3f}" for c in conds) + " | "
                    + " | ".join(fields) + f" | {100 * share:.1f} % |")
    pages = Counter(r.page.condition for r in recorded)
    counts = ", ".join(f"{c} {pages[c]}" for c in conds)
    return "\n".join(rows) + f"\n(first pages per condition: {counts}; fields: exact matches)"


def run_slice(slice_: str, per: int, keep: Path | None) -> str:
    """Render (or reuse) ``per`` pages per condition of ``slice_``, record them once, score every rule."""
    engine = get_engine()
    widest = engine.config.model_copy(update=RULES[0][1])
    with tempfile.TemporaryDirectory(prefix="bench-cascade-") as tmp:
        pages = heldout_pages(keep or Path(tmp), slice_, per)
        recorded = record(engine, pages, widest)
    return f"Cascade rules on the '{slice_}' slice, scored offline from one reading\n{table(recorded, engine)}"


def main(argv: list[str]) -> int:
    """CLI: ``--slice`` (tune unless told), ``--pages`` per condition, ``--keep`` a page cache."""
    ap = argparse.ArgumentParser(prog="python -m bench.cascade")
    ap.add_argument("--slice", choices=("tune", "never"), default="tune")
    ap.add_argument("--pages", type=int, default=30, help="pages per condition (default 30)")
    ap.add_argument("--keep", type=Path, default=None, help="folder to cache rendered pages in")
    args = ap.parse_args(argv)
    if args.pages < 1:
        ap.error("--pages must be at least 1")
    print(run_slice(args.slice, args.pages, args.keep))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
