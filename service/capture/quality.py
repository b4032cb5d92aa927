"""Live capture quality control: blur, glare, cut-off page, exposure, skew, low resolution, grey.

Pure functions over a decoded page image, its effective dpi and its source (``scanner`` or
``camera``): :func:`assess` returns the problems found, each with a kind, a severity (``blocking``
refuses the page, ``warning`` is shown and recorded) and the Vietnamese instruction the user sees.
Thresholds are :class:`~service.capture.config.QualityConfig` (``capture.quality`` in config);
their defaults were measured with ``python -m bench quality`` on rendered pages degraded over
several strengths (see ``bench/quality.py``).

Measures are taken on a grey copy resampled to ``work_dpi`` so that they do not depend on the
capture resolution; text-bearing tiles are those holding ink (darker than the local paper tone).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from enum import StrEnum

import cv2
import numpy as np
from PIL import Image, ImageChops

from service.capture.config import QualityConfig
from service.imaging.geometry import row_sums

Array = np.ndarray

KINDS = ("blur", "glare", "cutoff", "dark", "bright", "skew", "lowres", "grey")

#: What the user is told to do, per kind (Vietnamese: it is shown on the kiosk and by the CLI).
INSTRUCTIONS: dict[str, str] = {
    "blur": "Giữ máy chắc tay, chụp lại (ảnh bị mờ)",
    "glare": "Nghiêng giấy để tránh lóa, chụp lại",
    "cutoff": "Đặt cả trang vào khung hình (trang bị cắt mất)",
    "dark": "Bật thêm đèn hoặc chụp ở nơi sáng hơn (ảnh quá tối)",
    "bright": "Giảm ánh sáng, chụp lại (ảnh quá sáng, chữ bị nhạt)",
    "skew": "Đặt giấy thẳng với khung hình (trang bị nghiêng)",
    "lowres": "Đưa máy lại gần hoặc tăng độ phân giải máy quét (độ phân giải quá thấp)",
    "grey": "Chuyển máy quét hoặc máy ảnh sang chế độ màu (ảnh không có màu)",
}


class Severity(StrEnum):
    """A blocking problem refuses the page; a warning is shown and recorded."""

    BLOCKING = "blocking"
    WARNING = "warning"


@dataclass(frozen=True, slots=True)
class Problem:
    """One quality problem of a page: kind, severity, the measured value and the instruction."""

    kind: str
    severity: Severity
    value: float
    message: str

    def to_json(self) -> dict[str, object]:
        """The ``sohoa quality --json`` form of one problem."""
        return {"kind": self.kind, "severity": self.severity.value, "value": round(self.value, 3),
                "message": self.message}


@dataclass(frozen=True, slots=True)
class Measures:
    """The raw measures a verdict is made from (the bench reports them; no pixels kept)."""

    sharpness: float | None
    glare: float
    cutoff: float
    paper: float
    contrast: float
    skew: float | None
    char_px: float | None
    text_tiles: int
    outline: float = 0.0


def _problem(kind: str, severity: Severity, value: float) -> Problem:
    return Problem(kind, severity, value, INSTRUCTIONS[kind])


def _resample(arr: Array, scale: float) -> Array:
    if abs(scale - 1.0) < 0.02:
        return arr
    h, w = arr.shape
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    return cv2.resize(arr, size, interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR)


def _grey_work(img: Image.Image, dpi: float, work_dpi: float,
               grey_l: Image.Image | None = None) -> tuple[Array, Array, Array]:
    """Native grey array, a copy resampled to ``work_dpi`` and the darkest channel at ``work_dpi``.

    The darkest channel keeps a red seal or blue ink dark, so only washed-out ink looks light.
    ``grey_l`` is ``img.convert("L")`` when the caller already made it (used unless the page is
    flattened first).
    """
    if img.mode in ("RGBA", "LA", "PA", "P") or "transparency" in img.info:
        rgba = img.convert("RGBA")  # measured as it is embedded: flattened over white paper
        flat = Image.new("RGB", rgba.size, (255, 255, 255))
        flat.paste(rgba, mask=rgba.getchannel("A"))
        img, grey_l = flat, None
    grey = np.asarray(grey_l if grey_l is not None else img.convert("L"), dtype=np.uint8)
    scale = work_dpi / max(dpi, 1.0)
    if img.mode in ("RGB", "RGBA", "RGBX"):
        # per-pixel minimum of the bands, by Pillow: a numpy min over the colour axis cost ~10x more
        r, g, b = img.split()[:3]
        darkest = np.asarray(ImageChops.darker(ImageChops.darker(r, g), b), dtype=np.uint8)
    else:
        darkest = grey
    return grey, _resample(grey, scale), _resample(darkest, scale)


def _ink_mask(work: Array, cfg: QualityConfig) -> tuple[Array, Array]:
    """Paper tone (grey dilation) and the ink mask (darker than the paper by ``ink_contrast``)."""
    k = max(3, int(cfg.work_dpi * 0.12) | 1)  # ~3 mm: wider than a stroke, narrower than a margin
    paper = cv2.dilate(work, cv2.getStructuringElement(cv2.MORPH_RECT, (k, k)))
    ink = (paper.astype(np.int16) - work.astype(np.int16)) >= cfg.ink_contrast
    return paper, ink


def _tiles(arr: Array, size: int) -> Array:
    """``arr`` cut into ``size``×``size`` tiles: shape (rows, cols, size*size) (edges dropped)."""
    h, w = arr.shape
    rows, cols = h // size, w // size
    cut = arr[:rows * size, :cols * size]
    return cut.reshape(rows, size, cols, size).swapaxes(1, 2).reshape(rows, cols, size * size)


def _sharpness(work: Array, text: Array, tiles_grey: Array) -> float | None:
    """Median over text tiles of the strongest Laplacian response divided by the tile's contrast.

    Dividing by contrast normalises for ink darkness and text density: a sharp stroke edge gives
    a Laplacian close to its contrast step whatever the exposure; blur spreads the step out.
    """
    if not text.any():
        return None
    lap = np.abs(cv2.Laplacian(work.astype(np.float32), cv2.CV_32F, ksize=3))
    lt = _tiles(lap, int(np.sqrt(tiles_grey.shape[2])))
    peak = np.percentile(lt[text], 99, axis=1)
    g = tiles_grey[text].astype(np.float32)
    contrast = np.percentile(g, 95, axis=1) - np.percentile(g, 2, axis=1)
    ratio = peak / np.maximum(contrast, 1.0)
    return float(np.median(ratio))


def _glare(tiles_grey: Array, text: Array, cfg: QualityConfig) -> float:
    """Share of the text area covered by washed-out tiles (bright paper, ink much lighter than elsewhere).

    A glare spot lightens the ink under it; a sharp page's text tiles all reach the page's ink level.
    """
    if text.sum() < 8:
        return 0.0
    g = tiles_grey.astype(np.float32)
    bg = np.percentile(g, 95, axis=2)
    lo = np.percentile(g, 1, axis=2)
    page_ink = float(np.percentile(lo[text], 25))
    page_paper = float(np.median(bg[text]))
    inked = (bg - lo) >= 12
    washed = inked & (bg >= min(250.0, page_paper + 2)) & (lo > page_ink + cfg.glare_ink_rise)
    rows, cols = np.nonzero(text)
    area = np.zeros_like(text)
    area[rows.min():rows.max() + 1, cols.min():cols.max() + 1] = True
    washed &= area
    if not washed.any():
        return 0.0
    n, labels = cv2.connectedComponents(washed.astype(np.uint8), connectivity=8)
    largest = max(int((labels == i).sum()) for i in range(1, n))
    return largest / float(area.sum())


def _cutoff(ink: Array, strip_px: int) -> float:
    """Highest share of ink in a thin strip along one frame edge (text running off the image).

    Isolated specks (dither, dust, sensor noise) are not text: an ink pixel counts only with at
    least three ink pixels in its 3×3 neighbourhood.
    """
    neighbours = cv2.boxFilter(ink.astype(np.uint8), -1, (3, 3), normalize=False, borderType=cv2.BORDER_CONSTANT)
    ink = ink & (neighbours >= 4)
    h, w = ink.shape
    s = max(2, min(strip_px, h // 4, w // 4))
    strips = (ink[:s, :], ink[-s:, :], ink[:, :s], ink[:, -s:])
    return max(float(s.mean()) for s in strips)


def _outline_cutoff(work: Array, paper_tone: float, strip_px: int, cfg: QualityConfig) -> float:
    """How much of a frame edge the page covers while its outline shows at the opposite edge.

    A page photographed on a darker desk shows its outline; when one frame edge is mostly paper
    and the opposite edge mostly desk, the page runs off that edge (cut off even where no text
    reaches it). A page filling the frame (paper on opposite edges) tells nothing and gives 0.
    """
    h, w = work.shape
    s = max(2, min(strip_px, h // 4, w // 4))
    paper = work >= paper_tone - cfg.outline_contrast
    top, bottom, left, right = (float(e.mean()) for e in (paper[:s, :], paper[-s:, :], paper[:, :s], paper[:, -s:]))
    worst = 0.0
    for edge, opposite in ((top, bottom), (bottom, top), (left, right), (right, left)):
        if opposite <= cfg.outline_desk_max:
            worst = max(worst, edge)
    return worst


def _skew(ink: Array) -> float | None:
    """Skew of the text lines in degrees by projection profiles (±20°, 0.5° steps on a small copy)."""
    h, w = ink.shape
    scale = min(1.0, 500.0 / max(1, w))
    small = cv2.resize(ink.astype(np.uint8) * 255, (max(1, int(w * scale)), max(1, int(h * scale))),
                       interpolation=cv2.INTER_AREA)
    binary = (small > 64).astype(np.uint8)
    if binary.sum() < 200:
        return None
    sh, sw = binary.shape
    best, best_score = 0.0, -1.0
    for step, span, centre in ((1.0, 20.0, 0.0), (0.25, 1.0, None)):
        c = best if centre is None else centre
        for a in np.arange(c - span, c + span + step / 2, step):
            m = cv2.getRotationMatrix2D((sw / 2, sh / 2), float(a), 1.0)
            rows = row_sums(cv2.warpAffine(binary, m, (sw, sh), flags=cv2.INTER_NEAREST))
            score = float(np.square(np.diff(rows)).sum())
            if score > best_score:
                best, best_score = float(a), score
    return abs(best)


def _char_px(grey: Array) -> float | None:
    """Median height in native pixels of the glyph-sized ink components (the text's pixel size)."""
    _, binary = cv2.threshold(grey, 0, 255, cv2.THRESH_BINARY_INV + cv2.THRESH_OTSU)
    n, _, stats, _ = cv2.connectedComponentsWithStats(binary, connectivity=8)
    if n < 2:
        return None
    hs = stats[1:, cv2.CC_STAT_HEIGHT]
    ws = stats[1:, cv2.CC_STAT_WIDTH]
    keep = (hs >= 2) & (hs < grey.shape[0] * 0.05) & (ws < grey.shape[1] * 0.1) & (stats[1:, cv2.CC_STAT_AREA] >= 3)
    if keep.sum() < 30:
        return None
    return float(np.median(hs[keep]))


def measure(img: Image.Image, dpi: float, cfg: QualityConfig, *, grey: Image.Image | None = None) -> Measures:
    """Every measure of one decoded page at its effective ``dpi`` (``grey``: its ``convert("L")``, if made)."""
    grey_arr, work, darkest = _grey_work(img, dpi, cfg.work_dpi, grey)
    paper, ink = _ink_mask(work, cfg)
    size = max(8, int(cfg.work_dpi * cfg.tile_mm / 25.4))
    tiles_ink = _tiles(ink, size)
    tiles_grey = _tiles(work, size)
    text = tiles_ink.mean(axis=2) >= cfg.text_tile_ink
    h, w = work.shape
    core = work[h // 10: h - h // 10, w // 10: w - w // 10]
    paper_tone = float(np.percentile(core, 90))
    contrast = paper_tone - float(np.percentile(core, 0.5))
    has_text = int(text.sum()) >= cfg.min_text_tiles
    strip = round(cfg.work_dpi * cfg.cutoff_strip_mm / 25.4)
    return Measures(
        sharpness=_sharpness(work, text, tiles_grey) if has_text else None,
        glare=_glare(_tiles(darkest, size), text, cfg) if has_text else 0.0,
        cutoff=_cutoff(ink, strip), paper=paper_tone, contrast=contrast,
        skew=_skew(ink) if has_text else None,
        char_px=_char_px(grey_arr) if has_text else None,
        text_tiles=int(text.sum()),
        outline=_outline_cutoff(work, paper_tone, strip, cfg),
    )


def judge(m: Measures, *, dpi: float, colour: bool, source: str, cfg: QualityConfig,
          min_dpi: float, require_colour: bool) -> list[Problem]:
    """The problems the measures ``m`` show, in the order of :data:`KINDS`."""
    out: list[Problem] = []
    B, W = Severity.BLOCKING, Severity.WARNING
    if m.sharpness is not None:
        if m.sharpness < cfg.blur_block:
            out.append(_problem("blur", B, m.sharpness))
        elif m.sharpness < cfg.blur_warn:
            out.append(_problem("blur", W, m.sharpness))
    blurred = m.sharpness is not None and m.sharpness < cfg.blur_block  # blur also lightens ink
    if not blurred and m.glare >= cfg.glare_block:
        out.append(_problem("glare", B, m.glare))
    elif not blurred and m.glare >= cfg.glare_warn:
        out.append(_problem("glare", W, m.glare))
    if m.cutoff >= cfg.cutoff_block:
        out.append(_problem("cutoff", B, m.cutoff))
    elif source == "camera" and m.outline >= cfg.outline_block:  # a scanner's page may lie against a guide
        out.append(_problem("cutoff", B, m.outline))
    if m.paper < cfg.dark_paper:
        out.append(_problem("dark", B, m.paper))
    elif (not blurred and m.paper >= cfg.bright_paper
          and cfg.bright_contrast_min <= m.contrast < cfg.bright_contrast):
        out.append(_problem("bright", B, m.contrast))
    if m.skew is not None:
        if m.skew > cfg.skew_block_deg:
            out.append(_problem("skew", B, m.skew))
        elif m.skew > cfg.skew_warn_deg and source == "camera":
            out.append(_problem("skew", W, m.skew))
    if dpi + 0.5 < min_dpi:
        out.append(_problem("lowres", B, dpi))
    elif m.char_px is not None and m.char_px < cfg.lowres_char_block:
        out.append(_problem("lowres", B, m.char_px))
    elif m.char_px is not None and m.char_px < cfg.lowres_char_px:
        out.append(_problem("lowres", W, m.char_px))
    if require_colour and not colour:
        out.append(_problem("grey", B, 0.0))
    return out


def assess(img: Image.Image, dpi: float, *, source: str, cfg: QualityConfig, min_dpi: float,
           require_colour: bool, colour: bool | None = None, grey: Image.Image | None = None) -> list[Problem]:
    """Measure one decoded page and return its problems (empty: the page is fine).

    ``colour`` is whether the image was captured in colour (default: from its mode); ``grey`` is
    the page's ``convert("L")`` when the caller already has it (saves converting it again).
    """
    is_colour = img.mode not in ("1", "L", "LA", "I", "I;16", "F") if colour is None else colour
    return judge(measure(img, dpi, cfg, grey=grey), dpi=dpi, colour=is_colour, source=source, cfg=cfg,
                 min_dpi=min_dpi, require_colour=require_colour)


def assess_preview(img: Image.Image, *, preview_dpi: float, capture_dpi: float, source: str, cfg: QualityConfig,
                   min_dpi: float, require_colour: bool) -> list[Problem]:
    """The problems of a live preview frame, as the capture it previews would have them.

    The frame is small (cheap on a Pi): it is measured at its own resolution (``work_dpi`` lowered
    to ``preview_dpi`` when higher), and resolution is judged for the still the camera would take
    at ``capture_dpi`` — the glyph height measured on the preview is scaled up to that.
    """
    work = cfg.model_copy(update={"work_dpi": min(cfg.work_dpi, preview_dpi)})
    m = measure(img, preview_dpi, work)
    if m.char_px is not None:
        m = replace(m, char_px=m.char_px * capture_dpi / max(preview_dpi, 1.0))
    colour = img.mode not in ("1", "L", "LA", "I", "I;16", "F")
    return judge(m, dpi=capture_dpi, colour=colour, source=source, cfg=work, min_dpi=min_dpi,
                 require_colour=require_colour)


def blocking(problems: list[Problem]) -> list[Problem]:
    """The problems that refuse the page."""
    return [p for p in problems if p.severity is Severity.BLOCKING]
