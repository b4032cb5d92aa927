"""Configuration of the pdf stage."""

from __future__ import annotations

from service.configbase import StrictModel


class PdfConfig(StrictModel):
    """Settings for pdf (embedded defaults work out of the box)."""
