"""Configuration of the capture stage (TT 01/2023 Art. 8 rules, TT 02/2019 technical floor)."""

from __future__ import annotations

from pydantic import Field

from service.configbase import StrictModel


class CaptureConfig(StrictModel):
    """Settings for capture (embedded defaults work out of the box).

    ``min_dpi`` is the effective resolution floor (TT 02/2019: 200 dpi). A file that declares no
    resolution is measured against ``assumed_page_width_mm`` (the short side of A4 by default).
    """

    min_dpi: float = Field(default=200.0, ge=50, le=2400, description="refuse pages below this effective dpi")
    require_colour: bool = Field(default=True, description="refuse greyscale / black-and-white pages")
    assumed_page_width_mm: float = Field(default=210.0, gt=50, le=600,
                                         description="paper short side used when a file declares no dpi")
    max_pixels: int = Field(default=80_000_000, ge=1_000_000, le=89_000_000,
                            description="decompression-bomb guard (A3 at 600 dpi is 70 Mpx)")
    max_file_bytes: int = Field(default=80 * 1024 * 1024, ge=1024, description="largest accepted image file")
    blank_contrast: int = Field(default=60, ge=10, le=250,
                                description="grey levels below the local paper tone that count as ink")
    blank_margin: float = Field(default=0.10, ge=0, lt=0.4,
                                description="fraction of each edge ignored (table around a phone photo)")
    blank_ink_ratio: float = Field(default=0.0002, gt=0, lt=0.5,
                                   description="a page with less ink than this fraction is blank")
