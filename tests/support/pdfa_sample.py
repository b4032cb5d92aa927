"""Build small PDF/A-2b documents (img2pdf + pikepdf.pdfa) for signing tests and benchmarks.

Like the spine's builder, the XMP carries the Art. 9 fields in the spine's declared extension
schema (``service.pdf.xmp``), so signing is tested on files shaped like the real ones.
"""

from __future__ import annotations

import io

import img2pdf
import pikepdf
import pikepdf.pdfa
from PIL import Image, ImageDraw

from service.domain.fields import FieldSource, FieldValue, Metadata
from service.pdf import xmp


def make_pdfa2b(pages: int = 1, *, dpi: int = 100, title: str = "Giấy chứng nhận thử nghiệm",
                result_code: str = "036088001234.KQ.G15.000031") -> bytes:
    """An A4 colour scan-like PDF/A-2b with ``pages`` pages (image only, as captured)."""
    images = []
    w, h = int(8.27 * dpi), int(11.69 * dpi)
    for n in range(pages):
        img = Image.new("RGB", (w, h), (250, 248, 240))
        draw = ImageDraw.Draw(img)
        draw.rectangle((w // 10, h // 8, w - w // 10, h // 8 + 40), outline=(20, 20, 120), width=3)
        draw.text((w // 8, h // 4), f"page {n + 1}", fill=(0, 0, 0))
        buf = io.BytesIO()
        img.save(buf, format="JPEG", quality=70, dpi=(dpi, dpi))
        images.append(buf.getvalue())
    raw = img2pdf.convert(images, layout_fun=img2pdf.get_fixed_dpi_layout_fun((dpi, dpi)))
    pdf = pikepdf.open(io.BytesIO(raw))
    with pdf.open_metadata(set_pikepdf_as_editor=False) as meta:
        meta["dc:title"] = title
    pikepdf.pdfa.prepare(pdf, "2b", output_intent="sRGB")
    metadata = Metadata(document_type_code="KQ.G15.000031",
                        document_name=FieldValue(title, FieldSource.MANUAL, 1.0))
    packet = xmp.inject(pdf.Root.Metadata.read_bytes().decode("utf-8"), xmp.art9_properties(metadata, result_code))
    pdf.Root.Metadata = pdf.make_stream(packet.encode("utf-8"), Type=pikepdf.Name.Metadata,
                                        Subtype=pikepdf.Name.XML)
    out = io.BytesIO()
    pdf.save(out, **pikepdf.pdfa.resolve_save_kwargs("2b"))
    return out.getvalue()
