"""One call for the use cases: page images (or OCR pages) + optional ID card QR -> :class:`Extraction`.

``sohoa extract`` goes through here. ``sohoa digitize`` does not: it runs the spine
(:mod:`service.usecases.procedure`), which calls the extractor itself.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from service.domain.errors import InputError, OcrError
from service.extract.config import ExtractConfig
from service.extract.extractor import extract_pages
from service.extract.qr import CccdQr, merge_qr, qr_extraction, read_cccd_qr_image
from service.extract.types import Extraction
from service.ocr.types import OcrPage


def ocr_images(images: Sequence[Path], *, source: str = "scanner") -> list[OcrPage]:
    """OCR every page of the image files with the OCR room's engine (configured from SOHOA_HOME)."""
    from service.config import load_config
    from service.paths import get_paths

    try:
        from service.ocr.engine import get_engine
    except ImportError as exc:
        raise OcrError("the OCR engine is not installed in this build",
                       remedy="run 'sohoa ocr --json IMAGE > ocr.json' elsewhere and pass --ocr-json ocr.json") from exc
    engine = get_engine(load_config(get_paths().config).ocr)
    pages: list[OcrPage] = []
    for image in images:
        pages.extend(engine.read_file(image, source="camera" if source == "camera" else "scanner"))
    return pages


def card_from_images(images: Sequence[Path], config: ExtractConfig) -> CccdQr | None:
    """A chip ID card QR visible on one of the images, if any (other QR codes are ignored)."""
    for image in images:
        try:
            return read_cccd_qr_image(image, max_bytes=config.qr_max_bytes)
        except InputError:
            continue
    return None


def extract_document(*, images: Sequence[Path] = (), pages: Sequence[OcrPage] = (), card: CccdQr | None = None,
                     config: ExtractConfig | None = None, source: str = "scanner") -> Extraction:
    """Extract one document from OCR ``pages`` (else from ``images`` through the OCR engine).

    A chip ID card QR (``card``, or one found on the images) fills the owner fields with source
    ``qr``. InputError when there is nothing to read.
    """
    cfg = config or ExtractConfig()
    all_pages = list(pages)
    if images and not all_pages:
        all_pages = ocr_images(images, source=source)
        if card is None:
            card = card_from_images(images, cfg)
    if not all_pages:
        if card is None:
            raise InputError("nothing to extract from", remedy="give page images, --ocr-json FILE or a QR code")
        return qr_extraction(card)
    extraction = extract_pages(all_pages, config=cfg)
    return merge_qr(extraction, card) if card is not None else extraction
