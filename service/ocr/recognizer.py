"""Line recognizer: AsterNet (``asterocr`` wheel) on ONNX Runtime with our own pre/post-processing.

AsterNet reads a line resized to 32 px high; its positional encoding holds 256 steps, so inputs
wider than 1024 px fail inside the model. Wide lines are therefore cut into chunks at word gaps
(blank ink columns) before recognition, and where a line has no gap wide enough, into overlapping
chunks whose texts are joined on their common overlap.
"""

from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import dataclass

import numpy as np
from PIL import Image

from service.domain.errors import OcrError
from service.ocr.detector import make_session
from service.ocr.layout import ink_threshold
from service.ocr.manifest import ModelSpec

Array = np.ndarray
HEIGHT = 32
MODEL_LIMIT = 1024
SHORT_LINE = 520  # px at 32 px height: lines up to this width get the milder short-line squeeze


@dataclass(frozen=True, slots=True)
class Reading:
    """Recognized text of one crop (NFC, whitespace collapsed) and its confidence 0–1."""

    text: str
    confidence: float
    weakest: float = 1.0  # the least sure character's probability (what a cascade decides on)
    dropped: float = 0.0  # the surest character the decoding left out (a likely deletion; see ctc_dropped)


def is_short(gray: Array) -> bool:
    """Whether a line crop is short (at most ``SHORT_LINE`` px wide at 32 px high): the header,
    "Số", dates, titles and summary lines, whose exactness matters most."""
    h, w = gray.shape[:2]
    return w * HEIGHT / max(1, h) <= SHORT_LINE


def _ink_columns(gray: Array) -> Array:
    """True for columns holding ink (Otsu threshold, at least one dark pixel)."""
    if gray.size == 0:
        return np.zeros(gray.shape[1], dtype=bool)
    return np.asarray((gray < ink_threshold(gray)).any(axis=0))


def plan_chunks(gray: Array, limit: int) -> list[tuple[int, int, bool]]:
    """Cut a line crop into pieces at most ``limit`` px wide: ``(x0, x1, overlaps_previous)``.

    Cuts go in the middle of the widest blank column run (a word gap) in the last half of each
    window; with no gap, the next chunk starts ``0.6 × height`` before the cut so no glyph is lost.
    """
    h, w = gray.shape[:2]
    if w <= limit:
        return [(0, w, False)]
    ink = _ink_columns(gray)
    min_gap = max(2, int(0.08 * h))
    runs: list[tuple[int, int]] = []  # (start, end) of blank runs
    start = None
    for x, has_ink in enumerate(ink):
        if not has_ink and start is None:
            start = x
        elif has_ink and start is not None:
            if x - start >= min_gap:
                runs.append((start, x))
            start = None
    chunks: list[tuple[int, int, bool]] = []
    pos, overlap = 0, False
    while w - pos > limit:
        lo, hi = pos + limit // 2, pos + limit
        inside = [(e - s, (s + e) // 2) for s, e in runs if lo <= (s + e) // 2 <= hi]
        if inside:
            cut = max(inside)[1]
            chunks.append((pos, cut, overlap))
            pos, overlap = cut, False
        else:
            chunks.append((pos, hi, overlap))
            pos, overlap = hi - max(4, int(0.6 * h)), True
    chunks.append((pos, w, overlap))
    return chunks


def join_overlapping(left: str, right: str, expected: int) -> str:
    """Join two texts read from overlapping crops: drop the longest suffix of ``left`` that
    starts ``right`` (at most ``expected + 3`` characters); otherwise drop ``expected`` chars."""
    best = 0
    for k in range(1, min(len(left), len(right), expected + 3) + 1):
        if left[-k:] == right[:k]:
            best = k
    if best:
        return left + right[best:]
    return left + right[min(expected, len(right)):]


def ctc_greedy(log_probs: Array, chars: list[str]) -> tuple[str, list[float]]:
    """Greedy CTC decoding of ``(T, classes)`` log-probabilities (blank = 0): the raw text and each
    emitted character's probability (the best frame of its run)."""
    best = log_probs.argmax(axis=1)
    probs = np.exp(log_probs[np.arange(len(best)), best])
    out: list[str] = []
    confs: list[float] = []
    prev = -1
    for idx, p in zip(best.tolist(), probs.tolist(), strict=True):
        if idx != prev and idx != 0:
            out.append(chars[idx] if idx < len(chars) else "")
            confs.append(p)
        elif idx == prev and idx != 0 and confs:
            confs[-1] = max(confs[-1], p)
        prev = idx
    return "".join(out), confs


def ctc_dropped(log_probs: Array) -> float:
    """The highest probability, in a frame where blank wins, of a character that neither
    neighbouring emitted character is: how close greedy CTC came to emitting one more character.
    A confident reading can still have dropped one (``Số: 298CT``); this catches it."""
    best = log_probs.argmax(axis=1)
    t = np.arange(len(best))
    emitted = best != 0
    if emitted.all() or not len(best):
        return 0.0
    prev_at = np.maximum.accumulate(np.where(emitted, t, -1))
    next_at = np.minimum.accumulate(np.where(emitted, t, len(best))[::-1])[::-1]
    blank = ~emitted
    probs = np.exp(log_probs[blank])
    rows = np.arange(len(probs))
    probs[:, 0] = 0.0
    prev_c = np.where(prev_at[blank] >= 0, best[np.clip(prev_at[blank], 0, None)], 0)
    next_c = np.where(next_at[blank] < len(best), best[np.clip(next_at[blank], None, len(best) - 1)], 0)
    probs[rows, prev_c] = 0.0
    probs[rows, next_c] = 0.0
    return float(probs.max()) if probs.size else 0.0


class Recognizer:
    """AsterNet CTC recognizer; :meth:`read` takes a grayscale uint8 line crop."""

    def __init__(self, spec: ModelSpec, *, threads: int = 1, max_width: int = 960, squeeze: float | None = None,
                 short_squeeze: float | None = None) -> None:
        if spec.vocabulary is None:
            raise OcrError(f"recognizer {spec.name} has no vocabulary in the manifest",
                           remedy="restore models/manifest.json")
        try:
            chars = json.loads(spec.vocabulary.path.read_text(encoding="utf-8"))["chars"]
        except (OSError, ValueError, KeyError) as exc:
            raise OcrError(f"vocabulary of {spec.name} cannot be read: {exc}",
                           remedy=spec.vocabulary.remedy) from exc
        self.chars: list[str] = [str(c) for c in chars]
        self.spec = spec
        self.session = make_session(spec, threads)
        self.input_name = self.session.get_inputs()[0].name
        classes = self.session.get_outputs()[0].shape[-1]
        if isinstance(classes, int) and classes != len(self.chars):
            raise OcrError(f"{spec.name}: model has {classes} classes, vocabulary {len(self.chars)}",
                           remedy="the manifest pairs a model with the wrong vocabulary; restore it")
        self.max_width = min(max_width, int(spec.entry.get("max_width", MODEL_LIMIT)), MODEL_LIMIT)
        # the model's own input scale (manifest "squeeze": the one it was measured or trained at)
        own = spec.entry.get("squeeze", {})
        self.squeeze = squeeze if squeeze is not None else float(own.get("long", 0.5))
        self.short_squeeze = short_squeeze if short_squeeze is not None else float(own.get("short", 0.75))

    def squeeze_for(self, gray: Array) -> float:
        """Horizontal scale of a line crop: milder for short lines (header, "Số", dates, titles)."""
        return self.short_squeeze if is_short(gray) else self.squeeze

    def tensor(self, gray: Array, squeeze: float) -> Array:
        """The model input for a line crop: 32 px high, squeezed, ``x/255``, gray in all 3 channels."""
        h, w = gray.shape[:2]
        new_w = max(16, int(round(w * HEIGHT / max(1, h) * squeeze)))
        new_w = min(self.max_width, (new_w + 3) // 4 * 4)
        # PIL's bilinear filter widens its support when shrinking (anti-aliased), as in training
        resized = Image.fromarray(gray).resize((new_w, HEIGHT), Image.Resampling.BILINEAR)
        small = np.asarray(resized, dtype=np.float32) * (1.0 / 255.0)
        return np.ascontiguousarray(np.broadcast_to(small, (1, 3, HEIGHT, new_w)))

    def _run(self, gray: Array, squeeze: float) -> tuple[str, list[float], float]:
        tensor = self.tensor(gray, squeeze)
        try:
            log_probs = self.session.run(None, {self.input_name: tensor})[0][:, 0, :]
        except Exception as exc:
            raise OcrError(f"line recognition failed: {exc}", remedy="report the image; it should not happen") from exc
        text, confs = ctc_greedy(log_probs, self.chars)
        return text, confs, ctc_dropped(log_probs)

    def read(self, gray: Array) -> Reading:
        """Text and confidence of a line crop (uint8 gray, dark text on light paper, any width)."""
        if gray.ndim != 2 or gray.size == 0:
            return Reading("", 0.0)
        h = gray.shape[0]
        # the recognizer's cost is linear in input width (~0.2 ms per column on one x86 core), so
        # every line is squeezed horizontally; short lines (header, "Số", dates, titles) less so,
        # since their exactness matters most (bench: long 0.5 / short 0.75 keeps page CER ~0.3 %;
        # 0.45 / 0.6 rises to 0.44 % and 0.4 / 0.7 falls off a cliff at 0.93 % with dates missed)
        squeeze = self.squeeze_for(gray)
        limit = int((self.max_width - 8) * h / HEIGHT / squeeze)
        pieces: list[str] = []
        confs: list[float] = []
        text = ""
        dropped = 0.0
        for x0, x1, overlaps in plan_chunks(gray, max(limit, 8)):
            piece, c, d = self._run(gray[:, x0:x1], squeeze)
            dropped = max(dropped, d)
            piece = piece.strip()
            confs.extend(c)
            if not pieces:
                text = piece
            elif overlaps:
                text = join_overlapping(text, piece, expected=max(1, round(0.6 * h / (0.45 * h))))
            else:
                text = f"{text} {piece}" if piece else text
            pieces.append(piece)
        text = re.sub(r"\s+", " ", unicodedata.normalize("NFC", text)).strip()
        confidence = float(np.mean(confs)) if confs else 0.0
        return Reading(text, confidence if text else 0.0, float(min(confs)) if confs and text else 0.0, dropped)
