"""Capture stage: page images under the TT 01/2023 Art. 8 rules.

May import: ``service.domain``, ``service.configbase``, ``service.imaging`` (pure pixel helpers); drivers
reach it as raw bytes (no ``firmware`` import needed).
"""

from service.capture.camera import FileCamera, PageSource, capture_all
from service.capture.config import CaptureConfig
from service.capture.images import load_page_image
from service.capture.rules import RawPage, assemble, check_finalizable, verify_hashes
from service.capture.types import CaptureSet, ColourMode, PageImage, Side

__all__ = [
    "CaptureConfig", "CaptureSet", "ColourMode", "FileCamera", "PageImage", "PageSource", "RawPage", "Side",
    "assemble", "capture_all", "check_finalizable", "load_page_image", "verify_hashes",
]
