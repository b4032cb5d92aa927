from __future__ import annotations

from datetime import date

import pytest

from service.extract.extractor import extract_pages
from service.extract.vocab import restore_address, restore_agency
from tests.extract.pages import residence_certificate


@pytest.mark.parametrize("text,expected", [
    ("UY BAN NHÂN DÂN TỈNH BÌNH PHƯỚC", "ỦY BAN NHÂN DÂN TỈNH BÌNH PHƯỚC"),
    ("PHÒNG TÀI NGUYEN VÀ MÔI TRƯỜNG", "PHÒNG TÀI NGUYÊN VÀ MÔI TRƯỜNG"),
    ("ỦY BAN NHÂN DÂN XÃ ĐỨC LIỄU", "ỦY BAN NHÂN DÂN XÃ ĐỨC LIỄU"),  # ĐỨC is a place, not GIÁO DỤC
    ("TRUNG TÂM Y TẾ HUYỆN VỤ BẢN", "TRUNG TÂM Y TẾ HUYỆN VỤ BẢN"),  # BẢN is not BAN
    ("BỘ TAI CHINH", "BỘ TÀI CHÍNH"),  # TAI alone is ambiguous (TÀI / TẢI); before CHÍNH it is TÀI
    ("SỞ TAI", "SỞ TAI"),  # ... and outside a phrase it is left alone
    ("BỘ GIAO THÔNG VẬN TÁI", "BỘ GIAO THÔNG VẬN TẢI"),  # a misread mark in a phrase that holds accent-free GIAO
    ("ỦY BAN NHÂN DÂN TINH KON TUM", "ỦY BAN NHÂN DÂN TỈNH KON TUM"),  # TINH may be TĨNH (Hà Tĩnh) but not here
    ("ỦY BAN NHÂN DÂN TỈNH HÀ TINH", "ỦY BAN NHÂN DÂN TỈNH HÀ TINH"),  # a place name is not a phrase
    ("SỚ TƯ PHÁP", "SỞ TƯ PHÁP"),  # the first word is the kind of body
    ("BÔ NỘI VỤ", "BỘ NỘI VỤ"),
    ("PHÒNG TƯ PHÁP HUYỆN BỐ TRẠCH", "PHÒNG TƯ PHÁP HUYỆN BỐ TRẠCH"),  # ... later words are not heads
    ("ỦY BAN NHÂN DÂN XÃ VÂN TÁI", "ỦY BAN NHÂN DÂN XÃ VÂN TÁI"),  # outside a phrase a marked word is kept
])
def test_restore_agency(text: str, expected: str) -> None:
    assert restore_agency(text)[0] == expected


@pytest.mark.parametrize("text,expected", [
    ("Xóm 5, xã Hải Minh, huyện Hải Hậu, tnh Nam Định", "Xóm 5, xã Hải Minh, huyện Hải Hậu, tỉnh Nam Định"),
    ("Thon 6, xa Duc Lieu, huyen Bu Dang", "Thôn 6, xã Duc Lieu, huyện Bu Dang"),
    ("Tịnh Biên, Bình Phước", "Tịnh Biên, Bình Phước"),  # real words with diacritics are never touched
    ("Số 1 phố Huế, Hà Nội", "Số 1 phố Huế, Hà Nội"),
    ("Thôn 5, xã Đức Liễu, huyện Bù Đăng, tiỉnh Bình Phước", "Thôn 5, xã Đức Liễu, huyện Bù Đăng, tỉnh Bình Phước"),
    ("quán Bà Ba, đường Lê Lợi, quận 1", "quán Bà Ba, đường Lê Lợi, quận 1"),  # other words are kept
    ("Thửa 12, tờ bản đồ 5, khóm 3", "Thửa 12, tờ bản đồ 5, khóm 3"),
])
def test_restore_address(text: str, expected: str) -> None:
    assert restore_address(text)[0] == expected


def test_restored_address_in_extraction_has_lower_confidence() -> None:
    page = residence_certificate()
    lines = tuple(ln if ln.text != "tỉnh Nam Định" else type(ln)("tnh Nam Định", ln.box, ln.confidence)
                  for ln in page.lines)
    ex = extract_pages([type(page)(page.width, page.height, lines)], today=date(2026, 1, 1))
    fv = ex.get("residence")
    assert fv is not None and fv.value.endswith("huyện Hải Hậu, tỉnh Nam Định")
    assert fv.confidence < 0.97
