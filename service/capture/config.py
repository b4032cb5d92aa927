"""Configuration of the capture stage (TT 01/2023 Art. 8 rules, TT 02/2019 technical floor)."""

from __future__ import annotations

from pydantic import Field

from service.configbase import StrictModel


class QualityConfig(StrictModel):
    """Thresholds of live capture quality control (``capture.quality``); defaults measured by
    ``python -m bench quality`` (rendered pages degraded over several strengths, and clean pages)."""

    enabled: bool = Field(default=True, description="run blur/glare/cutoff/exposure/skew/lowres checks")
    work_dpi: float = Field(default=100.0, ge=50, le=300, description="resolution the measures are taken at")
    tile_mm: float = Field(default=8.0, ge=2, le=40, description="side of a measuring tile")
    ink_contrast: int = Field(default=40, ge=5, le=200, description="grey levels below the paper that are ink")
    text_tile_ink: float = Field(default=0.02, gt=0, lt=1, description="ink share that makes a tile text-bearing")
    min_text_tiles: int = Field(default=6, ge=1, description="fewer text tiles: a blank page, text checks skipped")
    blur_block: float = Field(default=1.0, ge=0, description="sharpness below this refuses the page")
    blur_warn: float = Field(default=2.5, ge=0, description="sharpness below this warns")
    glare_ink_rise: float = Field(default=70.0, ge=5, le=250, description="ink lightened by this much is washed out")
    glare_block: float = Field(default=0.08, gt=0, le=1, description="washed-out share of the text area refused")
    glare_warn: float = Field(default=0.05, gt=0, le=1, description="washed-out share of the text area warned")
    cutoff_strip_mm: float = Field(default=1.5, gt=0, le=20, description="width of the frame-edge strip")
    cutoff_block: float = Field(default=0.01, gt=0, le=1, description="ink share of a frame-edge strip refused")
    outline_contrast: float = Field(default=60.0, ge=5, le=250,
                                    description="grey levels below the paper tone that are the desk, not the page")
    outline_desk_max: float = Field(default=0.2, ge=0, le=1,
                                    description="paper share of a frame edge at most this: the page outline shows")
    outline_block: float = Field(default=0.6, gt=0, le=1,
                                 description="paper share of the edge opposite a visible outline refused (camera)")
    dark_paper: float = Field(default=125.0, ge=0, le=255, description="paper tone below this is too dark")
    bright_paper: float = Field(default=200.0, ge=0, le=255, description="paper at least this bright may be washed")
    bright_contrast: float = Field(default=100.0, ge=0, le=255, description="ink contrast below this is washed out")
    bright_contrast_min: float = Field(default=28.0, ge=0, le=255,
                                       description="below this there is no ink at all (a blank page)")
    skew_block_deg: float = Field(default=5.0, ge=0, le=45, description="skew deskew does not correct (±5°)")
    skew_warn_deg: float = Field(default=3.0, ge=0, le=45, description="camera skew worth a warning")
    lowres_char_px: float = Field(default=12.0, ge=0, le=100, description="median glyph height in pixels warned")
    lowres_char_block: float = Field(default=7.0, ge=0, le=100, description="median glyph height in pixels refused")


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
    upload_max_bytes: int = Field(default=20 * 1024 * 1024, ge=1024,
                                  description="largest file (image or PDF) accepted by upload at the kiosk")
    upload_max_pages: int = Field(default=100, ge=1, le=1000, description="most pages of an uploaded PDF")
    scan_dpi: int = Field(default=300, ge=100, le=1200,
                          description="resolution of kiosk scans and of PDF pages rendered from upload")
    blank_contrast: int = Field(default=60, ge=10, le=250,
                                description="grey levels below the local paper tone that count as ink")
    blank_margin: float = Field(default=0.10, ge=0, lt=0.4,
                                description="fraction of each edge ignored (table around a phone photo)")
    blank_ink_ratio: float = Field(default=0.0002, gt=0, lt=0.5,
                                   description="a page with less ink than this fraction is blank")
    quality: QualityConfig = Field(default_factory=QualityConfig)
