"""Real line crops for the small recognizer: the engine's own crops of ``tune`` pages, labelled.

    python -m service.ocr.train.harvest --out runs/crops-0.pkl --first 100 --pages 120

Pages come from the held-out generator's ``tune`` slice (seeds from 100 up, so the benchmark's
tune pages 0–9 stay out, and the ``never`` slice is never rendered) and from the project's own
renderer, in the three conditions. Each page goes through the engine's imaging, detector and
layout exactly as in service; each crop is read by the shipped AsterNet and kept only where that
reading is within 10 % edit distance of one printed truth line — the label is then the *truth*
text, so AsterNet chooses the crops it is sure of (distillation on real crops) but never teaches
its own misreadings. Crops are stored 32 px high at their natural width (uint8).
"""

from __future__ import annotations

import argparse
import pickle
import random
import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np
from PIL import Image

from service.ocr.metrics import levenshtein, normalize
from service.ocr.train.lines import HEIGHT

CONDITIONS = ("clean", "scanner", "phone")


def label_for(reading: str, truths: list[str], tolerance: float = 0.1) -> str | None:
    """The truth line ``reading`` is a close reading of (edit distance ≤ ``tolerance`` × length), or None."""
    reading = normalize(reading)
    if len(reading) < 2:
        return None
    best, best_d = None, 1 << 30
    for t in truths:
        if abs(len(t) - len(reading)) > tolerance * max(len(t), 1) + 1:
            continue
        d = levenshtein(reading, t)
        if d < best_d:
            best, best_d = t, d
    if best is None or best_d > tolerance * len(best):
        return None
    return best


def _pages(first: int, count: int) -> Iterator[tuple[str, object]]:
    """(condition, RenderedPage) for ``count`` tune seeds from ``first`` (+ a project page every 4th)."""
    from service.synth.heldout import SLICE_FONTS, render_heldout
    from service.synth.heldout_text import load_rows, specs_for
    from service.synth.render import render_document
    from service.synth.samples import sample_documents

    data = Path(__file__).resolve().parents[3] / "bench" / "data" / "heldout_corpus.jsonl"
    specs = specs_for(load_rows(data), "tune", first + count, seed=7)
    fonts = SLICE_FONTS["tune"]
    docs = [d for d in sample_documents() if d.kind == "document"]
    sizes = (11.0, 11.5, 12.0, 12.5, 13.0, 13.5, 14.0)
    for i in range(first, first + count):
        rng = random.Random(i)
        condition = CONDITIONS[i % 3]
        if i % 4 == 3:
            page = render_document(docs[i % len(docs)], dpi=(300, 200)[i % 2],
                                   font=("liberation", "dejavu", "noto")[i % 3], condition=condition, seed=i)[0]
        else:
            page = render_heldout(specs[i], family=fonts[i % len(fonts)], body_pt=rng.choice(sizes),
                                  condition=condition, seed=10_000 + i)  # type: ignore[arg-type]
        yield condition, page


def harvest(first: int, count: int) -> list[tuple[np.ndarray, str, str]]:
    """(crop 32 px high, truth text, condition) for every confidently read crop of the pages."""
    from service.imaging import prepare
    from service.ocr.config import OcrConfig
    from service.ocr.engine import OcrEngine
    from service.ocr.images import without_red_ink
    from service.ocr.layout import crop_box, lay_out

    engine = OcrEngine(OcrConfig(threads=1))
    samples: list[tuple[np.ndarray, str, str]] = []
    seen = kept = 0
    for condition, page in _pages(first, count):
        truths = [normalize(t.text) for t in page.lines]  # type: ignore[attr-defined]
        image = np.asarray(page.image.convert("RGB"))[:, :, ::-1]  # type: ignore[attr-defined]
        clean = prepare(without_red_ink(image), "camera" if condition == "phone" else "scanner")
        gray = clean.image
        for ln in lay_out(engine.detector.detect(gray), gray):
            x0, y0, x1, y1 = crop_box(ln.box, gray.shape[:2])
            crop = gray[y0:y1, x0:x1]
            if crop.size == 0:
                continue
            seen += 1
            label = label_for(engine.recognizer.read(crop).text, truths)
            if label is None:
                continue
            h, w = crop.shape
            width = max(8, min(3000, int(round(w * HEIGHT / max(1, h)))))
            small = np.asarray(Image.fromarray(crop).resize((width, HEIGHT), Image.Resampling.BILINEAR))
            samples.append((small, label, condition))
            kept += 1
        print(f"pages to {first + count}: {kept}/{seen} crops kept", file=sys.stderr, flush=True)
    return samples


def main(argv: list[str]) -> int:
    """Harvest crops of tune pages ``--first`` … ``--first + --pages`` into ``--out`` (pickle)."""
    ap = argparse.ArgumentParser(prog="python -m service.ocr.train.harvest")
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--first", type=int, default=100, help="first tune seed (≥ 100: the bench uses 0–99)")
    ap.add_argument("--pages", type=int, default=60)
    args = ap.parse_args(argv)
    if args.first < 100:
        print("--first must be ≥ 100 (the benchmark's tune pages are below)", file=sys.stderr)
        return 2
    samples = harvest(args.first, args.pages)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    with args.out.open("wb") as fh:
        pickle.dump(samples, fh)
    print(f"{len(samples)} crops → {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
