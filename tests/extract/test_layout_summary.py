"""The summary (trích yếu) follows the page geometry: reading order restored, stopped at the body."""

from __future__ import annotations

from datetime import date

from service.extract.extractor import extract_pages
from service.ocr.types import OcrLine, OcrPage
from tests.extract.pages import HEIGHT, TEXT_LEFT, WIDTH, header, line, page

TODAY = date(2026, 1, 1)
HEAD = header(None, "VĂN PHÒNG CHÍNH PHỦ", "Số: 12/TB-VPCP", "Hà Nội, ngày 03 tháng 4 năm 2024")


def _summary(*lines: OcrLine) -> str | None:
    fv = extract_pages([page(*lines)], today=TODAY).get("summary")
    return fv.value if fv is not None else None


def _piece(text: str, x0: int, y: int) -> OcrLine:
    return OcrLine(text, (x0, y, x0 + 12 * len(text), y + 26), 0.95)


def test_summary_read_out_of_order_is_put_back_by_rows() -> None:
    # each summary row came out of the OCR as two pieces, and the pieces column by column
    first_a, first_b = _piece("VỀ VIỆC CÔNG BỐ THỦ TỤC", 372, 336), _piece("HÀNH CHÍNH MỚI BAN HÀNH", 672, 336)
    second_a, second_b = _piece("THUỘC THẨM QUYỀN GIẢI", 402, 372), _piece("QUYẾT CỦA SỞ TƯ PHÁP", 678, 372)
    got = _summary(*HEAD, line("THÔNG BÁO", "centre", 300), first_a, second_a, first_b, second_b,
                   line("Căn cứ Luật Tổ chức Chính phủ ngày 19 tháng 6 năm 2015;", 250, 470))
    assert got == "VỀ VIỆC CÔNG BỐ THỦ TỤC HÀNH CHÍNH MỚI BAN HÀNH THUỘC THẨM QUYỀN GIẢI QUYẾT CỦA SỞ TƯ PHÁP"


def test_summary_stops_at_a_body_line_that_is_not_a_preamble() -> None:
    body = "Văn phòng Chính phủ thông báo ý kiến kết luận của Phó Thủ tướng Chính phủ như sau"
    got = _summary(*HEAD, line("THÔNG BÁO", "centre", 300), line("Kết luận của Phó Thủ tướng", "centre", 336),
                   line("về công tác cải cách hành chính", "centre", 372),
                   OcrLine(body, (TEXT_LEFT + 75, 420, 1140, 446), 0.95),  # indented, to the right margin
                   line("tại cuộc họp ngày 01 tháng 4 năm 2024.", TEXT_LEFT, 456))
    assert got == "Kết luận của Phó Thủ tướng về công tác cải cách hành chính"


def test_upper_case_summary_stops_where_the_case_changes() -> None:
    got = _summary(*HEAD, line("THÔNG BÁO", "centre", 300), line("VỀ LỊCH TIẾP CÔNG DÂN", "centre", 336),
                   line("Năm 2024 các cơ quan tiếp dân", "centre", 372))
    assert got == "VỀ LỊCH TIẾP CÔNG DÂN"


def test_single_line_agency_without_parent_is_found() -> None:
    ex = extract_pages([page(*HEAD, line("THÔNG BÁO", "centre", 300), line("Về lịch tiếp công dân", "centre", 336))],
                       today=TODAY)
    fv = ex.get("issuing_agency")
    assert fv is not None and fv.value == "VĂN PHÒNG CHÍNH PHỦ" and ex.get("parent_agency") is None


def test_summary_line_opening_with_theo_continues_it_and_a_capitalised_preamble_stops_it() -> None:
    got = _summary(*HEAD, line("THÔNG BÁO", "centre", 300),
                   line("Về việc công bố danh mục thủ tục hành chính", "centre", 336),
                   line("theo Luật số 102-SL/L-004 ngày 20-5-1957", "centre", 372),
                   line("Căn cứ Luật Trẻ em;", "centre", 408),
                   OcrLine("Ủy ban nhân dân tỉnh công bố danh mục thủ tục hành chính mới ban hành như sau",
                           (TEXT_LEFT, 480, 1140, 506), 0.95))
    assert got == "Về việc công bố danh mục thủ tục hành chính theo Luật số 102-SL/L-004 ngày 20-5-1957"


def test_an_upper_case_summary_gets_the_lexicon_fixes_the_ocr_leaves_to_extraction() -> None:
    got = _summary(*HEAD, line("HƯỚNG DẪN", "centre", 300), line("HƯỚNG DẪN MỘT SỐ NỘI DUNG CỦA", "centre", 336),
                   line("HỌI ĐỒNG NHÂN DÂN", "centre", 372),
                   line("Căn cứ Luật Tổ chức Chính phủ ngày 19 tháng 6 năm 2015;", 250, 470))
    assert got == "HƯỚNG DẪN MỘT SỐ NỘI DUNG CỦA HỘI ĐỒNG NHÂN DÂN"


def _photographed(ln: OcrLine) -> OcrLine:
    """``ln`` as a tilted photo shows it: the box around the slanted line is taller than the line
    (the straightened box is kept as ``flat``)."""
    x0, y0, x1, y1 = ln.box
    return OcrLine(ln.text, (x0, y0 - 20, x1, y1 + 20), ln.confidence, ln.box)


def test_a_photographed_pages_summary_stops_at_the_body_by_the_straightened_boxes() -> None:
    # the body's first line is indented: off the summary's centre by more than half a line height,
    # which the tall boxes of the photo hide
    lines = [*HEAD, line("NGHỊ QUYẾT", "centre", 300), line("Ban hành Kế hoạch thực hiện Luật", "centre", 336),
             line("người cao tuổi năm 2020", "centre", 372),
             OcrLine("Danh mục gồm 25 thủ tục, hiệu lực từ ngày 11/07/2021; liên hệ: (0213)",
                     (290, 410, 1101, 436), 0.95),
             OcrLine("3.270.491, mã hồ sơ H74.45-192233-6454 và các thủ tục kèm theo danh mục",
                     (TEXT_LEFT, 446, 1101, 472), 0.95)]
    photo = tuple(_photographed(ln) for ln in lines)
    fv = extract_pages([OcrPage(WIDTH, HEIGHT, photo, (WIDTH, HEIGHT))], today=TODAY).get("summary")
    assert fv is not None and fv.value == "Ban hành Kế hoạch thực hiện Luật người cao tuổi năm 2020"
    # the photo's boxes alone: the body line would run on into the summary
    unflat = tuple(OcrLine(ln.text, ln.box, ln.confidence) for ln in photo)
    fv = extract_pages([OcrPage(WIDTH, HEIGHT, unflat)], today=TODAY).get("summary")
    assert fv is not None and fv.value.endswith("(0213)")
