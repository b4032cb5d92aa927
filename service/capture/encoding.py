"""How a camera capture or a raw scan becomes stored page bytes: colour JPEG at quality 90, dpi kept.

A lossless PNG of a 200 dpi camera page is about 5 MB; JPEG quality 90 keeps the text legible
for OCR and the eye at a fraction of that and passes unchanged into the PDF/A (``DCTDecode``).
JPEG input is never re-encoded (it would only lose quality); raw scanner pixels are encoded once.
"""

from __future__ import annotations

import io

import numpy as np
from PIL import Image

from service.domain.errors import DAMAGED_FILE_ERRORS, InputError

#: What decoding a damaged, truncated or oversized image raises.
_UNREADABLE: tuple[type[Exception], ...] = (Image.DecompressionBombError,) + DAMAGED_FILE_ERRORS

#: JPEG quality of stored camera captures (4:4:4 chroma keeps coloured seals and stamps crisp).
CAMERA_JPEG_QUALITY = 90


def camera_jpeg(data: bytes, *, dpi: float | None = None, quality: int = CAMERA_JPEG_QUALITY) -> tuple[bytes, str]:
    """``data`` (one encoded camera still) as the bytes to store and their media type.

    JPEG stays as it is; any other format is decoded and saved as a colour JPEG with the declared
    (or the given) dpi. Raises :class:`InputError` when the bytes cannot be decoded.
    """
    if data.startswith(b"\xff\xd8\xff"):
        return data, "image/jpeg"
    try:
        with Image.open(io.BytesIO(data)) as img:
            img.load()
            declared = img.info.get("dpi")
            rgb = img.convert("RGB")
    except _UNREADABLE as exc:
        raise InputError("camera still cannot be decoded", remedy="capture the page again") from exc
    chosen = declared if declared else ((dpi, dpi) if dpi else None)
    return _save_jpeg(rgb, chosen, quality), "image/jpeg"


def array_jpeg(pixels: np.ndarray, *, dpi: float, quality: int = CAMERA_JPEG_QUALITY) -> bytes:
    """A raw device image (H×W×3 RGB, or H×W grey) as stored: JPEG at ``quality`` with its dpi.

    What a SANE scanner hands over is raw pixels, so it is encoded once, like a camera still;
    a scanner (or an upload) that already delivers JPEG is stored as it came.
    """
    img = Image.fromarray(np.ascontiguousarray(pixels))
    return _save_jpeg(img if img.mode in ("RGB", "L") else img.convert("RGB"), (dpi, dpi), quality)


def _save_jpeg(img: Image.Image, dpi: tuple[float, float] | None, quality: int) -> bytes:
    out = io.BytesIO()
    params: dict[str, object] = {"quality": quality, "subsampling": 0, "optimize": True}
    if dpi:
        params["dpi"] = (round(float(dpi[0])), round(float(dpi[1])))
    img.save(out, "JPEG", **params)
    return out.getvalue()
