"""Capture quality control benchmark: detection and false-alarm rates per kind, and bytes per page.

Clean pages are rendered by ``service.synth`` (read-only use) at 200 and 300 dpi under the
``scanner`` and ``phone`` (camera-like) conditions; this module degrades them itself over several
strengths — Gaussian blur, crop, a glare spot, exposure gain, rotation, downscale, grey — and runs
:func:`service.capture.quality.assess` on every image. A degraded page counts as detected when a
problem of its kind is raised (blocking or warning, both reported); a clean page raising a kind
counts as a false alarm for that kind. The defaults of ``capture.quality`` come from this table.

Bytes per page: a camera-like page stored as the old lossless PNG versus the JPEG quality 90 the
desk camera stores now (:func:`service.capture.encoding.camera_jpeg`).
"""

from __future__ import annotations

import io
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass

import cv2
import numpy as np
from PIL import Image

Array = np.ndarray


@dataclass(frozen=True)
class Clean:
    """One clean rendered page and its capture conditions."""

    image: Image.Image
    dpi: int
    source: str  # scanner | camera


def clean_pages(quick: bool) -> list[Clean]:
    """Rendered sample pages: scanner-like and camera-like, 200 and 300 dpi."""
    from service.synth.render import render_document
    from service.synth.samples import sample_documents

    docs = sample_documents()[: 2 if quick else 4]
    out: list[Clean] = []
    for i, doc in enumerate(docs):
        for dpi in ((200,) if quick else (200, 300)):
            for condition, source in (("scanner", "scanner"), ("phone", "camera"), ("clean", "scanner")):
                page = render_document(doc, dpi=dpi, condition=condition, seed=i)[0]
                out.append(Clean(page.image.convert("RGB"), dpi, source))
    return out


def _arr(img: Image.Image) -> Array:
    return np.asarray(img.convert("RGB"))


def blur(img: Image.Image, px: float, dpi: int) -> Image.Image:
    """Gaussian blur of ``px`` pixels (sigma) at 200 dpi, scaled to the page's dpi."""
    sigma = px * dpi / 200
    return Image.fromarray(cv2.GaussianBlur(_arr(img), (0, 0), sigma))


def crop(img: Image.Image, keep: float, dpi: int) -> Image.Image:
    """Keep the top-left ``keep`` share of each side (the rest of the page is cut off)."""
    w, h = img.size
    return img.crop((0, 0, int(w * keep), int(h * keep)))


def glare(img: Image.Image, radius: float, dpi: int) -> Image.Image:
    """A saturated glare spot of ``radius`` (share of the page width) over the text, with a soft edge."""
    a = _arr(img).astype(np.float32)
    h, w = a.shape[:2]
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    r = radius * w
    d = np.sqrt((xx - 0.5 * w) ** 2 + (yy - 0.4 * h) ** 2)
    wash = np.clip(1.4 - d / r, 0.0, 1.0)[:, :, None]
    return Image.fromarray(np.clip(a + (255 - a) * wash + 40 * wash, 0, 255).astype(np.uint8))


def exposure(img: Image.Image, gain: float, dpi: int) -> Image.Image:
    """Under-exposure (gain < 1: everything darker) or over-exposure (gain > 1: washed towards white)."""
    a = _arr(img).astype(np.float32)
    if gain <= 1:
        out = a * gain
    else:
        out = 255 - (255 - a) / gain
        out = out * 1.05
    return Image.fromarray(np.clip(out, 0, 255).astype(np.uint8))


def rotate(img: Image.Image, angle: float, dpi: int) -> Image.Image:
    """Rotate by ``angle`` degrees (paper-coloured corners)."""
    a = _arr(img)
    corner = tuple(int(v) for v in np.median(a[:8, :8].reshape(-1, 3), axis=0))
    return img.rotate(angle, resample=Image.Resampling.BILINEAR, expand=False, fillcolor=corner)


def downscale(img: Image.Image, factor: float, dpi: int) -> Image.Image:
    """Down-sample by ``factor`` while the file still claims the original dpi (text too few pixels high)."""
    w, h = img.size
    return img.resize((max(1, int(w / factor)), max(1, int(h / factor))), Image.Resampling.BILINEAR)


def grey(img: Image.Image, _strength: float, dpi: int) -> Image.Image:
    """The page captured in greyscale."""
    return img.convert("L")


#: kind → (degrade function, strengths, what a strength means)
DEGRADATIONS: dict[str, tuple[Callable[[Image.Image, float, int], Image.Image], tuple[float, ...], str]] = {
    "blur": (blur, (2.0, 4.0, 10.0), "sigma px @200dpi"),
    "cutoff": (crop, (0.8, 0.6, 0.4), "side kept"),
    "glare": (glare, (0.10, 0.18, 0.28), "spot radius / width"),
    "dark": (exposure, (0.45, 0.3, 0.2), "gain"),
    "bright": (exposure, (3.0, 5.0, 8.0), "wash factor"),
    "skew": (rotate, (7.0, 12.0, 20.0), "degrees"),
    "lowres": (downscale, (1.5, 2.0, 3.0), "downscale factor"),
    "grey": (grey, (1.0,), "greyscale"),
}


def _kinds(img: Image.Image, dpi: int, source: str) -> set[str]:
    from service.capture.config import CaptureConfig
    from service.capture.quality import assess

    cfg = CaptureConfig()
    return {p.kind for p in assess(img, dpi, source=source, cfg=cfg.quality, min_dpi=cfg.min_dpi,
                                   require_colour=cfg.require_colour)}


def _bytes_rows(pages: list[Clean]) -> list[str]:
    from service.capture.encoding import camera_jpeg

    cams = [p for p in pages if p.source == "camera"]
    rows = []
    for dpi in sorted({p.dpi for p in cams}):
        sel = [p for p in cams if p.dpi == dpi]
        png = jpg = 0
        for p in sel:
            buf = io.BytesIO()
            p.image.save(buf, "PNG", dpi=(dpi, dpi))
            png += len(buf.getvalue())
            jpg += len(camera_jpeg(buf.getvalue(), dpi=dpi)[0])
        rows.append(f"| camera page {dpi} dpi | {png / len(sel) / 1e6:.2f} MB (PNG) | "
                    f"{jpg / len(sel) / 1e6:.2f} MB (JPEG q90) | {png / max(jpg, 1):.1f}× |")
    rows += _scanner_rows([p for p in pages if p.source == "scanner"] or cams)
    return rows


def _scanner_rows(pages: list[Clean]) -> list[str]:
    """A raw scan (pixels from SANE) encoded once as JPEG q90; a scanner's own JPEG stored unchanged."""
    from service.capture.config import CaptureConfig
    from service.capture.encoding import array_jpeg
    from service.capture.images import load_page_image

    cfg = CaptureConfig()
    cfg = cfg.model_copy(update={"quality": cfg.quality.model_copy(update={"enabled": False})})
    png = jpg = kept_in = kept_out = 0
    for p in pages:
        buf = io.BytesIO()
        p.image.save(buf, "PNG", dpi=(p.dpi, p.dpi))
        png += len(buf.getvalue())
        raw_jpeg = array_jpeg(np.asarray(p.image.convert("RGB")), dpi=p.dpi)
        jpg += len(raw_jpeg)
        kept_in += len(raw_jpeg)
        kept_out += len(load_page_image(raw_jpeg, name="bench", config=cfg).data)
    n = max(len(pages), 1)
    return [f"| raw scan (SANE pixels) | {png / n / 1e6:.2f} MB (PNG) | {jpg / n / 1e6:.2f} MB (JPEG q90) | "
            f"{png / max(jpg, 1):.1f}× |",
            f"| scanner/upload JPEG | {kept_in / n / 1e6:.2f} MB | {kept_out / n / 1e6:.2f} MB (stored as is) | "
            f"{kept_in / max(kept_out, 1):.1f}× |"]


def run(quick: bool) -> str:
    """Detection rate per kind and strength, false alarms on clean pages, bytes per page."""
    pages = clean_pages(quick)
    false_alarm: dict[tuple[str, str], int] = defaultdict(int)
    clean_count: dict[str, int] = defaultdict(int)
    for p in pages:
        clean_count[p.source] += 1
        for k in _kinds(p.image, p.dpi, p.source):
            false_alarm[(p.source, k)] += 1
    lines = ["| kind | strength | detected (scanner) | detected (camera) |", "|---|---|---|---|"]
    for kind, (fn, strengths, unit) in DEGRADATIONS.items():
        for s in strengths:
            hit: dict[str, int] = defaultdict(int)
            total: dict[str, int] = defaultdict(int)
            for p in pages:
                total[p.source] += 1
                if kind in _kinds(fn(p.image, s, p.dpi), p.dpi, p.source):
                    hit[p.source] += 1
            cells = [f"{hit[src]}/{total[src]} ({100 * hit[src] / max(1, total[src]):.0f} %)"
                     for src in ("scanner", "camera")]
            lines.append(f"| {kind} | {s:g} {unit} | {cells[0]} | {cells[1]} |")
    lines += ["", "| kind | false alarms on clean scanner pages | on clean camera pages |", "|---|---|---|"]
    for kind in DEGRADATIONS:
        cells = [f"{false_alarm[(src, kind)]}/{clean_count[src]}" for src in ("scanner", "camera")]
        lines.append(f"| {kind} | {cells[0]} | {cells[1]} |")
    lines += ["", "| bytes per page | before | after | ratio |", "|---|---|---|---|", *_bytes_rows(pages)]
    return "\n".join(lines)
