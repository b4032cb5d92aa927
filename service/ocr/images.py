"""Reading page images from files safely: size checked before decoding, every frame of a TIFF."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageFile, ImageOps, ImageSequence, UnidentifiedImageError

from service.domain.errors import DAMAGED_FILE_ERRORS, InputError

MAX_FRAMES = 500
_COLOUR_MODES = ("RGB", "RGBA", "P", "PA", "CMYK", "YCbCr", "LAB", "HSV")
ORIENTATION = 0x0112  # EXIF tag
RED_MARGIN = 50  # red minus the larger of green/blue above which a pixel is seal/stamp ink


BAND = 256  # rows converted at a time: a colour page never exists twice in memory


def _lift_red(gray: np.ndarray, r: np.ndarray, g: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``gray`` with every red-ink pixel set to its red-channel value (in place)."""
    red = cv2.subtract(r, cv2.max(g, b)) > RED_MARGIN  # saturating: never wraps below zero
    gray[red] = r[red]
    return gray


def without_red_ink(image: np.ndarray | Image.Image) -> np.ndarray | Image.Image:
    """A colour page as grayscale with red ink (seals, stamps, red signatures) lifted to paper.

    A red pixel takes its red-channel value, which is about the paper's brightness there, so text
    under a seal stays and the seal's ring text and star do not reach the detector. Grayscale
    input is returned unchanged; numpy colour arrays are BGR(A), as OpenCV reads them. The page is
    converted in bands of ``BAND`` rows, so the only full-size copy made is the grey result
    (a 300 dpi colour page is 26–36 MB; converting it whole cost ~150 MB of peak memory).
    """
    if isinstance(image, Image.Image):
        if image.mode not in _COLOUR_MODES:
            return image
        w, h = image.size
        out = np.empty((h, w), np.uint8)
        for top in range(0, h, BAND):
            piece = image.crop((0, top, w, min(h, top + BAND)))
            rgb = piece if piece.mode == "RGB" else piece.convert("RGB")
            r, g, b = (np.asarray(channel) for channel in rgb.split())
            out[top:top + BAND] = _lift_red(np.array(rgb.convert("L")), r, g, b)
        return out
    if not (isinstance(image, np.ndarray) and image.ndim == 3 and image.shape[2] in (3, 4)
            and image.dtype == np.uint8 and image.size):
        return image
    code = cv2.COLOR_BGR2GRAY if image.shape[2] == 3 else cv2.COLOR_BGRA2GRAY
    out = np.empty(image.shape[:2], np.uint8)
    for top in range(0, image.shape[0], BAND):
        band = image[top:top + BAND]
        b, g, r = (np.ascontiguousarray(band[:, :, i]) for i in range(3))
        out[top:top + BAND] = _lift_red(cv2.cvtColor(band, code), r, g, b)
    return out


def _lift_rgb(rgb: np.ndarray) -> np.ndarray:
    """:func:`without_red_ink` of an RGB array, pixel for pixel what it gives for the same PIL image
    (Pillow's grey formula, which OpenCV's differs from by one level on some colours)."""
    h, w = rgb.shape[:2]
    out = np.empty((h, w), np.uint8)
    for top in range(0, h, BAND):
        band = rgb[top:top + BAND]
        grey = Image.frombuffer("RGB", (w, band.shape[0]), band, "raw", "RGB", 0, 1).convert("L")
        r, g, b = cv2.split(band)
        out[top:top + BAND] = _lift_red(np.array(grey), r, g, b)
    return out


def _decoded_png(path: Path, frame: Image.Image) -> np.ndarray | None:
    """The page of an 8-bit RGB or grey PNG decoded by OpenCV, grey, red ink lifted: the pixels
    Pillow gives, for ~25 ms less CPU per 300 dpi colour page (no 4-byte RGBX copy of the page).
    None for any other file, or when OpenCV cannot read it: Pillow then reads it, with its errors."""
    if not isinstance(frame, ImageFile.ImageFile) or frame.format != "PNG" or getattr(frame, "n_frames", 1) != 1 \
            or frame.mode not in ("RGB", "L") or len(frame.tile) != 1 or frame.tile[0].args != frame.mode:
        return None  # 16-bit, palette, alpha, APNG: Pillow's own conversions
    data = path.read_bytes()
    if b"eXIf" in data:  # an orientation to apply: Pillow's way
        return None
    flags = (cv2.IMREAD_COLOR_RGB if frame.mode == "RGB" else cv2.IMREAD_GRAYSCALE) | cv2.IMREAD_IGNORE_ORIENTATION
    decoded = cv2.imdecode(np.frombuffer(data, np.uint8), flags)
    if decoded is None or decoded.shape[:2] != (frame.size[1], frame.size[0]):
        return None
    return _lift_rgb(decoded) if decoded.ndim == 3 else decoded


def iter_pages(path: Path, max_pixels: int) -> Iterator[Image.Image]:
    """Yield each page (frame) of an image file as a grayscale (mode "L") PIL image, red seal ink of
    colour files lifted to paper (:func:`without_red_ink`), turned upright by its EXIF orientation
    (phone photos).

    The header is read first: images above ``max_pixels`` are refused before any pixel is
    decoded (decompression bombs). InputError for missing, empty, truncated or non-image files.
    Plain 8-bit RGB or grey PNGs (scans) are decoded by OpenCV, to the same pixels (:func:`_decoded_png`).
    """
    if not path.exists():
        raise InputError(f"{path}: no such file", remedy="check the path")
    if path.is_dir():
        raise InputError(f"{path} is a folder", remedy="name image files (PNG, JPEG, TIFF)")
    if path.stat().st_size == 0:
        raise InputError(f"{path} is empty (0 bytes)", remedy="scan or capture the page again")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(path) as img:
                for n, frame in enumerate(ImageSequence.Iterator(img), start=1):
                    if n > MAX_FRAMES:
                        raise InputError(f"{path} has more than {MAX_FRAMES} pages", remedy="split the file")
                    w, h = frame.size
                    if w * h > max_pixels:
                        raise InputError(
                            f"{path}: page {n} is {w}×{h} = {w * h / 1e6:.0f} MP, above the "
                            f"{max_pixels / 1e6:.0f} MP limit",
                            remedy="scan at 300 dpi or less; an image this large is refused as a decompression bomb")
                    decoded = _decoded_png(path, frame) if n == 1 else None
                    if decoded is not None:
                        yield Image.fromarray(decoded, "L")
                        continue
                    frame.load()
                    if n == 1 and frame.getexif().get(ORIENTATION, 1) != 1:  # phone photos
                        ImageOps.exif_transpose(frame, in_place=True)  # (not in place it copies the page)
                    page = frame
                    if page.mode in _COLOUR_MODES:  # seals lifted here, so no colour copy outlives the frame
                        yield Image.fromarray(np.asarray(without_red_ink(page)), "L")
                    else:
                        yield page.convert("L")
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise InputError(f"{path} declares a size above the decoder's safety limit ({exc})",
                         remedy="scan at 300 dpi or less; an image this large is refused as a decompression bomb"
                         ) from exc
    except UnidentifiedImageError as exc:
        raise InputError(f"{path} is not a readable image ({exc.__class__.__name__})",
                         remedy="use a PNG, JPEG or TIFF scan of the page") from exc
    except DAMAGED_FILE_ERRORS as exc:
        raise InputError(f"{path} is corrupt or truncated ({exc.__class__.__name__}: {exc})",
                         remedy="scan or capture the page again") from exc
