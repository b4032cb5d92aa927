"""The opt-in cascade: the small recognizer trained here reads first; AsterNet re-reads what it doubts."""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

from service.ocr.config import OcrConfig
from service.ocr.engine import get_engine
from service.ocr.manifest import resolve
from service.ocr.metrics import levenshtein
from service.ocr.recognizer import Recognizer, ctc_dropped, ctc_greedy
from service.synth.fonts import load_font

LINES = ("Số: 1403/QĐ-SNV", "ngày 09 tháng 8 năm 2022", "Điều 2. Quyết định này có hiệu lực kể từ ngày ký.",
         "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "khoản 2 Điều 9 Nghị định số 30/2020/NĐ-CP;")


def _crop(text: str, font: str = "liberation", size: int = 44, blur: float = 0.0) -> np.ndarray:
    face = load_font(font, "regular", size)
    image = Image.new("L", (int(face.getlength(text)) + 60, size * 2), 255)
    ImageDraw.Draw(image).text((30, size // 2), text, font=face, fill=0)
    if blur:
        image = image.filter(ImageFilter.GaussianBlur(blur))
    gray = np.asarray(image)
    ys = np.flatnonzero((gray < 128).any(axis=1))
    xs = np.flatnonzero((gray < 128).any(axis=0))
    pad = max(1, (ys[-1] - ys[0]) // 10)
    return gray[max(0, ys[0] - 1):ys[-1] + 2, max(0, xs[0] - pad):xs[-1] + pad]


CASCADE = OcrConfig(recognizer="rec-fastctc", fallback_recognizer="rec-asternet-int8", fallback_below=0.5,
                    fallback_header_below=0.0,
                    fallback_header_dropped_above=1.0)  # by confidence alone


def test_the_fast_recognizer_is_a_hash_checked_manifest_model() -> None:
    spec = resolve("rec-fastctc")  # hash-checked against the manifest
    assert spec.license.startswith("Apache-2.0") and spec.vocabulary is not None
    assert spec.entry["squeeze"] == {"long": 0.75, "short": 0.75}


def test_the_fast_recognizer_reads_legal_lines_in_a_font_it_was_not_trained_on() -> None:
    fast = Recognizer(resolve("rec-fastctc"))
    errors = total = 0
    for text in LINES:
        got = fast.read(_crop(text, font="noto")).text  # Noto Serif: not a training font
        errors, total = errors + levenshtein(text, got), total + len(text)
    assert errors / total < 0.03, f"{errors} errors in {total} characters"


def test_sure_lines_stay_with_the_fast_recognizer_and_doubtful_ones_go_to_asternet() -> None:
    engine = get_engine(CASCADE)
    threshold = engine.config.fallback_below
    sure = engine.recognizer.read(_crop(LINES[2]))
    assert sure.weakest >= threshold and sure.text == LINES[2]
    smeared = engine.recognizer.read(_crop(LINES[0], size=26, blur=2.2))
    assert smeared.weakest < threshold
    before = (engine.lines_read, engine.lines_fallback)
    canvas = Image.new("RGB", (1400, 160), "white")
    canvas.paste(Image.fromarray(_crop(LINES[2])).convert("RGB"), (40, 40))
    page = engine.read_page(canvas)
    assert engine.lines_read > before[0] and engine.lines_fallback >= before[1]
    assert [ln.text for ln in page.lines] == [LINES[2]]


def _log_probs(frames: list[dict[int, float]], classes: int = 6) -> np.ndarray:
    """(T, classes) log-probabilities: each frame's listed class probabilities, the rest shared."""
    out = np.empty((len(frames), classes), np.float32)
    for t, given in enumerate(frames):
        rest = (1.0 - sum(given.values())) / (classes - len(given))
        out[t] = [given.get(c, rest) for c in range(classes)]
    return np.log(out)


def test_a_character_greedy_decoding_nearly_emitted_counts_as_dropped() -> None:
    # "a", blank (where "c" nearly won), "b": greedy reads "ab" with both characters sure
    chars = ["", "a", "b", "c", "d", "e"]
    lp = _log_probs([{1: 0.96}, {0: 0.55, 3: 0.41}, {2: 0.96}])
    text, confs = ctc_greedy(lp, chars)
    assert text == "ab" and min(confs) > 0.9
    assert abs(ctc_dropped(lp) - 0.41) < 1e-3
    # the same doubt about a neighbour ("a" lingering into the blank) is not a dropped character
    assert ctc_dropped(_log_probs([{1: 0.96}, {0: 0.55, 1: 0.41}, {2: 0.96}])) < 0.02
    assert ctc_dropped(_log_probs([{1: 0.96}, {2: 0.96}])) == 0.0  # no blank frame at all


def test_the_cascade_also_rereads_a_line_that_may_have_dropped_a_character() -> None:
    crop = _crop(LINES[2])
    line_only = Image.new("RGB", (1400, 160), "white")
    line_only.paste(Image.fromarray(crop).convert("RGB"), (40, 40))
    by_dropped = CASCADE.model_copy(update={"fallback_below": 0.0, "fallback_dropped_above": 0.0})
    strict = get_engine(by_dropped)
    assert 0.0 < strict.recognizer.read(crop).dropped < 0.5
    before = (strict.lines_read, strict.lines_fallback)
    strict.read_page(line_only)
    assert strict.lines_fallback - before[1] == strict.lines_read - before[0] > 0
    off = get_engine(by_dropped.model_copy(update={"fallback_dropped_above": 1.0}))
    before = (off.lines_read, off.lines_fallback)
    off.read_page(line_only)
    assert off.lines_read > before[0] and off.lines_fallback == before[1]


def test_the_cascade_is_stricter_with_the_header_lines() -> None:
    # lines in a page's top third (agency, "Số", date, type and summary: what extraction reads) go
    # to AsterNet unless the fast reading is surer than fallback_header_below; at 1.0 they all go,
    # while sure lines lower down stay with the fast recognizer
    shipped = get_engine().config
    assert shipped.recognizer == "rec-fastctc" and shipped.fallback_recognizer == "rec-asternet-int8"
    assert shipped.fallback_below < shipped.fallback_header_below < 1.0
    engine = get_engine(shipped.model_copy(update={"fallback_header_below": 1.0}))
    short, long_ = _crop(LINES[0]), _crop(LINES[2] + " " + LINES[4])
    assert engine.recognizer.read(short).weakest >= engine.config.fallback_below
    assert engine.recognizer.read(long_).weakest >= engine.config.fallback_below
    for crop, y, rereads in ((short, 60, 1), (short, 700, 0), (long_, 60, 1), (long_, 700, 0)):
        canvas = Image.new("RGB", (crop.shape[1] + 200, 900), "white")
        canvas.paste(Image.fromarray(crop).convert("RGB"), (100, y))
        before = (engine.lines_read, engine.lines_fallback)
        page = engine.read_page(canvas)
        assert engine.lines_read - before[0] == 1 and engine.lines_fallback - before[1] == rereads, (y, rereads)
        assert len(page.lines) == 1


def test_a_reread_line_keeps_the_first_reading_where_it_was_surer() -> None:
    # AsterNet reads the "l" of this legal code as "1", less surely than the fast recognizer reads it
    # right: the surer reading stands, and "fallback" (always AsterNet's) is still there to choose
    text = "theo Luật sắc lệnh luật số 102-sl/l-004 ngày"
    crop = _crop(text, size=44)
    canvas = Image.new("RGB", (crop.shape[1] + 200, 900), "white")
    canvas.paste(Image.fromarray(crop).convert("RGB"), (100, 700))
    every = get_engine().config.model_copy(update={"fallback_below": 1.0})
    assert every.fallback_keeps == "surer"  # shipped
    surer = get_engine(every)
    first, again = surer.recognizer.read(crop), surer.fallback.read(crop)  # type: ignore[union-attr]
    assert first.text == text and again.text != text and first.confidence > again.confidence
    before = (surer.lines_fallback, surer.lines_kept_first)
    assert [ln.text for ln in surer.read_page(canvas).lines] == [text]
    assert (surer.lines_fallback - before[0], surer.lines_kept_first - before[1]) == (1, 1)
    always = get_engine(every.model_copy(update={"fallback_keeps": "fallback"}))
    before = (always.lines_fallback, always.lines_kept_first)
    assert [ln.text for ln in always.read_page(canvas).lines] != [text]  # AsterNet's misreading
    assert (always.lines_fallback - before[0], always.lines_kept_first - before[1]) == (1, 0)
