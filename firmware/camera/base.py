"""The camera interface every driver implements, and the frame it returns."""

from __future__ import annotations

import io
import time
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

import numpy as np
from PIL import Image

from firmware.errors import BadDeviceInput

PREVIEW_MAX_SIDE = 640
#: JPEG quality of stills the driver encodes itself (arrays from OpenCV / picamera2).
JPEG_QUALITY = 90


@dataclass(frozen=True)
class CapturedFrame:
    """One captured still: an RGB array and/or the encoded bytes as the device produced them.

    ``dpi`` is the effective resolution at the document plane; ``dpi_declared`` is True when it
    came from the file or device itself rather than from configuration.
    """

    dpi: float
    dpi_declared: bool
    source: str
    image: np.ndarray | None = None
    encoded: bytes | None = None
    media_type: str | None = None
    timestamp: float = field(default_factory=time.time)

    def __post_init__(self) -> None:
        if self.image is None and self.encoded is None:
            raise ValueError("a CapturedFrame needs an image or encoded bytes")

    def to_rgb(self) -> np.ndarray:
        """The frame as an H x W x 3 uint8 RGB array (decoding the bytes if needed)."""
        if self.image is not None:
            return self.image
        assert self.encoded is not None
        try:
            with Image.open(io.BytesIO(self.encoded)) as img:
                return np.asarray(img.convert("RGB"))
        except (OSError, Image.DecompressionBombError) as exc:
            raise BadDeviceInput(self.source, f"frame cannot be decoded ({exc})",
                                 remedy="check the image source") from exc

    def to_encoded(self) -> tuple[bytes, str]:
        """The frame as encoded bytes and media type; arrays become colour JPEG quality 90 (a lossless
        PNG of a 200 dpi page is ~5 MB; JPEG passes unchanged into the PDF/A)."""
        if self.encoded is not None and self.media_type is not None:
            return self.encoded, self.media_type
        buf = io.BytesIO()
        dpi = (round(self.dpi), round(self.dpi))
        Image.fromarray(self.to_rgb()).convert("RGB").save(buf, format="JPEG", quality=JPEG_QUALITY, subsampling=0,
                                                           dpi=dpi)
        return buf.getvalue(), "image/jpeg"


def downscale(rgb: np.ndarray, max_side: int = PREVIEW_MAX_SIDE) -> np.ndarray:
    """A copy of ``rgb`` no larger than ``max_side`` on its long side (for live preview)."""
    h, w = rgb.shape[:2]
    scale = max_side / max(h, w)
    if scale >= 1:
        return rgb
    img = Image.fromarray(rgb).resize((max(1, round(w * scale)), max(1, round(h * scale))), Image.Resampling.BILINEAR)
    return np.asarray(img)


@runtime_checkable
class Camera(Protocol):
    """A still camera with a live preview. Every call returns or raises a DeviceFault in bounded time."""

    name: str

    def open(self) -> None:
        """Acquire the device (raises DeviceMissing if absent)."""
        ...

    def close(self) -> None:
        """Release the device; safe to call twice."""
        ...

    def capture(self) -> CapturedFrame:
        """Take one full-resolution still."""
        ...

    def preview_frame(self) -> np.ndarray:
        """A small RGB frame for the live preview (long side at most 640 px)."""
        ...

    def self_check(self) -> str:
        """Open if needed, take a preview frame, and describe the result (raises DeviceFault)."""
        ...
