"""PAdES signatures on PDF/A-2b: placement, appearance, both signatures valid, RSA and EC, B-T, verify."""

from __future__ import annotations

import datetime as dt
import io

import img2pdf
import pikepdf
import pytest

from service.domain.errors import InputError
from service.signing.errors import PdfaBroken
from service.signing.pades import VN_TZ, sign_pdf, sign_pdf_ex
from service.signing.pdfa_check import check_pdfa2b, pdfa_part
from service.signing.signer import SignatureRole
from service.signing.verify import verify_pdf
from tests.signing.conftest import AGENCY, OFFICER

WHEN = dt.datetime(2023, 4, 5, 14, 30, 15, tzinfo=VN_TZ)


def _both(sample_pdf, session_tokens, make_signer, kind, **kw):
    officer = make_signer(session_tokens[f"officer-{kind}"], SignatureRole.OFFICER)
    agency = make_signer(session_tokens[f"agency-{kind}"], SignatureRole.AGENCY)
    officer.login(lambda: "123456")
    agency.login(lambda: "123456")
    one = sign_pdf_ex(sample_pdf, officer, SignatureRole.OFFICER, signer_name=OFFICER, when=WHEN, **kw)
    two = sign_pdf_ex(one.pdf, agency, SignatureRole.AGENCY, signer_name=AGENCY, agency_name=AGENCY,
                      when=WHEN + dt.timedelta(minutes=3), **kw)
    return one, two


def _widgets(pdf: bytes) -> dict[str, tuple[list[float], bytes, bool, str]]:
    """Signature widgets of page 1: /Rect, appearance stream, whether its font is embedded."""
    out = {}
    with pikepdf.open(io.BytesIO(pdf)) as doc:
        for annot in doc.pages[0].obj.get("/Annots", []):
            if annot.get("/FT") == "/Sig":
                ap = annot.AP.N
                font = next(iter(ap.Resources.Font.values()))
                embedded = "/FontFile2" in font.DescendantFonts[0].FontDescriptor
                out[str(annot.T)] = ([float(v) for v in annot.Rect], ap.read_bytes(), embedded,
                                     _actual_texts(ap))
    return out


@pytest.mark.parametrize("kind", ["rsa", "ec"])
def test_officer_then_agency_both_valid_visible_and_pdfa(sample_pdf, session_tokens, make_signer, trust_roots,
                                                         kind):
    one, two = _both(sample_pdf, session_tokens, make_signer, kind)
    # incremental: the original bytes are a prefix of each signed revision
    assert one.pdf.startswith(sample_pdf) and two.pdf.startswith(one.pdf)
    report = verify_pdf(two.pdf, trust_roots)
    assert report.pdfa == "2b"
    assert [s.signer for s in report.signatures] == [OFFICER, AGENCY]
    for sig in report.signatures:
        assert sig.intact and sig.valid and sig.trusted and sig.page == 1 and not sig.timestamped
    assert report.signatures[0].signing_time == "2023-04-05T14:30:15+07:00"
    assert report.signatures[1].signing_time == "2023-04-05T14:33:15+07:00"

    with pikepdf.open(io.BytesIO(two.pdf)) as doc:
        width, height = float(doc.pages[0].mediabox[2]), float(doc.pages[0].mediabox[3])
        assert str(doc.Root.get("/Version", "/1.7")) in ("/1.7", "/1.5", "/1.6")  # never PDF 2.0 (EC keys!)
        assert "/Perms" not in doc.Root  # approval signatures only, no certification
    assert two.pdf.startswith(b"%PDF-1.")
    widgets = _widgets(two.pdf)
    officer_rect, officer_ap, officer_font_embedded, officer_text = widgets["Sig1_officer"]
    agency_rect, agency_ap, agency_font_embedded, actual = widgets["Sig2_agency"]
    # TT 01/2023 Art. 8: officer top-left; NĐ 30/2020 Phụ lục I: agency top-right of page 1
    assert officer_rect[0] < width * 0.1 and officer_rect[2] < width / 2 and officer_rect[3] > height - 40
    assert agency_rect[2] > width * 0.9 and agency_rect[0] > width / 2 and agency_rect[3] > height - 40
    assert [round(v, 2) for v in officer_rect] == report.signatures[0].box
    assert [round(v, 2) for v in agency_rect] == report.signatures[1].box
    # agency: text only, 10 pt, black, embedded font; content: copy form, agency name, ISO 8601 +07:00
    assert officer_font_embedded and agency_font_embedded
    assert b" 10 Tf" in agency_ap and b"0 0 0 rg" in agency_ap and b" Do" not in agency_ap
    assert "SAO Y" in actual and AGENCY in actual and "2023-04-05T14:33:15+07:00" in actual
    assert OFFICER in officer_text and "2023-04-05T14:30:15+07:00" in officer_text
    assert check_pdfa2b(two.pdf) == [] and pdfa_part(two.pdf) == "2b"


def _actual_texts(stream: pikepdf.Stream) -> str:
    """The /ActualText strings of an appearance stream's marked-content spans, joined."""
    texts = []
    for operands, op in pikepdf.parse_content_stream(stream):
        if str(op) == "BDC" and isinstance(operands[1], pikepdf.Dictionary) and "/ActualText" in operands[1]:
            texts.append(str(operands[1].ActualText))
    return " | ".join(texts)


def test_untrusted_ca_is_valid_but_not_trusted(sample_pdf, session_tokens, make_signer, pki):
    from asn1crypto import x509 as asn1_x509
    from cryptography.hazmat.primitives import serialization

    _, two = _both(sample_pdf, session_tokens, make_signer, "rsa")
    other = asn1_x509.Certificate.load(pki.other_ca.cert.public_bytes(serialization.Encoding.DER))
    report = verify_pdf(two.pdf, [other])
    assert all(s.valid and s.intact and not s.trusted for s in report.signatures)


def test_tampered_file_is_not_intact(sample_pdf, session_tokens, make_signer, trust_roots):
    officer = make_signer(session_tokens["officer-rsa"])
    officer.login(lambda: "123456")
    signed = bytearray(sign_pdf(sample_pdf, officer, SignatureRole.OFFICER, signer_name=OFFICER, when=WHEN))
    at = signed.index(b"stream\n", 1000) + 200  # inside the first image stream (signed range)
    signed[at] ^= 0xFF
    report = verify_pdf(bytes(signed), trust_roots)
    assert report.signatures[0].intact is False and report.signatures[0].valid is False


def test_corrupt_and_non_pdf_input_give_input_error(sample_pdf, trust_roots, session_tokens, make_signer):
    with pytest.raises(InputError, match="not a PDF"):
        verify_pdf(b"hello, this is not a PDF", trust_roots)
    with pytest.raises(InputError):
        verify_pdf(sample_pdf[: len(sample_pdf) // 3], trust_roots)
    officer = make_signer(session_tokens["officer-rsa"])
    officer.login(lambda: "123456")
    with pytest.raises(InputError):
        sign_pdf(b"%PDF-1.7\n garbage", officer, SignatureRole.OFFICER, signer_name=OFFICER)


def test_non_pdfa_input_is_refused_and_left_alone(session_tokens, make_signer):
    import PIL.Image

    buf = io.BytesIO()
    PIL.Image.new("RGB", (200, 280), (255, 255, 255)).save(buf, format="JPEG")
    plain = img2pdf.convert(buf.getvalue())
    officer = make_signer(session_tokens["officer-rsa"])
    officer.login(lambda: "123456")
    with pytest.raises(PdfaBroken, match="not PDF/A-2b before signing"):
        sign_pdf(plain, officer, SignatureRole.OFFICER, signer_name=OFFICER)


def test_b_t_with_local_tsa_and_offline_fallback(sample_pdf, session_tokens, make_signer, trust_roots, tsa):
    one, two = _both(sample_pdf, session_tokens, make_signer, "rsa", tsa_url=tsa.url)
    assert one.timestamped and two.timestamped and tsa.requests >= 2
    report = verify_pdf(two.pdf, trust_roots)
    assert [s.timestamped for s in report.signatures] == [True, True]
    assert all(s.valid and s.trusted for s in report.signatures)
    assert report.pdfa == "2b"
    # a TSA that does not answer: signed offline (B-B), flagged for later augmentation
    officer = make_signer(session_tokens["officer-ec"])
    officer.login(lambda: "123456")
    offline = sign_pdf_ex(sample_pdf, officer, SignatureRole.OFFICER, signer_name=OFFICER,
                          tsa_url="http://127.0.0.1:9/tsa", tsa_timeout_s=2)
    assert offline.timestamped is False
    assert verify_pdf(offline.pdf, trust_roots).signatures[0].timestamped is False


def test_spine_xmp_extension_schema_survives_signing(sample_pdf, session_tokens, make_signer):
    """pyHanko would re-serialise the XMP and rename the ``sohoa`` prefix to ``ns0`` (a PDF/A violation)."""
    _, two = _both(sample_pdf, session_tokens, make_signer, "ec")
    with pikepdf.open(io.BytesIO(two.pdf)) as doc:
        packet = doc.Root.Metadata.read_bytes()
    with pikepdf.open(io.BytesIO(sample_pdf)) as doc:
        assert packet == doc.Root.Metadata.read_bytes()  # metadata untouched by the signature revisions
    assert b"<sohoa:resultCode>" in packet and b"ns0:" not in packet
    assert check_pdfa2b(two.pdf) == []


def test_font_without_vietnamese_glyphs_is_refused_before_signing(sample_pdf, session_tokens, make_signer):
    from pathlib import Path

    from service.domain.errors import SigningError

    v1 = Path("/usr/share/fonts/truetype/liberation/LiberationSerif-Regular.ttf")  # fonts-liberation 1.x
    assert v1.exists(), "fonts-liberation (v1) comes from provisioning/system/apt-packages.txt"
    officer = make_signer(session_tokens["officer-rsa"])
    officer.login(lambda: "123456")
    with pytest.raises(SigningError, match="no glyph") as err:
        sign_pdf(sample_pdf, officer, SignatureRole.OFFICER, signer_name=OFFICER, font=v1)
    assert "fonts-liberation2" in (err.value.remedy or "")


def test_pdfa_check_catches_what_a_signature_could_break(sample_pdf):
    with pikepdf.open(io.BytesIO(sample_pdf)) as doc:
        doc.Root.Version = pikepdf.Name("/2.0")  # what pyHanko does for EC keys unless prevented
        doc.Root.AcroForm = pikepdf.Dictionary(Fields=pikepdf.Array(), NeedAppearances=True)
        out = io.BytesIO()
        doc.save(out)
    problems = check_pdfa2b(out.getvalue())
    assert any("/Version /2.0" in p for p in problems) and any("NeedAppearances" in p for p in problems)
    assert pdfa_part(b"not a pdf") is None
