"""Synthetic training lines for the small recognizer (no PyTorch here: tests import this).

Text: the ``tune`` rows of bench/data/heldout_corpus.jsonl, the packaged samples, and generated
digit- and punctuation-dense strings (legal references, dates, codes). Fonts: the project
renderer's serif families and the held-out ``tune`` fonts — never the ``never`` slice's fonts or
texts, so that slice stays an honest test. Degradations: blur, noise, contrast, JPEG, and the
engine's own crop geometry (ink-tight box, 32 px high, horizontal squeeze).
"""

from __future__ import annotations

import io
import json
import random
import unicodedata
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from service.synth.fonts import FONT_FILES
from service.synth.heldout import _ROOT, FAMILIES, SLICE_FONTS

HEIGHT = 32
STYLES = ("regular", "bold", "italic", "bolditalic")
DATA = Path(__file__).resolve().parents[3] / "bench" / "data" / "heldout_corpus.jsonl"
PUNCT = ".,;:()/-%\"'"


#: more Vietnamese-complete Debian faces, for shape variety only: none is a ``never`` family or a
#: sibling of one (FreeMono, the DejaVu condensed cuts and Noto Sans Display are left out on purpose)
EXTRA_FONTS = (
    "croscore/Cousine-Regular.ttf", "croscore/Cousine-Bold.ttf", "croscore/Cousine-Italic.ttf",
    "liberation2/LiberationMono-Regular.ttf", "liberation2/LiberationMono-Bold.ttf",
    "dejavu/DejaVuSans-ExtraLight.ttf",
    "noto/NotoSerifDisplay-Regular.ttf", "noto/NotoSerifDisplay-Bold.ttf", "noto/NotoSerifDisplay-Italic.ttf",
    "noto/NotoSerifDisplay-BoldItalic.ttf",
)


def font_files(extra: bool = False) -> list[Path]:
    """Font files used for training: project serif families + held-out tune families (+ ``EXTRA_FONTS``)."""
    files = [p for styles in FONT_FILES.values() for p in styles.values()]
    for family in SLICE_FONTS["tune"]:
        files.extend(_ROOT / f for f in FAMILIES[family][1].values())
    if extra:
        files.extend(_ROOT / f for f in EXTRA_FONTS)
    never = {_ROOT / f for family in SLICE_FONTS["never"] for f in FAMILIES[family][1].values()}
    return [f for f in files if f.is_file() and f not in never]


def corpus_text() -> list[str]:
    """Training sentences: tune rows only, minus any boilerplate sentence a never row also has."""
    tune: list[str] = []
    never: set[str] = set()
    for raw in DATA.read_text(encoding="utf-8").splitlines():
        row = json.loads(raw)
        if row["slice"] == "tune":
            tune.extend(str(p) for p in row["paragraphs"])
        else:
            never.update(str(p) for p in row["paragraphs"])
    return [p for p in tune if p not in never]


def dense_text(rng: random.Random) -> str:
    """A digit- and punctuation-dense snippet (references, dates, codes, amounts)."""
    d, m, y = rng.randint(1, 28), rng.randint(1, 12), rng.randint(1990, 2030)
    forms = [f"Số: {rng.randint(1, 9999)}/QĐ-UBND", f"ngày {d:02d}/{m:02d}/{y};", f"khoản {rng.randint(1, 9)} Điều "
             f"{rng.randint(1, 99)}", f"{rng.randint(1, 199)}/{y}/NĐ-CP", f"({rng.randint(100, 999)}) "
             f"{rng.randint(1, 9)}.{rng.randint(100, 999)}.{rng.randint(100, 999)}", f"{rng.randint(1, 99)},"
             f"{rng.randint(0, 9)} %", f"H{rng.randint(10, 99)}.{rng.randint(10, 99)}-{rng.randint(100000, 999999)}",
             f"ngày {d:02d} tháng {m} năm {y}", f"điểm {rng.choice('abcdđe')}) khoản {rng.randint(1, 5)};"]
    return " ".join(rng.sample(forms, rng.randint(1, 3)))


def sample_text(rng: random.Random, sentences: list[str]) -> str:
    """A line of 3–70 characters: a corpus span (sometimes upper-cased) or a dense snippet."""
    if rng.random() < 0.25:
        return dense_text(rng)
    words = rng.choice(sentences).split()
    a = rng.randrange(len(words))
    n = rng.randint(1, 12)
    text = " ".join(words[a:a + n])[:70].strip()
    if rng.random() < 0.15:
        text = text.upper()
    return unicodedata.normalize("NFC", text) or "Điều 1."


def render(text: str, font_path: Path, px: int, rng: random.Random) -> np.ndarray:
    """``text`` in the font at ``px`` pixels, cropped to its ink as the engine crops, degraded, uint8 gray."""
    from PIL import ImageFont

    font = ImageFont.truetype(str(font_path), px)
    w = int(font.getlength(text)) + 2 * px
    img = Image.new("L", (w, 3 * px), 255)
    ImageDraw.Draw(img).text((px, 2 * px), text, font=font, fill=rng.randint(0, 60), anchor="ls")
    arr = np.asarray(img)
    ys, xs = np.nonzero(arr < 160)
    if len(ys) == 0:
        return np.full((HEIGHT, 16), 255, np.uint8)
    pad_y, pad_x = max(1, round(0.02 * (ys.max() - ys.min()))), round(0.1 * (ys.max() - ys.min()))
    arr = arr[max(0, ys.min() - pad_y):ys.max() + 1 + pad_y, max(0, xs.min() - pad_x):xs.max() + 1 + pad_x]
    out = Image.fromarray(arr)
    if rng.random() < 0.5:
        from PIL import ImageFilter

        out = out.filter(ImageFilter.GaussianBlur(rng.uniform(0.3, 1.2) * px / 40))
    a = np.asarray(out).astype(np.float32)
    a = a * rng.uniform(0.75, 1.0) + rng.uniform(0, 40)
    a += np.random.default_rng(rng.randrange(2**31)).normal(0, rng.uniform(0, 10), a.shape)
    out = Image.fromarray(np.clip(a, 0, 255).astype(np.uint8))
    if rng.random() < 0.5:
        buf = io.BytesIO()
        out.save(buf, "JPEG", quality=rng.randint(40, 90))
        out = Image.open(io.BytesIO(buf.getvalue())).convert("L")
    return np.asarray(out)


def to_input(gray: np.ndarray, squeeze: float, max_width: int = 800) -> np.ndarray:
    """A crop as the model input: 32 px high, width scaled by ``squeeze``, floats 0–1 (1 = paper)."""
    h, w = gray.shape
    new_w = max(8, min(max_width, int(round(w * HEIGHT / max(1, h) * squeeze))))
    resized = Image.fromarray(gray).resize((new_w, HEIGHT), Image.Resampling.BILINEAR)
    return np.asarray(resized, dtype=np.float32) / 255.0


def vocabulary(sentences: list[str]) -> list[str]:
    """Output classes: blank, then every character of the training text, Vietnamese letters, digits, punctuation."""
    from service.synth.fonts import VIETNAMESE_LETTERS

    chars = set("".join(sentences)) | set(VIETNAMESE_LETTERS) | set("0123456789") | set(PUNCT) | {" "}
    chars = {c for c in chars if c.isprintable()}
    return ["<blank>", *sorted(chars)]


def make_sample(rng: random.Random, sentences: list[str], fonts: list[Path],
                squeeze: tuple[float, float] = (0.6, 0.9)) -> tuple[np.ndarray, str]:
    """One (input array, text) training pair, squeezed by a factor drawn from ``squeeze``."""
    text = sample_text(rng, sentences)
    gray = render(text, rng.choice(fonts), rng.randint(28, 56), rng)
    return to_input(gray, rng.uniform(*squeeze)), text
