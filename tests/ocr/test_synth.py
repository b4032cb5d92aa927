"""The test-document renderer: layout, ground truth and bad arguments."""

from __future__ import annotations

import unicodedata

import pytest

from service.domain.errors import InputError
from service.synth.model import SampleDocument, vn_date_words
from service.synth.render import render_document
from service.synth.samples import sample_document, sample_documents


def test_samples_are_packaged_and_cover_documents_and_certificates() -> None:
    docs = sample_documents()
    kinds = {d.kind for d in docs}
    assert kinds == {"document", "certificate"}
    assert all(d.owner is not None for d in docs if d.kind == "certificate")


def test_clean_page_has_header_lines_in_nd30_order() -> None:
    doc = sample_document("qd-2083-bac-lieu")
    pages = render_document(doc, dpi=200)
    page = pages[0]
    assert page.image.mode == "RGB" and page.dpi == 200
    assert page.image.size == (1654, 2339)  # A4 at 200 dpi
    number, date = page.line_with_role("number"), page.line_with_role("date")
    motto = page.line_with_role("motto")
    agency = page.line_with_role("agency")
    assert number is not None and number.text == "Số: 2083/QĐ-UBND"
    assert date is not None and date.text == "Bạc Liêu, ngày 08 tháng 12 năm 2016"
    assert motto is not None and motto.text == "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"
    assert agency is not None
    # agency left of the motto, "Số" under the agency, date under the motto
    assert agency.box[2] < motto.box[0] + 50
    assert number.box[1] > agency.box[3] and date.box[1] > motto.box[3]
    assert number.box[2] < date.box[0]
    for line in page.lines:
        assert unicodedata.is_normalized("NFC", line.text)
        x0, y0, x1, y1 = line.box
        assert 0 <= x0 < x1 <= page.image.width and 0 <= y0 < y1 <= page.image.height


def test_long_document_gets_numbered_continuation_pages() -> None:
    pages = render_document(sample_document("luat-24-2018-qh14"), dpi=200)
    assert len(pages) >= 2
    assert pages[0].line_with_role("page_number") is None
    num = pages[1].line_with_role("page_number")
    assert num is not None and num.text == "2"


def test_certificate_has_key_value_lines() -> None:
    page = render_document(sample_document("gxn-cu-tru-0001"), dpi=200)[0]
    fields = [ln.text for ln in page.lines if ln.role == "field"]
    assert "Họ và tên: NGUYỄN VĂN THỬ" in fields
    assert "Ngày sinh: 14/02/1988" in fields
    assert "Số định danh cá nhân: 036088001234" in fields
    assert any(f.startswith("Nơi cư trú: Xóm 5") for f in fields)
    assert "Có giá trị đến ngày 05/09/2024" in fields


@pytest.mark.parametrize("condition", ["scanner", "phone"])
def test_degraded_pages_keep_boxes_inside_and_are_deterministic(condition: str) -> None:
    doc = sample_document("gxn-hon-nhan-0002")
    a = render_document(doc, dpi=150, condition=condition, seed=7)[0]
    b = render_document(doc, dpi=150, condition=condition, seed=7)[0]
    assert a.image.tobytes() == b.image.tobytes()
    assert [ln.box for ln in a.lines] == [ln.box for ln in b.lines]
    for line in a.lines:
        x0, y0, x1, y1 = line.box
        assert 0 <= x0 < x1 <= a.image.width and 0 <= y0 < y1 <= a.image.height


@pytest.mark.parametrize("font", ["liberation", "dejavu", "noto"])
def test_every_font_renders_vietnamese(font: str) -> None:
    page = render_document(sample_document("qd-1456-nam-dinh"), dpi=150, font=font)[0]
    assert page.line_with_role("doctype") is not None


def test_date_words_follow_nd30_zero_padding() -> None:
    assert vn_date_words("2021-07-09") == "ngày 09 tháng 7 năm 2021"
    assert vn_date_words("2015-01-06") == "ngày 06 tháng 01 năm 2015"
    assert vn_date_words("2016-12-18") == "ngày 18 tháng 12 năm 2016"


@pytest.mark.parametrize("kwargs", [{"dpi": 72}, {"font": "comic"}, {"condition": "fax"}])
def test_bad_arguments_are_input_errors(kwargs: dict[str, object]) -> None:
    with pytest.raises(InputError) as err:
        render_document(sample_document("qd-2083-bac-lieu"), **kwargs)  # type: ignore[arg-type]
    assert err.value.remedy


def test_unrenderable_characters_are_refused() -> None:
    doc = SampleDocument(id="x", doc_type="Quyết định", title="T", issuing_body="UBND", issue_date="2024-01-01",
                         place="Hà Nội", body=("中文字符",))
    with pytest.raises(InputError, match="cannot render"):
        render_document(doc)
