"""Page clean-up before OCR: page outline + perspective (camera), deskew, illumination."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import cv2
import numpy as np
from PIL import Image

from service.domain.errors import InputError
from service.imaging.geometry import find_page, perspective_matrix, rotation_matrix, skew_angle

Array = np.ndarray
Source = Literal["scanner", "camera"]
MAX_PIXELS = 80_000_000
MIN_SIDE = 16


@dataclass(frozen=True, slots=True)
class CleanPage:
    """A page ready for OCR: upright grayscale ``image`` and how it maps to the input image.

    ``matrix`` is the 3×3 homography from input-image pixels to ``image`` pixels
    (:func:`box_to_input` maps a box back through it); ``skew`` the rotation applied (degrees);
    ``outline`` the page corners found in a photo (input pixels) or None.
    """

    image: Array
    matrix: Array
    source: Source
    skew: float = 0.0
    outline: Array | None = None

    @property
    def size(self) -> tuple[int, int]:
        """``(width, height)`` of the clean image."""
        return int(self.image.shape[1]), int(self.image.shape[0])


def box_to_input(matrix: Array, box: tuple[int, int, int, int],
                 input_size: tuple[int, int]) -> tuple[int, int, int, int]:
    """Map a box on a clean image back to the input image through the clean page's ``matrix``
    (axis-aligned hull, clipped to ``input_size``)."""
    if np.allclose(matrix, np.eye(3)):
        return box
    x0, y0, x1, y1 = box
    pts = np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1]], dtype=np.float64).reshape(-1, 1, 2)
    back = cv2.perspectiveTransform(pts, np.linalg.inv(matrix)).reshape(-1, 2)
    w, h = input_size
    return (max(0, int(np.floor(back[:, 0].min()))), max(0, int(np.floor(back[:, 1].min()))),
            min(w, int(np.ceil(back[:, 0].max()))), min(h, int(np.ceil(back[:, 1].max()))))


def to_gray(image: Array | Image.Image, max_pixels: int = MAX_PIXELS) -> Array:
    """A uint8 grayscale array from a PIL image or a numpy BGR/BGRA/gray uint8 array.

    InputError for empty, tiny, oversized (decompression-bomb sized) or wrongly typed images.
    """
    if isinstance(image, Image.Image):
        w, h = image.size
        _check_size(w, h, max_pixels)
        return np.asarray(image if image.mode == "L" else image.convert("L"))
    if not isinstance(image, np.ndarray):
        raise InputError(f"expected an image array or PIL image, got {type(image).__name__}",
                         remedy="pass a numpy BGR uint8 array or a PIL image")
    if image.size == 0 or image.ndim not in (2, 3):
        raise InputError("the image is empty", remedy="capture or scan the page again")
    _check_size(image.shape[1], image.shape[0], max_pixels)
    if image.dtype != np.uint8:
        raise InputError(f"image pixels are {image.dtype}, expected uint8", remedy="convert the image to 8-bit")
    if image.ndim == 2:
        return image
    channels = image.shape[2]
    if channels == 1:
        return image[:, :, 0]
    if channels == 3:
        return cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    if channels == 4:
        return cv2.cvtColor(image, cv2.COLOR_BGRA2GRAY)
    raise InputError(f"image has {channels} channels", remedy="use a grayscale, BGR or BGRA image")


def _check_size(w: int, h: int, max_pixels: int) -> None:
    if w < MIN_SIDE or h < MIN_SIDE:
        raise InputError(f"the image is only {w}×{h} pixels", remedy="scan at 200–300 dpi (A4 ≈ 2480×3508 px)")
    if w * h > max_pixels:
        raise InputError(f"the image is {w}×{h} = {w * h / 1e6:.0f} MP, above the {max_pixels / 1e6:.0f} MP limit",
                         remedy="scan at 300 dpi or less; an image this large is refused as a decompression bomb")


def normalize_light(gray: Array) -> Array:
    """Divide out uneven lighting: estimate the paper brightness (a closing with a kernel larger than
    the letters, on a reduced copy) and scale every pixel so paper becomes white."""
    h, w = gray.shape
    scale = min(1.0, 800.0 / max(h, w))
    small = cv2.resize(gray, (max(1, int(w * scale)), max(1, int(h * scale))), interpolation=cv2.INTER_AREA)
    k = max(7, int(max(small.shape) / 40) | 1)
    background = cv2.morphologyEx(small, cv2.MORPH_CLOSE, cv2.getStructuringElement(cv2.MORPH_RECT, (k, k)))
    background = cv2.GaussianBlur(background, (0, 0), k / 2)
    background = cv2.resize(background, (w, h), interpolation=cv2.INTER_LINEAR)
    out = cv2.divide(gray, cv2.max(background, 1), scale=255)  # type: ignore[call-overload]  # (numpy's: 10× the cost)
    return np.asarray(out)


def prepare(image: Array | Image.Image, source: Source = "scanner", *, max_pixels: int = MAX_PIXELS) -> CleanPage:
    """Make an upright, evenly lit grayscale page.

    ``scanner``: deskew (±5°). ``camera``: find the sheet's outline and correct perspective, then
    deskew and even out the light. The returned :class:`CleanPage` knows how to map boxes back.
    """
    if source not in ("scanner", "camera"):
        raise InputError(f"unknown image source {source!r}", remedy="use 'scanner' or 'camera'")
    gray = to_gray(image, max_pixels)
    matrix = np.eye(3)
    outline = None
    if source == "camera":
        outline = find_page(gray)
        if outline is not None:
            matrix, (pw, ph) = perspective_matrix(outline)
            gray = cv2.warpPerspective(gray, matrix, (pw, ph), flags=cv2.INTER_LINEAR, borderValue=255)
        gray = normalize_light(gray)
    angle = skew_angle(gray)
    if abs(angle) >= 0.1:
        rot, (nw, nh) = rotation_matrix(gray.shape[:2], angle)
        gray = cv2.warpAffine(gray, rot[:2], (nw, nh), flags=cv2.INTER_LINEAR, borderValue=255)
        matrix = rot @ matrix
    return CleanPage(np.ascontiguousarray(gray), matrix, source, angle, outline)
