"""How a camera capture becomes stored page bytes: colour JPEG at quality 90, dpi kept.

A lossless PNG of a 200 dpi camera page is about 5 MB; JPEG quality 90 keeps the text legible
for OCR and the eye at a fraction of that and passes unchanged into the PDF/A (``DCTDecode``).
JPEG input is never re-encoded (it would only lose quality); scanner pages are not touched here.
"""

from __future__ import annotations

import io

from PIL import Image

from service.domain.errors import InputError

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
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as exc:
        raise InputError("camera still cannot be decoded", remedy="capture the page again") from exc
    out = io.BytesIO()
    params: dict[str, object] = {"quality": quality, "subsampling": 0, "optimize": True}
    chosen = declared if declared else ((dpi, dpi) if dpi else None)
    if chosen:
        params["dpi"] = (round(float(chosen[0])), round(float(chosen[1])))
    rgb.save(out, "JPEG", **params)
    return out.getvalue(), "image/jpeg"
