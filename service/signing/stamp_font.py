"""Embedded stamp font: pyHanko's glyph accumulator, corrected for TrueType fonts.

pyHanko 0.38's ``GlyphAccumulator`` writes ``/W`` widths and ``TJ`` adjustments in the font's own
units. PDF wants 1/1000 em; the two agree only for fonts with 1000 units per em (most CFF fonts).
Liberation Serif (the Times New Roman metric clone NĐ 30/2020 needs) has 2048, so glyphs were
spread out ~2x by every viewer and the /W entries disagreed with the embedded program (a PDF/A
rule, ISO 19005-2 §6.2.11.5). Here HarfBuzz shapes at a 1000-unit scale and widths are scaled.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pyhanko.pdf_utils.font.opentype import GlyphAccumulator, GlyphAccumulatorFactory


class PdfUnitsGlyphAccumulator(GlyphAccumulator):
    """A glyph accumulator whose metrics are in PDF glyph space (1000 units per em)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._to_pdf_units = 1000 / self.units_per_em
        self.hb_font.scale = (1000, 1000)
        self.units_per_em = 1000

    def _get_cid_and_width(self, glyph_id: int) -> tuple[int, int]:
        cached = self._glyphs.get(glyph_id)
        if cached is not None:
            return cached
        cid, width = super()._get_cid_and_width(glyph_id)
        self._glyphs[glyph_id] = result = (cid, round(width * self._to_pdf_units))
        return result


@dataclass(frozen=True)
class PdfUnitsGlyphAccumulatorFactory(GlyphAccumulatorFactory):
    """Factory for :class:`PdfUnitsGlyphAccumulator` (same options as pyHanko's)."""

    def create_font_engine(self, writer: Any, obj_stream: Any = None) -> GlyphAccumulator:
        """A fresh accumulator for ``writer`` (the font file is subset and embedded on write)."""
        fh = open(self.font_file, "rb")  # noqa: SIM115 - pyHanko's engine owns and reads the handle
        if obj_stream is None and writer.stream_xrefs and self.create_objstream_if_needed:
            obj_stream = writer.prepare_object_stream()
        return PdfUnitsGlyphAccumulator(
            writer=writer, font_handle=fh, font_size=self.font_size, ot_script_tag=self.ot_script_tag,
            ot_language_tag=self.ot_language_tag, writing_direction=self.writing_direction,
            bcp47_lang_code=self.bcp47_lang_code, obj_stream=obj_stream,
        )
