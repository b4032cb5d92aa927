"""PDF/A-2b assembly: validity, 100 % scale, no lossy re-encode, XMP fields, Vietnamese text layer."""

from __future__ import annotations

import io
import subprocess
from pathlib import Path

import pikepdf
import pytest
from PIL import Image

from service.capture import CaptureConfig, RawPage, assemble
from service.domain.errors import ConfigError, IntegrityError, PdfError
from service.domain.fields import FieldSource, FieldValue, Metadata
from service.ocr.types import OcrLine, OcrPage
from service.pdf import PdfConfig, build_pdfa, validate_pdfa
from service.pdf.xmp import NS_URI

from .helpers import DOC_TYPE, OWNER, page_image

VIET = "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM — Độc lập - Tự do - Hạnh phúc"
META = Metadata(
    DOC_TYPE,
    owner_id=FieldValue(OWNER, FieldSource.MANUAL),
    document_name=FieldValue("Giấy khai sinh <bản sao> & \"trích lục\"", FieldSource.OCR, 0.93),
    summary=FieldValue("Trích lục khai sinh của công dân", FieldSource.MANUAL),
    issue_date=FieldValue("2022-08-09", FieldSource.MANUAL),
    extra={"certificate_number": FieldValue("AB-123", FieldSource.QR, 0.99)},
)
CODE = f"{OWNER}.{DOC_TYPE}"


def capture(*datas: bytes):  # type: ignore[no-untyped-def]
    return assemble([RawPage(d, f"p{i}") for i, d in enumerate(datas)], config=CaptureConfig())


@pytest.fixture(scope="module")
def two_page_pdf() -> tuple[bytes, bytes, bytes]:
    jpg = page_image(size=(2480, 3508), dpi=300)
    png = page_image(size=(1654, 2339), dpi=200, fmt="PNG", seed=4)
    ocr = OcrPage(2480, 3508, (OcrLine(VIET, (200, 150, 2300, 230), 0.97),
                               OcrLine("Số: 1403/QĐ-UBND", (200, 300, 900, 360), 0.9)))
    pdf = build_pdfa(capture(jpg, png), META, CODE, ocr_pages=[ocr, None])
    return pdf, jpg, png


def test_output_is_valid_pdfa_2b_and_passes_qpdf(two_page_pdf: tuple[bytes, bytes, bytes], tmp_path: Path) -> None:
    pdf, _, _ = two_page_pdf
    assert validate_pdfa(pdf).ok
    f = tmp_path / "o.pdf"
    f.write_bytes(pdf)
    assert subprocess.run(["qpdf", "--check", str(f)], capture_output=True).returncode == 0
    with pikepdf.open(io.BytesIO(pdf)) as doc:
        intent = doc.Root.OutputIntents[0]
        assert intent.S == "/GTS_PDFA1" and "sRGB" in str(intent.OutputConditionIdentifier)
        with doc.open_metadata() as meta:
            assert meta["pdfaid:part"] == "2" and meta["pdfaid:conformance"] == "B"


def test_pages_are_colour_at_100_percent_scale(two_page_pdf: tuple[bytes, bytes, bytes]) -> None:
    pdf, _, _ = two_page_pdf
    with pikepdf.open(io.BytesIO(pdf)) as doc:
        boxes = [[round(float(v)) for v in p.mediabox] for p in doc.pages]
    assert boxes[0] == [0, 0, 595, 842]  # 2480x3508 px at 300 dpi = A4
    assert boxes[1] == [0, 0, 595, 842]  # 1654x2339 px at 200 dpi = A4


def test_jpeg_passes_through_and_png_stays_lossless(two_page_pdf: tuple[bytes, bytes, bytes]) -> None:
    pdf, jpg, png = two_page_pdf
    with pikepdf.open(io.BytesIO(pdf)) as doc:
        images = [next(iter(p.get_images().values())) for p in doc.pages]
        assert images[0].Filter == "/DCTDecode"
        assert images[0].read_raw_bytes() == jpg
        assert images[0].ColorSpace == "/DeviceRGB" or "ICC" in str(images[0].ColorSpace)
        assert images[1].Filter != "/DCTDecode"
        decoded = pikepdf.PdfImage(images[1]).as_pil_image()
    assert decoded.tobytes() == Image.open(io.BytesIO(png)).convert("RGB").tobytes()


def test_xmp_carries_art9_fields_in_a_declared_extension_schema(two_page_pdf: tuple[bytes, bytes, bytes]) -> None:
    pdf, _, _ = two_page_pdf
    with pikepdf.open(io.BytesIO(pdf)) as doc:
        xmp = doc.Root.Metadata.read_bytes().decode("utf-8")
        with doc.open_metadata() as meta:
            assert meta["dc:title"] == "Giấy khai sinh <bản sao> & \"trích lục\""
    assert f"<pdfaSchema:namespaceURI>{NS_URI}</pdfaSchema:namespaceURI>" in xmp
    assert f"<sohoa:resultCode>{CODE}</sohoa:resultCode>" in xmp
    assert "<sohoa:issueDate>2022-08-09</sohoa:issueDate>" in xmp
    assert "&lt;bản sao&gt; &amp;" in xmp  # escaped, not injected
    assert "certificate_number" in xmp  # extra fields ride in sohoa:metadataJson


def test_text_layer_is_invisible_embedded_and_copyable_vietnamese(two_page_pdf: tuple[bytes, bytes, bytes],
                                                                  tmp_path: Path) -> None:
    pdf, _, _ = two_page_pdf
    f = tmp_path / "o.pdf"
    f.write_bytes(pdf)
    text = subprocess.run(["pdftotext", "-f", "1", "-l", "1", str(f), "-"], capture_output=True,
                          text=True).stdout
    assert VIET in text and "Số: 1403/QĐ-UBND" in text
    fonts = subprocess.run(["pdffonts", str(f)], capture_output=True, text=True).stdout.splitlines()[2:]
    assert fonts and all(" yes " in ln and "DejaVuSans" in ln for ln in fonts)  # embedded
    with pikepdf.open(f) as doc:
        modes = []
        for xobj in doc.pages[0].Resources.XObject.values():
            if xobj.get("/Subtype") == "/Form":
                modes += [int(operands[0]) for operands, op in pikepdf.parse_content_stream(xobj)
                          if str(op) == "Tr"]
    assert modes and set(modes) == {3}  # every text run is invisible (render mode 3)
    page2 = subprocess.run(["pdftotext", "-f", "2", "-l", "2", str(f), "-"], capture_output=True, text=True).stdout
    assert page2.strip() == ""


def test_tampered_page_bytes_are_refused_before_assembly() -> None:
    import dataclasses

    cap = capture(page_image())
    bad = dataclasses.replace(cap, pages=(dataclasses.replace(cap.pages[0], data=page_image(seed=3)),))
    with pytest.raises(IntegrityError):
        build_pdfa(bad, META, CODE)


def test_ocr_count_must_match_pages() -> None:
    with pytest.raises(PdfError, match="OCR results"):
        build_pdfa(capture(page_image()), META, CODE, ocr_pages=[None, None])


def test_text_layer_font_must_load_and_cover_vietnamese(tmp_path: Path) -> None:
    ocr = OcrPage(620, 877, (OcrLine("Việt", (10, 10, 100, 40), 1.0),))
    with pytest.raises(ConfigError, match="cannot be loaded"):
        build_pdfa(capture(page_image()), META, CODE, ocr_pages=[ocr],
                   config=PdfConfig(text_font=tmp_path / "missing.ttf"))
    no_vietnamese = Path("/usr/share/fonts/truetype/noto/NotoSansLinearB-Regular.ttf")
    assert no_vietnamese.exists(), "fonts-noto-core comes from provisioning/system/apt-packages.txt"
    with pytest.raises(ConfigError, match="lacks Vietnamese letters"):
        build_pdfa(capture(page_image()), META, CODE, ocr_pages=[ocr], config=PdfConfig(text_font=no_vietnamese))


def test_validator_refuses_plain_and_broken_pdfs(two_page_pdf: tuple[bytes, bytes, bytes]) -> None:
    pdf, _, _ = two_page_pdf
    plain = io.BytesIO()
    with pikepdf.new() as doc:
        doc.add_blank_page()
        doc.save(plain)
    report = validate_pdfa(plain.getvalue())
    assert not report.ok and report.problems
    truncated = validate_pdfa(pdf[: len(pdf) // 2])
    assert not truncated.ok
    with pikepdf.open(io.BytesIO(pdf)) as doc:  # an undeclared custom XMP property is refused
        xmp = doc.Root.Metadata.read_bytes().decode("utf-8")
        xmp = xmp.replace("<sohoa:resultCode>", "<sohoa:sneaky>x</sohoa:sneaky><sohoa:resultCode>")
        doc.Root.Metadata = doc.make_stream(xmp.encode("utf-8"), Type=pikepdf.Name.Metadata,
                                            Subtype=pikepdf.Name.XML)
        out = io.BytesIO()
        doc.save(out)
    sneaky = validate_pdfa(out.getvalue())
    assert not sneaky.ok and any("sneaky" in p for p in sneaky.problems)


def test_an_invalid_product_is_refused_not_returned() -> None:
    """A CMYK JPEG placed as is would break PDF/A-2b (DeviceCMYK with an sRGB intent): PdfError."""
    import hashlib

    from service.capture.types import CaptureSet, ColourMode, PageImage

    img = Image.new("CMYK", (700, 990), (0, 50, 50, 0))
    buf = io.BytesIO()
    img.save(buf, "JPEG", dpi=(300, 300))
    data = buf.getvalue()
    page = PageImage(data, "image/jpeg", 700, 990, 300.0, ColourMode.COLOUR, hashlib.sha256(data).hexdigest())
    with pytest.raises(PdfError, match="not valid PDF/A-2b") as exc:
        build_pdfa(CaptureSet((page,)), META, CODE)
    assert "DeviceCMYK" in exc.value.message


def test_cmyk_input_is_converted_so_the_product_stays_valid() -> None:
    img = Image.new("CMYK", (700, 990), (0, 50, 50, 0))
    buf = io.BytesIO()
    img.save(buf, "JPEG", dpi=(300, 300))
    cap = capture(buf.getvalue())
    assert cap.pages[0].media_type == "image/png"
    assert validate_pdfa(build_pdfa(cap, META, CODE)).ok
