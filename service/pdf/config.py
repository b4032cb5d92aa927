"""Configuration of the PDF stage."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field

from service.configbase import StrictModel

DEFAULT_FONT = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")


class PdfConfig(StrictModel):
    """Settings for PDF/A-2b assembly (embedded defaults work out of the box)."""

    text_font: Path = Field(default=DEFAULT_FONT,
                            description="TrueType font embedded for the invisible OCR text layer "
                                        "(must cover Vietnamese; DejaVu Sans does)")
    qpdf_check: bool = Field(default=True,
                             description="also run the 'qpdf --check' structural check on every produced file")
