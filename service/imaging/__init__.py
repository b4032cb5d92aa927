"""Imaging: page outline, perspective correction, deskew and illumination before OCR.

Public API: :func:`prepare` (``source="scanner"|"camera"``) returning a :class:`CleanPage`.

May import: ``service.domain`` (+ NumPy, Pillow, OpenCV); no store, no UI.
"""

from service.imaging.page import CleanPage, Source, prepare, to_gray

__all__ = ["CleanPage", "Source", "prepare", "to_gray"]
