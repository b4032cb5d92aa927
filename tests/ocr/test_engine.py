"""The OCR engine on rendered administrative pages: the lines users rely on must read exactly."""

from __future__ import annotations

import unicodedata

import numpy as np
import pytest
from PIL import Image, ImageDraw

from service.ocr.config import OcrConfig
from service.ocr.engine import get_engine
from service.ocr.metrics import levenshtein, match_lines, normalize
from service.ocr.types import OcrPage
from service.synth.fonts import load_font
from service.synth.model import RenderedPage
from service.synth.render import render_document
from service.synth.samples import sample_document


def _read(doc_id: str, *, dpi: int, condition: str, font: str = "liberation", page: int = 0,
          seed: int = 3) -> tuple[RenderedPage, OcrPage]:
    rendered = render_document(sample_document(doc_id), dpi=dpi, font=font, condition=condition, seed=seed)[page]
    source = "camera" if condition == "phone" else "scanner"
    return rendered, get_engine().read_page(rendered.image, source=source)


@pytest.fixture(scope="module")
def decision_300_clean() -> tuple[RenderedPage, OcrPage]:
    return _read("qd-1456-nam-dinh", dpi=300, condition="clean")


@pytest.fixture(scope="module")
def certificate_200_scanner() -> tuple[RenderedPage, OcrPage]:
    return _read("gxn-cu-tru-0001", dpi=200, condition="scanner")


@pytest.fixture(scope="module")
def decision_phone() -> tuple[RenderedPage, OcrPage]:
    return _read("qd-2083-bac-lieu", dpi=300, condition="phone", font="noto")


def _texts(page: OcrPage) -> list[str]:
    return [ln.text for ln in page.lines]


def _expect_roles(rendered: RenderedPage, page: OcrPage, roles: tuple[str, ...]) -> None:
    got = _texts(page)
    for truth in rendered.lines:
        if truth.role in roles:
            assert truth.text in got, f"{truth.role} line {truth.text!r} not read exactly; got {got}"


def test_number_date_and_title_read_exactly_on_a_clean_300_dpi_decision(decision_300_clean) -> None:
    rendered, page = decision_300_clean
    _expect_roles(rendered, page, ("number", "date", "doctype", "summary", "agency", "motto", "motto_sub"))
    assert "Số: 1456/QĐ-UBND" in _texts(page)
    assert "Nam Định, ngày 09 tháng 7 năm 2021" in _texts(page)


def test_certificate_key_value_lines_on_a_200_dpi_scan(certificate_200_scanner) -> None:
    rendered, page = certificate_200_scanner
    _expect_roles(rendered, page, ("number", "date", "doctype"))
    got = _texts(page)
    assert "Số định danh cá nhân: 036088001234" in got
    assert "Ngày sinh: 14/02/1988" in got


def test_phone_photo_is_rectified_and_reads_number_and_date(decision_phone) -> None:
    rendered, page = decision_phone
    _expect_roles(rendered, page, ("number", "date", "doctype"))
    score = match_lines([t.text for t in rendered.lines], _texts(page))
    assert score.page_cer < 0.03
    assert (page.width, page.height) == rendered.image.size  # boxes map back onto the photo


def test_a_photos_lines_keep_their_straightened_boxes_for_the_layout(decision_phone) -> None:
    _, page = decision_phone
    assert page.flat_size is not None and page.layout_width == page.flat_size[0]
    fw, fh = page.flat_size
    for ln in page.lines:
        assert ln.flat is not None and ln.layout_box == ln.flat
        assert 0 <= ln.flat[0] <= ln.flat[2] <= fw and 0 <= ln.flat[1] <= ln.flat[3] <= fh
        assert 0 <= ln.box[0] <= ln.box[2] <= page.width and 0 <= ln.box[1] <= ln.box[3] <= page.height
    # straightened, the centred motto and the left-aligned "Số" line stand where the layout expects
    motto = next(ln.flat for ln in page.lines if ln.text == "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM")
    number = next(ln.flat for ln in page.lines if ln.text.startswith("Số:"))
    assert motto is not None and number is not None and number[2] < motto[0]
    back = OcrPage.from_json(page.to_json())  # the JSON contract carries them
    assert back.flat_size == page.flat_size and [ln.flat for ln in back.lines] == [ln.flat for ln in page.lines]


def test_page_accuracy_and_header_reading_order(decision_300_clean) -> None:
    rendered, page = decision_300_clean
    score = match_lines([t.text for t in rendered.lines], _texts(page))
    assert score.page_cer < 0.015
    got = _texts(page)
    order = [got.index(t) for t in ("Số: 1456/QĐ-UBND", "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
                                     "Nam Định, ngày 09 tháng 7 năm 2021", "QUYẾT ĐỊNH")]
    assert order == sorted(order), "agency column, then motto column, then the title"
    agency = next(i for i, t in enumerate(got) if t.startswith("ỦY BAN NHÂN DÂN TỈNH"))
    assert agency < order[0]


def test_lines_are_nfc_with_boxes_on_the_page(decision_300_clean) -> None:
    rendered, page = decision_300_clean
    assert (page.width, page.height) == rendered.image.size
    for line in page.lines:
        assert unicodedata.is_normalized("NFC", line.text)
        x0, y0, x1, y1 = line.box
        assert 0 <= x0 < x1 <= page.width and 0 <= y0 < y1 <= page.height
        assert 0.0 <= line.confidence <= 1.0
    truth = next(t for t in rendered.lines if t.role == "number")
    found = next(ln for ln in page.lines if ln.text == truth.text)
    # the box covers the printed line (diacritics included) within a few pixels
    assert all(abs(a - b) <= 12 for a, b in zip(found.box, truth.box, strict=True))


def test_continuation_page_number_is_kept() -> None:
    rendered, page = _read("luat-24-2018-qh14", dpi=200, condition="clean", page=1)
    number = rendered.line_with_role("page_number")
    assert number is not None and number.text == "2"
    assert page.lines[0].text == "2", "the page number at the top is a short line that must not be lost"


def _line_image(text: str, size: int = 44) -> Image.Image:
    font = load_font("liberation", "regular", size)
    width = int(font.getlength(text)) + 60
    image = Image.new("RGB", (width, size * 2), "white")
    ImageDraw.Draw(image).text((30, size // 2), text, font=font, fill="black")
    return image


def test_a_line_too_wide_for_the_recognizer_is_read_in_chunks() -> None:
    text = ("Căn cứ Nghị định số 30/2020/NĐ-CP ngày 05 tháng 3 năm 2020 của Chính phủ về công tác văn thư "
            "và Thông tư số 01/2023/TT-VPCP quy định nội dung và biện pháp thi hành trong số hóa kết quả")
    image = _line_image(text)
    assert image.width * 32 / (44 * 1.25) > 2 * 1024  # far wider than AsterNet accepts
    page = get_engine().read_page(image)
    got = " ".join(ln.text for ln in page.lines)
    assert levenshtein(normalize(text), normalize(got)) <= 3


def test_a_wide_crop_without_word_gaps_is_joined_on_its_overlap() -> None:
    digits = "0123456789" * 9
    gray = np.asarray(_line_image(digits, size=40).convert("L"))
    ys = np.flatnonzero((gray < 128).any(axis=1))
    crop = gray[max(0, ys[0] - 1):ys[-1] + 2]
    reading = get_engine().recognizer.read(crop)
    assert levenshtein(digits, reading.text.replace(" ", "")) <= 3


def test_number_and_date_read_exactly_in_dejavu_at_200_dpi() -> None:
    rendered, page = _read("gxn-hon-nhan-0002", dpi=200, condition="scanner", font="dejavu")
    _expect_roles(rendered, page, ("number", "date"))
    assert "Số định danh cá nhân: 036195004321" in _texts(page)


def test_cascade_rereads_the_lines_the_first_recognizer_is_unsure_of() -> None:
    image = _line_image("Số: 1403/QĐ-SNV ngày 09/8/2022")
    always = get_engine(OcrConfig(fallback_recognizer="rec-asternet", fallback_below=1.0, fallback_squeeze=1.0,
                                  fallback_keeps="fallback"))
    page = always.read_page(image)
    assert always.lines_read > 0 and always.lines_fallback == always.lines_read
    full_width = OcrConfig(recognizer="rec-asternet", rec_squeeze=1.0, rec_short_squeeze=1.0)
    reference = get_engine(full_width).read_page(image)
    assert [ln.text for ln in page.lines] == [ln.text for ln in reference.lines]
    never = get_engine(OcrConfig(fallback_recognizer="rec-asternet", fallback_below=0.0, fallback_header_below=0.0,
                    fallback_header_dropped_above=1.0))
    never.read_page(image)
    assert never.lines_read > 0 and never.lines_fallback == 0
