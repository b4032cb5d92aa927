"""PDF/A-2b assembly from page images, and the validation every produced file must pass.

Each page is placed at 100 % scale (its effective dpi), JPEG passes through untouched and PNG
stays lossless (img2pdf); an sRGB output intent, XMP with the Art. 9 fields, and an optional
invisible text layer are added; the bytes are then validated (pikepdf's PDF/A-2b validator and
``qpdf --check``'s steps through libqpdf) and refused with :class:`PdfError` if anything is wrong.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Sequence
from dataclasses import dataclass

import img2pdf
import pikepdf
from pikepdf import pdfa

from service.capture.types import CaptureSet, PageImage
from service.domain.errors import PdfError
from service.domain.fields import Metadata
from service.ocr.types import OcrPage
from service.pdf import xmp
from service.pdf.config import PdfConfig
from service.pdf.textlayer import overlay

log = logging.getLogger(__name__)
FLAVOUR = "2b"


@dataclass(frozen=True, slots=True)
class PdfReport:
    """Outcome of :func:`validate_pdfa`: ``ok`` and the problems found (empty when ok)."""

    ok: bool
    problems: tuple[str, ...]


def _page_pdf(page: PageImage) -> bytes:
    """One page at 100 % scale: the image's physical size follows its effective dpi."""
    layout = img2pdf.get_fixed_dpi_layout_fun((page.dpi, page.dpi))
    try:
        out = img2pdf.convert(page.data, layout_fun=layout, rotation=img2pdf.Rotation.ifvalid)
    except (img2pdf.ImageOpenError, img2pdf.AlphaChannelError, ValueError, OSError) as exc:
        raise PdfError(f"a page image cannot be placed in the PDF ({type(exc).__name__})",
                       remedy="capture the page again as JPEG or PNG") from exc
    assert isinstance(out, bytes)
    return out


def _set_metadata(pdf: pikepdf.Pdf, metadata: Metadata, result_code: str) -> None:
    """Dublin Core title/description/identifier (kept by PDF/A preparation)."""
    with pdf.open_metadata(set_pikepdf_as_editor=False) as meta:
        name = metadata.document_name.value if metadata.document_name else metadata.document_type_code
        meta["dc:title"] = name
        if metadata.summary and metadata.summary.value:
            meta["dc:description"] = metadata.summary.value
        meta["dc:identifier"] = result_code
        meta["xmp:CreatorTool"] = "sohoa-edge"


def build_pdfa(capture: CaptureSet, metadata: Metadata, result_code: str, *,
               ocr_pages: Sequence[OcrPage | None] | None = None, config: PdfConfig | None = None) -> bytes:
    """Assemble, validate and return a PDF/A-2b document; :class:`PdfError` if it is not valid.

    ``ocr_pages`` (one per page image, ``None`` for a page without OCR) adds the invisible text
    layer. Every page's capture hash is re-checked first (:class:`IntegrityError` on a mismatch).
    """
    cfg = config or PdfConfig()
    if ocr_pages is not None and len(ocr_pages) != len(capture.pages):
        raise PdfError(f"{len(ocr_pages)} OCR results for {len(capture.pages)} pages",
                       remedy="run OCR on every page (or on none) before assembling the PDF")
    for page in capture.pages:
        page.verify()
    pdf = pikepdf.new()
    sources: list[pikepdf.Pdf] = []
    try:
        for i, page in enumerate(capture.pages):
            src = pikepdf.open(io.BytesIO(_page_pdf(page)))
            sources.append(src)
            pdf.pages.append(src.pages[0])
            ocr = ocr_pages[i] if ocr_pages is not None else None
            if ocr is not None and ocr.lines:
                target = pdf.pages[-1]
                box = target.mediabox
                width, height = float(box[2]) - float(box[0]), float(box[3]) - float(box[1])
                layer = pikepdf.open(io.BytesIO(overlay(ocr, width, height, cfg.text_font)))
                sources.append(layer)
                target.add_overlay(layer.pages[0], pikepdf.Rectangle(box))
        _set_metadata(pdf, metadata, result_code)
        pdfa.prepare(pdf, FLAVOUR, output_intent="sRGB")
        raw = pdf.Root.Metadata.read_bytes().decode("utf-8")
        packet = xmp.inject(raw, xmp.art9_properties(metadata, result_code))
        pdf.Root.Metadata = pdf.make_stream(packet.encode("utf-8"), Type=pikepdf.Name.Metadata,
                                            Subtype=pikepdf.Name.XML)
        kwargs = pdfa.resolve_save_kwargs(FLAVOUR)
        out = io.BytesIO()
        pdf.save(out, **kwargs)
    except pikepdf.PdfError as exc:
        raise PdfError(f"the PDF could not be assembled ({exc})", remedy="capture the pages again") from exc
    finally:
        for src in sources:
            src.close()
        pdf.close()
    data = out.getvalue()
    report = validate_pdfa(data, config=cfg)
    if not report.ok:
        log.error("produced PDF failed validation: %s", "; ".join(report.problems[:5]))
        raise PdfError("the produced PDF is not valid PDF/A-2b: " + "; ".join(report.problems[:5]),
                       remedy="report this to the technician; nothing was stored")
    return data


def _qpdf_check(data: bytes) -> list[str]:
    """Structural check, the steps of ``qpdf --check`` run in-process by libqpdf (no temp file).

    Returns problems (empty when clean); warnings count as problems for an archival file.
    """
    try:
        with pikepdf.open(io.BytesIO(data)) as pdf:
            found = pdf.check_pdf_syntax()
    except pikepdf.PdfError as exc:
        return [f"qpdf: cannot open: {exc}"]
    return [f"qpdf: {p}" for p in found[:5]]


def validate_pdfa(data: bytes, *, config: PdfConfig | None = None) -> PdfReport:
    """Validate PDF bytes as PDF/A-2b (pikepdf allowlist validator + the ``qpdf --check`` steps).

    Only findings about the declared Art. 9 extension schema are accepted (see
    :mod:`service.pdf.xmp`); any other finding makes the report fail.
    """
    cfg = config or PdfConfig()
    problems: list[str] = []
    report = pdfa.validate_written(io.BytesIO(data), FLAVOUR)
    for f in report.findings:
        if xmp.is_declared_extension_finding(f.rule, f.message):
            continue
        problems.append(f"{f.rule}: {f.message}")
    if report.verdict != "pass" and not report.findings:
        problems.append(f"validator verdict {report.verdict}")
    if cfg.qpdf_check:
        problems.extend(_qpdf_check(data))
    if not problems and not _declares_extension(data):
        problems.append("XMP lacks the Art. 9 extension schema")
    return PdfReport(ok=not problems, problems=tuple(problems))


def _declares_extension(data: bytes) -> bool:
    """True if the XMP carries our extension schema (so our custom properties are declared)."""
    try:
        with pikepdf.open(io.BytesIO(data)) as pdf:
            meta = pdf.Root.get("/Metadata")
            if meta is None:
                return False
            text = meta.read_bytes().decode("utf-8", "replace")
    except pikepdf.PdfError:
        return False
    return f"<pdfaSchema:namespaceURI>{xmp.NS_URI}</pdfaSchema:namespaceURI>" in text
