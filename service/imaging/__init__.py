"""Imaging: page outline, perspective correction, deskew and illumination before OCR.

Public API: :func:`prepare` (``source="scanner"|"camera"``) returning a :class:`CleanPage`.
"""

from service.imaging.page import CleanPage, Source, prepare, to_gray

__all__ = ["CleanPage", "Source", "prepare", "to_gray"]
