"""The page OCR engine: imaging → DBNet detector → layout → AsterNet recognizer → :class:`OcrPage`.

Models are resolved through ``models/manifest.json`` and verified (SHA-256) when the engine is
built; :func:`get_engine` builds one engine per process and configuration.
"""

from __future__ import annotations

import ctypes
import logging
import re
import threading
import time
import unicodedata
from collections.abc import Callable, Iterable, Iterator
from dataclasses import replace
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

from service.imaging import CleanPage, Source, box_to_input, prepare
from service.ocr.config import OcrConfig
from service.ocr.cpu import fallback_squeeze, this_cpu
from service.ocr.detector import Detector
from service.ocr.images import iter_pages, without_red_ink
from service.ocr.layout import Box, crop_box, lay_out
from service.ocr.lexicon import correct_lines
from service.ocr.manifest import resolve
from service.ocr.recognizer import Reading, Recognizer
from service.ocr.spelling import unspelled
from service.ocr.types import OcrLine, OcrPage

log = logging.getLogger(__name__)
Array = np.ndarray
_ARTICLE = re.compile(r"^(Điều|Chương|Mục|Khoản) (\d+|[IVXL]+),(?= )")
_CLAUSE = re.compile(r"^(\d{1,3}), (?=\w)")


def _load_malloc_trim() -> Callable[[int], int] | None:
    try:
        return ctypes.CDLL("libc.so.6").malloc_trim  # type: ignore[no-any-return]
    except (OSError, AttributeError):  # not glibc: nothing to trim
        return None


_MALLOC_TRIM = _load_malloc_trim()


def release_heap() -> None:
    """Hand freed heap pages back to the OS (glibc ``malloc_trim``).

    A page's big temporary arrays (masks, the detector's activations) are freed into glibc's heap,
    which keeps them: without this the resident size crept by ~150 MB over a few pages (measured
    166 → 321 MB) although each page needs only ~50 MB at once. Costs ~1 ms.
    """
    if _MALLOC_TRIM is not None:
        _MALLOC_TRIM(0)


def tidy(text: str) -> str:
    """NFC, and the one misreading of legal numbering the recognizer makes: a comma for the period
    after an article or clause number at the start of a line ("Điều 1," → "Điều 1.", "2, Bảo" →
    "2. Bảo" when an upper-case word follows)."""
    text = _ARTICLE.sub(r"\1 \2.", unicodedata.normalize("NFC", text))
    m = _CLAUSE.match(text)
    if m and text[m.end():m.end() + 1].isupper():
        text = f"{m.group(1)}.{text[m.end() - 1:]}"
    return text


def unsure(config: OcrConfig, reading: Reading, *, header: bool) -> bool:
    """Cascade: whether the fallback recognizer should read a line again (``header``: the line stands
    in the top third of its page, where the fields extraction reads are)."""
    below = config.fallback_below
    return (below >= 1.0 or reading.weakest < below or reading.dropped > config.fallback_dropped_above
            or header and (config.fallback_header_below >= 1.0
                           or reading.weakest < config.fallback_header_below
                           or reading.dropped > config.fallback_header_dropped_above
                           or config.fallback_header_spelling and unspelled(reading.text) > 0))


def keeps_first(config: OcrConfig, first: Reading, again: Reading, *, header: bool) -> bool:
    """Cascade: whether a re-read line keeps its first reading: on a header line with
    ``fallback_header_spelling`` the re-read wins where it has fewer words that cannot be
    syllables (never the other way: highland names such as ĐẮK MAR are no syllables either);
    otherwise (``fallback_keeps: surer``) the first stays where its characters are surer on
    average than the re-read's."""
    if header and config.fallback_header_spelling and unspelled(again.text) < unspelled(first.text):
        return False
    return config.fallback_keeps == "surer" and again.confidence < first.confidence


class OcrEngine:
    """Vietnamese page OCR on ONNX Runtime (one thread per model by default)."""

    def __init__(self, config: OcrConfig | None = None) -> None:
        self.config = config or OcrConfig()
        started = time.perf_counter()
        det_spec = resolve(self.config.detector, self.config.manifest)
        rec_spec = resolve(self.config.recognizer, self.config.manifest)
        self.detector = Detector(det_spec, threads=self.config.threads, long_side=self.config.det_long_side,
                                 threshold=self.config.det_threshold, box_threshold=self.config.box_threshold)
        self.recognizer = Recognizer(rec_spec, threads=self.config.threads, max_width=self.config.rec_max_width,
                                     squeeze=self.config.rec_squeeze, short_squeeze=self.config.rec_short_squeeze)
        self.fallback: Recognizer | None = None
        if self.config.fallback_recognizer:
            fb_spec = resolve(self.config.fallback_recognizer, self.config.manifest)
            squeeze = fallback_squeeze(self.config.fallback_squeeze, dot_product=bool(this_cpu()[1]))
            self.fallback = Recognizer(fb_spec, threads=self.config.threads, max_width=self.config.rec_max_width,
                                       squeeze=squeeze, short_squeeze=squeeze)
        self.lines_read = 0
        self.lines_fallback = 0  # cascade: lines the fallback recognizer re-read
        self.lines_kept_first = 0  # cascade: re-read lines that kept the first reading (it was surer)
        self.ready = False
        log.info("ocr models loaded and verified in %.2f s (%s, %s)", time.perf_counter() - started,
                 det_spec.name, rec_spec.name)

    def warm_up(self) -> None:
        """Run both models once on a small synthetic line so the first real page is not slow."""
        canvas = np.full((120, 640, 3), 255, np.uint8)
        cv2.putText(canvas, "So: 123/QD-UBND 2024", (20, 75), cv2.FONT_HERSHEY_SIMPLEX, 1.4, (0, 0, 0), 3)
        self.read_prepared(prepare(canvas, "scanner"))
        self.ready = True

    def _second_opinion(self, first: Reading, again: Reading, *, header: bool) -> Reading:
        """Cascade: the reading a re-read line keeps (``fallback_keeps``); counts the re-read."""
        self.lines_fallback += 1
        if keeps_first(self.config, first, again, header=header):
            self.lines_kept_first += 1
            return first
        return again

    def read_prepared(self, clean: CleanPage) -> OcrPage:
        """OCR a prepared page; boxes are in ``clean.image`` pixels."""
        readings: list[tuple[Box, Reading]] = []
        for box, crop, header in self.line_crops(clean.image):
            reading = self.recognizer.read(crop)
            self.lines_read += 1
            if self.fallback is not None and unsure(self.config, reading, header=header):
                reading = self._second_opinion(reading, self.fallback.read(crop), header=header)
            readings.append((box, reading))
        return self.page_of(readings, clean.image.shape[:2])

    def line_crops(self, gray: Array) -> Iterator[tuple[Box, Array, bool]]:
        """A prepared page's lines in reading order: ink box, the recognizer's crop, and whether
        the line stands in the page's top third (where the header rule of the cascade applies)."""
        kernels = self.detector.detect(gray)
        release_heap()
        layout = lay_out(kernels, gray)
        release_heap()
        for ln in layout:
            x0, y0, x1, y1 = crop_box(ln.box, gray.shape[:2])
            yield ln.box, gray[y0:y1, x0:x1], y0 < gray.shape[0] / 3

    def page_of(self, readings: Iterable[tuple[Box, Reading]], shape: tuple[int, ...]) -> OcrPage:
        """The page reported from each line's chosen reading (``shape``: the prepared page's): empty
        and too unsure readings left out, the text tidied and, with ``lexicon``, set right."""
        lines = [OcrLine(tidy(r.text), box, float(min(1.0, max(0.0, r.confidence))))
                 for box, r in readings if r.text and r.confidence >= self.config.min_confidence]
        if self.config.lexicon:
            texts, _ = correct_lines([ln.text for ln in lines], upper=False)
            lines = [replace(ln, text=t) for ln, t in zip(lines, texts, strict=True)]
        h, w = shape[:2]
        release_heap()
        return OcrPage(w, h, tuple(lines))

    def read_page(self, image: Array | Image.Image, *, source: Source = "scanner") -> OcrPage:
        """OCR one page image (numpy BGR/gray uint8 array or PIL image).

        The page is deskewed (and, for ``source="camera"``, outlined, rectified and evened out)
        first; the returned boxes are mapped back onto the image passed in, whose size the page
        reports, and each line keeps its straightened box as ``flat`` (:func:`placed`). Red seal
        ink on colour pages is lifted first (:func:`without_red_ink`). InputError for empty, tiny
        or oversized images.
        """
        clean = prepare(without_red_ink(image), source, max_pixels=self.config.max_pixels)
        size = image.size if isinstance(image, Image.Image) else (int(image.shape[1]), int(image.shape[0]))
        return placed(self.read_prepared(clean), clean.matrix, size)

    def read_file(self, path: Path | str, *, source: Source = "scanner") -> list[OcrPage]:
        """OCR every page of an image file (PNG, JPEG, TIFF incl. multi-page, BMP, WebP)."""
        return [self.read_page(page, source=source) for page in iter_pages(Path(path), self.config.max_pixels)]


def placed(page: OcrPage, matrix: Array, size: tuple[int, int]) -> OcrPage:
    """A page read on a clean image, placed on the input image of ``size`` (width, height): boxes
    mapped back through the clean page's ``matrix``, the clean ones kept as each line's ``flat``
    box (the page as it is where the clean image is the input itself)."""
    if np.allclose(matrix, np.eye(3)):
        return page
    lines = tuple(OcrLine(ln.text, box_to_input(matrix, ln.box, size), ln.confidence, ln.box) for ln in page.lines)
    return OcrPage(size[0], size[1], lines, (page.width, page.height))


_ENGINES: dict[str, OcrEngine] = {}
_LOCK = threading.Lock()


def get_engine(config: OcrConfig | None = None) -> OcrEngine:
    """The process-wide engine for ``config`` (built, verified and warmed up on first use)."""
    config = config or OcrConfig()
    key = config.model_dump_json()
    with _LOCK:
        engine = _ENGINES.get(key)
        if engine is None:
            engine = OcrEngine(config)
            engine.warm_up()
            _ENGINES[key] = engine
        return engine
