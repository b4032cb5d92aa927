"""PDF stage: PDF/A-2b from page images, XMP with the Art. 9 fields, invisible OCR text layer.

May import: ``service.domain``, ``service.capture`` and ``service.ocr`` (their types), ``service.configbase``.
"""

from service.pdf.build import PdfReport, build_pdfa, validate_pdfa
from service.pdf.config import PdfConfig

__all__ = ["PdfConfig", "PdfReport", "build_pdfa", "validate_pdfa"]
