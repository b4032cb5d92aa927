"""Reading one page image safely: type, size, truncation, resolution, colour and blankness.

Nothing is written here; a bad file raises :class:`InputError` (unreadable) or
:class:`QualityError` (readable but below the capture rules) with a remedy.
"""

from __future__ import annotations

import hashlib
import io
import warnings

import numpy as np
from PIL import Image, UnidentifiedImageError

from service.capture.config import CaptureConfig
from service.capture.decode_checks import check_jpeg, check_plausible, check_png, to_8bit
from service.capture.quality import Problem, assess, blocking
from service.capture.types import ColourMode, PageImage, Side
from service.domain.errors import DAMAGED_FILE_ERRORS, InputError, QualityError

#: Formats accepted from a camera, scanner or upload. JPEG and PNG pass into the PDF unchanged;
#: the others are converted losslessly to PNG.
ACCEPTED_FORMATS = {"JPEG": "image/jpeg", "PNG": "image/png", "TIFF": "image/tiff", "BMP": "image/bmp",
                    "WEBP": "image/webp", "GIF": "image/gif"}
#: Shortest side, in pixels, of anything that can be a page (a 1×1 image is not a page).
MIN_SIDE_PX = 100
_COLOUR_MODES = {"RGB", "RGBA", "RGBX", "YCbCr", "CMYK", "P", "LAB", "HSV"}
_MM_PER_INCH = 25.4
_BLANK_PROBE_WIDTH = 800
_PAPER_KERNEL = 15
_IMAGE_MAGIC = (b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n", b"II*\x00", b"MM\x00*", b"BM", b"GIF87a", b"GIF89a")


def _open(data: bytes, name: str, config: CaptureConfig) -> Image.Image:
    """Open and fully decode ``data``; every failure becomes an :class:`InputError`."""
    if len(data) > config.max_file_bytes:
        raise InputError(f"{name}: file is {len(data)} bytes, larger than the {config.max_file_bytes}-byte limit",
                         remedy="capture the page again at a normal resolution (300 dpi)")
    if not data:
        raise InputError(f"{name}: file is empty", remedy="capture the page again")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            img = Image.open(io.BytesIO(data))
            fmt = img.format or ""
            if fmt not in ACCEPTED_FORMATS:
                raise InputError(f"{name}: {fmt or 'unknown'} images are not accepted",
                                 remedy="use JPEG or PNG page images")
            w, h = img.size
            if w <= 0 or h <= 0 or w * h > config.max_pixels:
                raise InputError(f"{name}: image claims {w}×{h} pixels, over the {config.max_pixels}-pixel limit "
                                 "(possible decompression bomb)",
                                 remedy="capture the page again at a normal resolution (300 dpi)")
            frames = int(getattr(img, "n_frames", 1))
            if frames > 1:
                raise InputError(f"{name}: file holds {frames} images; one page per file is expected",
                                 remedy="split the multi-page file into one image per page")
            check_png(data, name)
            check_jpeg(data, name)
            img.load()
    except InputError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise InputError(f"{name}: image is too large to decode safely (possible decompression bomb)",
                         remedy="capture the page again at a normal resolution (300 dpi)") from exc
    except UnidentifiedImageError as exc:
        if data.startswith(_IMAGE_MAGIC) or data[8:12] == b"WEBP":
            raise InputError(f"{name}: image is corrupt or truncated (unreadable header)",
                             remedy="capture or copy the page image again") from exc
        raise InputError(f"{name}: not an image file", remedy="give a JPEG or PNG page image") from exc
    except DAMAGED_FILE_ERRORS as exc:
        raise InputError(f"{name}: image is corrupt or truncated ({type(exc).__name__})",
                         remedy="capture or copy the page image again") from exc
    return img


def _colour_mode(img: Image.Image) -> ColourMode:
    """Colour, grey or bilevel, from the decoded mode."""
    if img.mode == "1":
        return ColourMode.BILEVEL
    if img.mode in _COLOUR_MODES:
        return ColourMode.COLOUR
    return ColourMode.GREY


def _effective_dpi(img: Image.Image, config: CaptureConfig) -> float:
    """Declared resolution if the file has one, else measured against the assumed paper width."""
    declared = img.info.get("dpi")
    if declared:
        try:
            values = [float(v) for v in declared]
        except (TypeError, ValueError):
            values = []
        if values and min(values) > 1:
            return min(values)
    short_side = min(img.size)
    return short_side / (config.assumed_page_width_mm / _MM_PER_INCH)


def _local_max(arr: np.ndarray, size: int) -> np.ndarray:
    """Grey-level dilation with a ``size``×``size`` square (separable sliding maximum)."""
    r = size // 2
    h, w = arr.shape
    rows = np.pad(arr, ((r, r), (0, 0)), mode="edge")
    out = rows[0:h].copy()
    for i in range(1, size):
        np.maximum(out, rows[i:i + h], out=out)
    cols = np.pad(out, ((0, 0), (r, r)), mode="edge")
    res = cols[:, 0:w].copy()
    for i in range(1, size):
        np.maximum(res, cols[:, i:i + w], out=res)
    return res


def ink_ratio(img: Image.Image, config: CaptureConfig, *, grey: Image.Image | None = None) -> float:
    """Fraction of the page (margins excluded) darker than the local paper tone by ``blank_contrast``.

    The paper tone is a local maximum (dilation), so uneven light, tinted paper and show-through
    from the other side do not count as ink; the margins hold the table around a phone photo.
    ``grey`` is ``img.convert("L")`` when the caller already made it.
    """
    grey = grey if grey is not None else img.convert("L")
    if grey.width > _BLANK_PROBE_WIDTH:
        ratio = _BLANK_PROBE_WIDTH / grey.width
        grey = grey.resize((_BLANK_PROBE_WIDTH, max(1, int(grey.height * ratio))), Image.Resampling.BOX)
    arr = np.asarray(grey, dtype=np.uint8)
    paper = _local_max(arr, _PAPER_KERNEL)
    ink = (paper.astype(np.int16) - arr.astype(np.int16)) > config.blank_contrast
    h, w = ink.shape
    my, mx = int(h * config.blank_margin), int(w * config.blank_margin)
    core = ink[my:h - my, mx:w - mx] if h - 2 * my > 0 and w - 2 * mx > 0 else ink
    return float(core.mean())


def is_blank(img: Image.Image, config: CaptureConfig, *, grey: Image.Image | None = None) -> bool:
    """True when the page carries (almost) no ink: a blank back, an empty sheet."""
    return ink_ratio(img, config, grey=grey) < config.blank_ink_ratio


def _embeddable(img: Image.Image, fmt: str, data: bytes) -> tuple[bytes, str]:
    """Bytes for the PDF: JPEG (RGB/grey) and PNG without alpha pass through; others become PNG."""
    if fmt == "JPEG" and img.mode in ("RGB", "L"):
        return data, "image/jpeg"
    if fmt == "PNG" and img.mode in ("RGB", "L") and "transparency" not in img.info:
        return data, "image/png"
    if img.mode in ("RGBA", "LA", "P", "PA") or "transparency" in img.info:
        rgba = img.convert("RGBA")
        flat = Image.new("RGB", rgba.size, (255, 255, 255))
        flat.paste(rgba, mask=rgba.getchannel("A"))
        conv: Image.Image = flat
    elif img.mode in ("L", "1"):
        conv = img.convert("L")
    else:
        conv = img.convert("RGB")
    out = io.BytesIO()
    params: dict[str, object] = {"dpi": img.info["dpi"]} if img.info.get("dpi") else {}
    conv.save(out, "PNG", **params)
    return out.getvalue(), "image/png"


def load_page_image(data: bytes, *, name: str, config: CaptureConfig, side: Side = Side.FRONT,
                    sticky_note_of: int | None = None, source: str = "scanner") -> PageImage:
    """Validate one captured image and return it as a hashed :class:`PageImage`.

    Raises :class:`InputError` for unreadable, corrupt, truncated, oversized or non-image data and
    :class:`QualityError` below ``config.min_dpi`` or not in colour when colour is required.
    ``name`` is only used in messages (give a page label, not a path with personal data).
    ``source`` (``scanner`` | ``camera``) selects the live quality checks
    (:mod:`service.capture.quality`): a blocking problem raises :class:`QualityError` naming the
    page and the Vietnamese instruction; warnings are kept on the page.
    """
    img = _open(data, name, config)
    fmt = img.format or ""
    if min(img.size) < MIN_SIDE_PX:
        raise QualityError(f"{name}: image is {img.width}×{img.height} pixels, too small to be a page",
                           remedy="capture the whole page again at 300 dpi")
    wide = to_8bit(img)
    if wide is not img:  # a 16-bit grey scan: stored as 8-bit grey (PDF/A and OCR read 8 bits)
        img, fmt = wide, ""
    grey = img.convert("L")  # one grey copy for the plausibility, blank and quality checks
    check_plausible(img, name, grey=grey)
    dpi = _effective_dpi(img, config)
    if dpi + 0.5 < config.min_dpi:
        raise QualityError(f"{name}: effective resolution {dpi:.0f} dpi is below the {config.min_dpi:.0f} dpi minimum",
                           remedy=f"capture the page again at {config.min_dpi:.0f} dpi or more "
                                  "(move the camera closer or raise the scanner resolution)")
    colour = _colour_mode(img)
    if config.require_colour and colour is not ColourMode.COLOUR:
        raise QualityError(f"{name}: page is {colour.value}, colour is required",
                           remedy="switch the scanner or camera to colour mode and capture the page again")
    blank = is_blank(img, config, grey=grey)
    warned: tuple[tuple[str, str], ...] = ()
    if config.quality.enabled:
        # A page the blank rule calls empty is still checked: heavy blur also leaves too little ink.
        found = [p for p in assess(img, dpi, source=source, cfg=config.quality, min_dpi=config.min_dpi,
                                   require_colour=config.require_colour, colour=colour is ColourMode.COLOUR,
                                   grey=grey)
                 if not (blank and p.kind == "bright")]
        refused = blocking(found)
        if refused:
            raise QualityError(f"{name}: " + "; ".join(p.message for p in refused),
                               remedy="làm theo hướng dẫn rồi chụp lại trang")
        warned = tuple((p.kind, p.message) for p in found)
    payload, media_type = _embeddable(img, fmt, data)
    return PageImage(
        data=payload, media_type=media_type, width=img.width, height=img.height, dpi=round(dpi, 2),
        colour=colour, sha256=hashlib.sha256(payload).hexdigest(), side=side, blank=blank,
        sticky_note_of=sticky_note_of, warnings=warned,
    )


def quality_report(data: bytes, *, name: str, config: CaptureConfig, source: str = "scanner") -> list[Problem]:
    """Every quality problem of one page image, blocking or not (``sohoa quality``, the kiosk's preview).

    Unreadable data raises :class:`InputError`; the dpi and colour rules come back as ``lowres`` and
    ``grey`` problems instead of raising. A blank page is never called over-exposed.
    """
    img = _open(data, name, config)
    if min(img.size) < MIN_SIDE_PX:
        raise InputError(f"{name}: image is {img.width}×{img.height} pixels, too small to be a page",
                         remedy="capture the whole page again at 300 dpi")
    img = to_8bit(img)
    grey = img.convert("L")
    check_plausible(img, name, grey=grey)
    dpi = _effective_dpi(img, config)
    colour = _colour_mode(img) is ColourMode.COLOUR
    blank = is_blank(img, config, grey=grey)
    return [p for p in assess(img, dpi, source=source, cfg=config.quality, min_dpi=config.min_dpi,
                              require_colour=config.require_colour, colour=colour, grey=grey)
            if not (blank and p.kind == "bright")]
