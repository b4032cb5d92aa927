"""Configuration of the ocr stage."""

from __future__ import annotations

from service.configbase import StrictModel


class OcrConfig(StrictModel):
    """Settings for ocr (embedded defaults work out of the box)."""
