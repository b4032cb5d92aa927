"""File upload at the desk: an image or a PDF of scans, split into page images to validate.

Every page that comes out is checked like any capture (decode checks, capture rules, quality).
A PDF page holding one JPEG image keeps that JPEG byte for byte (only its JFIF density is set to
the resolution the page gives it); any other page is rendered by poppler at ``scan_dpi``.
"""

from __future__ import annotations

import io
import struct
import subprocess
import tempfile
from pathlib import Path

import numpy as np
import pikepdf
from PIL import Image

from service.capture.config import CaptureConfig
from service.capture.encoding import array_jpeg
from service.errors import InputError

_PDF_REMEDY = "export the scan again as a PDF (or as JPEG/PNG images) and upload it"
_RENDER_TIMEOUT_S = 120


def split_upload(data: bytes, config: CaptureConfig) -> list[bytes]:
    """The page images of one uploaded file (an image is one page); InputError when it cannot be used."""
    if len(data) > config.upload_max_bytes:
        raise InputError(f"upload: file is {len(data)} bytes, larger than the {config.upload_max_bytes}-byte limit",
                         remedy="upload a smaller file (fewer pages, or 200-300 dpi)")
    if not data:
        raise InputError("upload: file is empty", remedy="choose the file again")
    if data.startswith(b"%PDF") or data[:1024].find(b"%PDF-") >= 0:
        return pdf_pages(data, config)
    return [data]


def pdf_pages(data: bytes, config: CaptureConfig) -> list[bytes]:
    """Each page of a PDF of scans as one image (its own JPEG when it holds exactly one)."""
    try:
        pdf = pikepdf.open(io.BytesIO(data))
    except pikepdf.PasswordError as exc:
        raise InputError("upload: the PDF is password-protected", remedy="upload it without a password") from exc
    except (pikepdf.PdfError, ValueError) as exc:
        raise InputError("upload: the PDF is corrupt or truncated", remedy=_PDF_REMEDY) from exc
    with pdf:
        count = len(pdf.pages)
        if count == 0:
            raise InputError("upload: the PDF has no pages", remedy=_PDF_REMEDY)
        if count > config.upload_max_pages:
            raise InputError(f"upload: the PDF has {count} pages, more than the {config.upload_max_pages}-page limit",
                             remedy="split the PDF and upload each paper separately")
        out: list[bytes | None] = []
        for page in pdf.pages:
            try:
                out.append(_page_jpeg(page))
            except (pikepdf.PdfError, KeyError, ValueError, AttributeError):
                out.append(None)
    if any(p is None for p in out):
        rendered = _render(data, config.scan_dpi, count)
        out = [p if p is not None else rendered[i] for i, p in enumerate(out)]
    return [p for p in out if p is not None]


def _page_jpeg(page: pikepdf.Page) -> bytes | None:
    """The page's only image when it is a plain JPEG covering the page, with its dpi set; else None."""
    images = list(page.get_images(recursive=False).values())
    if len(images) != 1:
        return None
    stream = images[0]
    if not isinstance(stream, pikepdf.Stream):
        return None
    img = pikepdf.PdfImage(stream)
    filters = img.filters
    if filters != ["/DCTDecode"] or img.colorspace not in ("/DeviceRGB", "/DeviceGray"):
        return None
    box = [float(v) for v in page.mediabox]
    width_in = abs(box[2] - box[0]) / 72.0
    if width_in <= 0:
        return None
    dpi = round(img.width / width_in)
    return set_jpeg_dpi(bytes(stream.read_raw_bytes()), dpi)


def set_jpeg_dpi(jpeg: bytes, dpi: int) -> bytes:
    """``jpeg`` with its JFIF density set to ``dpi`` (header only: the image data is not touched)."""
    if not jpeg.startswith(b"\xff\xd8"):
        raise ValueError("not a JPEG")
    dpi = max(1, min(dpi, 65535))
    app0 = b"JFIF\x00\x01\x01" + struct.pack(">BHHBB", 1, dpi, dpi, 0, 0)
    segment = b"\xff\xe0" + struct.pack(">H", len(app0) + 2) + app0
    if jpeg[2:4] == b"\xff\xe0" and jpeg[6:11] == b"JFIF\x00":
        length = struct.unpack(">H", jpeg[4:6])[0]
        return jpeg[:2] + segment + jpeg[4 + length:]
    return jpeg[:2] + segment + jpeg[2:]


def _render(data: bytes, dpi: int, count: int) -> list[bytes]:
    """Every page rendered by poppler's ``pdftoppm`` at ``dpi`` as colour JPEG q90."""
    with tempfile.TemporaryDirectory(prefix="sohoa-upload-") as tmp:
        src = Path(tmp) / "in.pdf"
        src.write_bytes(data)
        try:
            subprocess.run(["pdftoppm", "-r", str(dpi), "-png", str(src), str(Path(tmp) / "p")],
                           check=True, capture_output=True, timeout=_RENDER_TIMEOUT_S)
        except (subprocess.CalledProcessError, subprocess.TimeoutExpired, OSError) as exc:
            raise InputError("upload: the PDF pages cannot be rendered", remedy=_PDF_REMEDY) from exc
        files = sorted(Path(tmp).glob("p-*.png"))
        if len(files) != count:
            raise InputError("upload: the PDF pages cannot be rendered", remedy=_PDF_REMEDY)
        out = []
        for f in files:
            with Image.open(f) as img:
                out.append(array_jpeg(np.asarray(img.convert("RGB")), dpi=dpi))
        return out
