"""Imaging: page outline, perspective correction, deskew and illumination before OCR.

Public API: :func:`prepare` (``source="scanner"|"camera"``) returning a :class:`CleanPage`, and
:func:`box_to_input` mapping a box on it back onto the input image.

May import: ``service.domain`` (+ NumPy, Pillow, OpenCV); no store, no UI.
"""

from service.imaging.page import CleanPage, Source, box_to_input, prepare, to_gray

__all__ = ["CleanPage", "Source", "box_to_input", "prepare", "to_gray"]
