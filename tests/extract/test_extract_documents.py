from __future__ import annotations

from datetime import date

import pytest

from service.domain.errors import InputError
from service.domain.fields import FieldSource
from service.extract.config import ExtractConfig
from service.extract.extractor import extract_pages
from service.extract.types import Extraction
from tests.extract.pages import TEXT_LEFT, decision, header, line, page, residence_certificate

TODAY = date(2026, 1, 1)


def value(ex: Extraction, name: str) -> str | None:
    fv = ex.get(name)
    return fv.value if fv is not None else None


def flags(ex: Extraction) -> dict[str, str]:
    return {f.field: f.kind for f in ex.flags}


def test_administrative_decision_header() -> None:
    ex = extract_pages([decision()], today=TODAY)
    assert ex.document_type.code == "VB.QDD" and ex.document_type.name == "Quyết định"
    assert ex.document_type.confidence > 0.9
    assert value(ex, "number_symbol") == "1403/QĐ-SNV"
    assert value(ex, "issue_date") == "2022-08-09"
    assert value(ex, "issuing_agency") == "SỞ NỘI VỤ TỈNH BÌNH PHƯỚC"
    assert value(ex, "parent_agency") == "BỘ NỘI VỤ"
    assert value(ex, "issue_place") == "Bình Phước"
    assert value(ex, "document_name") == "Quyết định"
    assert value(ex, "summary") == ("Về việc ban hành Quy chế số hóa hồ sơ, kết quả giải quyết "
                                    "thủ tục hành chính tại Bộ phận Một cửa")
    for name in ("number_symbol", "issue_date", "issuing_agency", "summary"):
        fv = ex.get(name)
        assert fv is not None and fv.source is FieldSource.OCR and 0.9 < fv.confidence <= 1.0
    # No owner on a decision: the officer is asked for the identifier (or the fallback).
    assert flags(ex) == {"owner_id": "missing"}


def test_output_contract_shape() -> None:
    data = extract_pages([decision()], today=TODAY).to_json()
    assert set(data) == {"document_type", "fields"}
    assert set(data["document_type"]) == {"code", "name", "confidence"}
    assert set(data["fields"]) == {"owner_id", "owner_name", "owner_birth_date", "organization_name",
                                   "organization_founded_year", "document_name", "number_symbol", "issue_date",
                                   "issuing_agency", "summary", "valid_until", "validity_scope", "extra"}
    assert data["fields"]["owner_id"] is None
    assert set(data["fields"]["issue_date"]) == {"value", "confidence", "source"}


def test_cong_van_has_no_heading_and_v_v_summary() -> None:
    ex = extract_pages([page(
        line("ỦY BAN NHÂN DÂN", "left", 120), line("TỈNH BÌNH PHƯỚC", "left", 156),
        line("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "right", 120), line("Độc lập - Tự do - Hạnh phúc", "right", 156),
        line("Số: 123/UBND-VP", "left", 216), line("Đồng Xoài, ngày 05 tháng 01 năm 2023", "right", 216),
        line("V/v triển khai số hóa hồ sơ", "left", 252), line("thủ tục hành chính", "left", 286),
        line("Kính gửi: Các sở, ban, ngành tỉnh", "centre", 360),
    )], today=TODAY)
    assert ex.document_type.code == "VB.CV"
    assert value(ex, "number_symbol") == "123/UBND-VP"
    assert value(ex, "issuing_agency") == "ỦY BAN NHÂN DÂN TỈNH BÌNH PHƯỚC"
    assert value(ex, "parent_agency") is None
    assert value(ex, "summary") == "triển khai số hóa hồ sơ thủ tục hành chính"
    assert value(ex, "issue_date") == "2023-01-05"


def test_legal_document_with_year_and_merged_header_lines() -> None:
    # The OCR layout merged the two header columns into single lines (a known failure mode).
    ex = extract_pages([page(
        line("CHÍNH PHỦ CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", 200, 120),
        line("Độc lập - Tự do - Hạnh phúc", "right", 156),
        line("Số: 30/2020/NĐ-CP Hà Nội, ngày 05 tháng 3 năm 2020", 200, 216),
        line("NGHỊ ĐỊNH", "centre", 300),
        line("Về công tác văn thư", "centre", 336),
        line("Căn cứ Luật Tổ chức Chính phủ ngày 19 tháng 6 năm 2015;", 250, 440),
    )], today=TODAY)
    assert ex.document_type.code == "VB.NDD"
    assert value(ex, "number_symbol") == "30/2020/NĐ-CP"
    assert value(ex, "issuing_agency") == "CHÍNH PHỦ"
    assert value(ex, "issue_date") == "2020-03-05"
    assert value(ex, "summary") == "Về công tác văn thư"


def test_ocr_noise_without_diacritics() -> None:
    ex = extract_pages([page(
        *header(None, "UY BAN NHAN DAN XA TAN PHU", "So: 07/QD-UBND", "Tan Phu, ngay 05 thang 01 nam 2020", 0.9),
        line("QUYET DINH", "centre", 300, 0.9),
        line("Ve viec cap giay phep", "centre", 336, 0.9),
    )], today=TODAY)
    assert ex.document_type.code == "VB.QDD"
    assert value(ex, "number_symbol") == "07/QĐ-UBND"
    assert value(ex, "issue_date") == "2020-01-05"
    assert value(ex, "issuing_agency") == "ỦY BAN NHÂN DÂN XÃ TAN PHU"  # tone marks restored from vocabulary


def test_document_type_from_number_when_heading_unreadable() -> None:
    ex = extract_pages([page(*header(None, "ỦY BAN NHÂN DÂN HUYỆN X", "Số: 15/TB-UBND",
                                     "X, ngày 01 tháng 6 năm 2021"))], today=TODAY)
    assert ex.document_type.code == "VB.TB"
    assert ex.document_type.confidence < 0.9
    assert flags(ex)["document_name"] == "low_confidence"


def test_residence_certificate_key_values() -> None:
    ex = extract_pages([residence_certificate()], today=TODAY)
    assert ex.document_type.code == "GT.XN_CU_TRU"
    assert value(ex, "owner_name") == "Nguyễn Văn Thử"
    assert value(ex, "owner_birth_date") == "1988-02-14"
    assert value(ex, "owner_id") == "036088001234"
    assert value(ex, "residence") == "Xóm 5, xã Hải Minh, huyện Hải Hậu, tỉnh Nam Định"
    assert value(ex, "valid_until") == "2024-09-05"
    assert value(ex, "number_symbol") == "152/GXN"
    assert ex.flags == ()


def test_invalid_identifier_is_flagged_not_stored_as_valid() -> None:
    ex = extract_pages([residence_certificate(owner_id="003088001234")], today=TODAY)
    fv = ex.get("owner_id")
    assert fv is not None and fv.value == "003088001234"
    assert fv.confidence <= ExtractConfig().invalid_confidence
    [flag] = ex.flagged("owner_id")
    assert flag.kind == "invalid" and "province code 003" in flag.message


def test_ocr_letter_in_identifier_is_flagged() -> None:
    ex = extract_pages([residence_certificate(owner_id="03608800I234")], today=TODAY)
    assert flags(ex)["owner_id"] == "invalid"
    assert ex.get("owner_id") is not None and ex.get("owner_id").confidence <= 0.2  # type: ignore[union-attr]


def test_impossible_date_is_left_empty_and_flagged() -> None:
    ex = extract_pages([residence_certificate(dob="30/02/1988")], today=TODAY)
    assert ex.get("owner_birth_date") is None
    [flag] = ex.flagged("owner_birth_date")
    assert flag.kind == "invalid" and "not a calendar date" in flag.message


@pytest.mark.parametrize("date_line", ["Hà Nội, ngày #& tháng 7 năm 2020",
                                       # the month word's vowel misread too: still the date line
                                       "Hà Nội, ngày #& thóng 7 năm 2020"])
def test_unreadable_header_date_is_not_guessed(date_line: str) -> None:
    ex = extract_pages([page(*header(None, "THỦ TƯỚNG CHÍNH PHỦ", "Số: 20/2020/QĐ-TTg", date_line),
                             line("QUYẾT ĐỊNH", "centre", 300))], today=TODAY)
    assert ex.get("issue_date") is None
    assert flags(ex)["issue_date"] == "invalid"


def test_birth_year_disagreeing_with_personal_id_is_flagged() -> None:
    ex = extract_pages([residence_certificate(dob="14/02/1989")], today=TODAY)
    assert flags(ex)["owner_birth_date"] == "invalid"
    assert flags(ex)["owner_id"] == "invalid"


def test_validity_period_in_months_and_scope() -> None:
    ex = extract_pages([page(
        *header("UBND HUYỆN VỤ BẢN", "ỦY BAN NHÂN DÂN XÃ LIÊN MINH", "Số: 87/UBND-XNHN",
                "Liên Minh, ngày 20 tháng 01 năm 2025"),
        line("GIẤY XÁC NHẬN TÌNH TRẠNG HÔN NHÂN", "centre", 300),
        line("Họ và tên: Trần Thị Ví Dụ", 295, 450),
        line("Giấy này có giá trị 06 tháng kể từ ngày cấp.", 295, 500),
        line("Giấy xác nhận có giá trị sử dụng trên toàn quốc.", 295, 540),
    )], today=TODAY)
    assert value(ex, "validity_period") == "6 months"
    assert value(ex, "valid_until") == "2025-07-20"
    assert value(ex, "validity_scope") == "toàn quốc"


def test_vehicle_registration_specialised_fields() -> None:
    ex = extract_pages([page(
        *header("CÔNG AN TỈNH BÌNH PHƯỚC", "PHÒNG CẢNH SÁT GIAO THÔNG", "Số: 012345",
                "Bình Phước, ngày 10 tháng 10 năm 2023"),
        line("GIẤY CHỨNG NHẬN ĐĂNG KÝ XE", "centre", 300),
        line("Tên chủ xe: Lê Văn Ba", TEXT_LEFT, 400),
        line("Biển số đăng ký: 93A-123.45", TEXT_LEFT, 440),
        line("Số khung: rlhjc5210ky123456", TEXT_LEFT, 480),
        line("Số máy: JC52E1234567", TEXT_LEFT, 520),
    )], today=TODAY)
    assert ex.document_type.code == "GT.DK_XE"
    assert value(ex, "owner_name") == "Lê Văn Ba"
    assert value(ex, "plate_number") == "93A-123.45"
    assert value(ex, "chassis_number") == "RLHJC5210KY123456"
    assert value(ex, "engine_number") == "JC52E1234567"
    assert value(ex, "certificate_number") == "012345"  # specialised papers number themselves
    assert value(ex, "number_symbol") is None


def test_unparseable_number_symbol_is_kept_and_flagged() -> None:
    ex = extract_pages([page(*header(None, "CHÍNH PHỦ", "Số: 12/1800/NĐ-CP", "Hà Nội, ngày 05 tháng 3 năm 2020"),
                             line("NGHỊ ĐỊNH", "centre", 300))], today=TODAY)
    fv = ex.get("number_symbol")
    assert fv is not None and fv.value == "12/1800/NĐ-CP" and fv.confidence <= 0.2
    assert flags(ex)["number_symbol"] == "invalid"


def test_household_business_organisation_fields() -> None:
    ex = extract_pages([page(
        *header("UBND THÀNH PHỐ ĐỒNG XOÀI", "PHÒNG TÀI CHÍNH - KẾ HOẠCH", None, "Đồng Xoài, ngày 02 tháng 3 năm 2021"),
        line("GIẤY CHỨNG NHẬN ĐĂNG KÝ HỘ KINH DOANH", "centre", 300),
        line("Tên hộ kinh doanh: Tạp hóa Minh Anh", TEXT_LEFT, 400),
        line("Mã số hộ kinh doanh: 0100109106", TEXT_LEFT, 440),
        line("Đăng ký lần đầu: ngày 15 tháng 5 năm 2015", TEXT_LEFT, 480),
        line("Số giấy chứng nhận: 44A8001234", TEXT_LEFT, 520),
    )], today=TODAY)
    assert ex.document_type.code == "GT.DK_HKD"
    assert value(ex, "organization_name") == "Tạp hóa Minh Anh"
    assert value(ex, "owner_id") == "0100109106"
    assert value(ex, "organization_founded_year") == "2015"
    assert value(ex, "certificate_number") == "44A8001234"
    assert "owner_id" not in flags(ex)


def test_fuzzy_keys_survive_ocr_noise() -> None:
    ex = extract_pages([page(
        line("Ho va tén: PHẠM THỊ HOA", TEXT_LEFT, 400),
        line("Ngảy sinh: 01/12/1990", TEXT_LEFT, 440),
        line("S6 dinh danh ca nhan: 001190000123", TEXT_LEFT, 480),
    )], today=TODAY)
    assert value(ex, "owner_name") == "Phạm Thị Hoa"
    assert value(ex, "owner_birth_date") == "1990-12-01"
    assert value(ex, "owner_id") == "001190000123"
    assert flags(ex)["document_type_code"] == "missing"


def test_low_confidence_fields_are_marked_for_review() -> None:
    ex = extract_pages([decision(conf=0.6)], today=TODAY)
    low = {f.field for f in ex.flags if f.kind == "low_confidence"}
    assert {"number_symbol", "issue_date", "issuing_agency", "summary"} <= low
    ex = extract_pages([decision(conf=0.6)], config=ExtractConfig(review_threshold=0.5), today=TODAY)
    assert not any(f.kind == "low_confidence" for f in ex.flags)


def test_empty_input() -> None:
    with pytest.raises(InputError, match="no OCR pages"):
        extract_pages([], today=TODAY)
    ex = extract_pages([page()], today=TODAY)
    assert ex.document_type.code == ""
    assert flags(ex) == {"document_type_code": "missing", "owner_id": "missing"}


def test_birth_certificate() -> None:
    ex = extract_pages([page(
        *header(None, "ỦY BAN NHÂN DÂN XÃ ĐỨC LIỄU", "Số: 45", "Đức Liễu, ngày 20 tháng 3 năm 2020"),
        line("GIẤY KHAI SINH", "centre", 300),
        line("Họ, chữ đệm, tên: ĐỖ MINH KHÔI", TEXT_LEFT, 400),
        line("Ngày, tháng, năm sinh: 15/03/2020", TEXT_LEFT, 440),
        line("Giới tính: Nam    Dân tộc: Kinh", TEXT_LEFT, 480),
        line("Nơi sinh: Trạm Y tế xã Đức Liễu, huyện Bù Đăng, tỉnh Bình Phước", TEXT_LEFT, 520),
        line("Số định danh cá nhân: 070220000123", TEXT_LEFT, 560),
    )], today=TODAY)
    assert ex.document_type.code == "KQ.G15.000031"  # the CSDLQG result-type code of birth registration
    assert value(ex, "owner_name") == "Đỗ Minh Khôi"
    assert value(ex, "owner_birth_date") == "2020-03-15"
    assert value(ex, "owner_id") == "070220000123"
    assert value(ex, "certificate_number") == "45"
    assert value(ex, "place_of_birth") == "Trạm Y tế xã Đức Liễu, huyện Bù Đăng, tỉnh Bình Phước"
    assert ex.flags == ()


def test_land_use_certificate() -> None:
    ex = extract_pages([page(
        line("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "centre", 120),
        line("Độc lập - Tự do - Hạnh phúc", "centre", 156),
        line("GIẤY CHỨNG NHẬN", "centre", 260),
        line("QUYỀN SỬ DỤNG ĐẤT, QUYỀN SỞ HỮU NHÀ Ở VÀ TÀI SẢN KHÁC GẮN LIỀN VỚI ĐẤT", "centre", 296),
        line("CS 01234", 900, 400),
        line("BĐ 123456", 900, 440),
        line("Người sử dụng đất: Ông Vũ Quốc Trung", TEXT_LEFT, 520),
        line("Thửa đất số: 112", TEXT_LEFT, 560),
        line("Tờ bản đồ số: 14", TEXT_LEFT, 600),
        line("Diện tích: 250,5 m²", TEXT_LEFT, 640),
        line("Số vào sổ cấp GCN: CS 01234", TEXT_LEFT, 680),
    )], today=TODAY)
    assert ex.document_type.code == "GT.QSDD"
    assert value(ex, "certificate_serial") == "BĐ 123456"
    assert value(ex, "land_parcel") == "112" and value(ex, "map_sheet") == "14"
    assert value(ex, "land_area") == "250,5 m²"
    assert value(ex, "certificate_number") == "CS 01234"
    assert value(ex, "owner_name") == "Ông Vũ Quốc Trung"


def test_reading_order_by_rows_still_parses() -> None:
    """Some layouts read row by row, interleaving the agency block and the motto."""
    lines = sorted(decision().lines, key=lambda ln: (ln.box[1], ln.box[0]))
    ex = extract_pages([page(*lines)], today=TODAY)
    assert value(ex, "issuing_agency") == "SỞ NỘI VỤ TỈNH BÌNH PHƯỚC"
    assert value(ex, "parent_agency") == "BỘ NỘI VỤ"
    assert value(ex, "number_symbol") == "1403/QĐ-SNV"
    assert value(ex, "issue_date") == "2022-08-09"
    assert ex.document_type.code == "VB.QDD"


def test_multi_page_document_reads_fields_on_later_pages() -> None:
    second = page(line("Họ và tên: Lý Thị Mai", TEXT_LEFT, 120), line("Ngày sinh: 02/02/1992", TEXT_LEFT, 160))
    ex = extract_pages([decision(), second], today=TODAY)
    assert value(ex, "number_symbol") == "1403/QĐ-SNV"
    assert value(ex, "owner_name") == "Lý Thị Mai" and value(ex, "owner_birth_date") == "1992-02-02"
    assert "owner_id" not in {f.field for f in ex.flags}


@pytest.mark.parametrize("text,expected", [
    ("Mã định danh: 000.00.00.H56", "000.00.00.H56"),
    ("Số CCCD: 036 088 001234 cấp ngày 01/01/2021", "036088001234"),
    ("Mã số thuế: 0100109106-001", "0100109106-001"),
    ("Số hộ chiếu: B1234567", "B1234567"),
])
def test_identifier_forms_in_key_values(text: str, expected: str) -> None:
    ex = extract_pages([page(line(text, TEXT_LEFT, 400))], today=TODAY)
    assert value(ex, "owner_id") == expected
    assert not ex.flagged("owner_id")


def test_heading_and_number_disagreeing_lowers_type_confidence() -> None:
    ex = extract_pages([page(*header(None, "ỦY BAN NHÂN DÂN HUYỆN X", "Số: 12/TB-UBND", "X, ngày 01 tháng 6 năm 2021"),
                             line("QUYẾT ĐỊNH", "centre", 300))], today=TODAY)
    assert ex.document_type.code == "VB.QDD"
    assert ex.document_type.confidence < 0.85
    assert {f.field: f.kind for f in ex.flags}["document_name"] == "low_confidence"
