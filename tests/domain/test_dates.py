from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from service.domain.dates import (
    DateStyle,
    format_vn_date,
    parse_compact_date,
    parse_vn_date,
    search_vn_date,
)
from service.domain.errors import ValidationError
from tests.domain._vectors import VECTORS

DATES = VECTORS["vietnamese_date"]


@pytest.mark.parametrize("vec", DATES["valid"], ids=lambda v: v["text"])
def test_valid_vietnamese_dates(vec: dict[str, Any]) -> None:
    assert parse_vn_date(vec["text"]).isoformat() == vec["iso_date"]
    match = search_vn_date(vec["text"])
    assert match is not None
    assert match.place == vec["place"]


@pytest.mark.parametrize("vec", DATES["invalid"], ids=lambda v: v["text"])
def test_invalid_vietnamese_dates_refused(vec: dict[str, Any]) -> None:
    with pytest.raises(ValidationError) as err:
        parse_vn_date(vec["text"], field_name="issue_date")
    assert err.value.field == "issue_date"
    assert err.value.remedy


@pytest.mark.parametrize("text,iso", [
    ("ngày 09 tháng 8 năm 2022", "2022-08-09"),
    ("09/8/2022", "2022-08-09"),
    ("09-08-2022", "2022-08-09"),
    ("09.08.2022", "2022-08-09"),
    ("2022-08-09", "2022-08-09"),
    ("Ha Noi, ngay 05 thang 01 nam 2020", "2020-01-05"),  # OCR lost every diacritic
    ("NGÀY 05 THÁNG 01 NĂM 2020", "2020-01-05"),
    ("ngày05tháng01năm2020", "2020-01-05"),
])
def test_forms(text: str, iso: str) -> None:
    assert parse_vn_date(text).isoformat() == iso


@pytest.mark.parametrize("text", ["31/02/2023", "2023-02-30", "ngày 31 tháng 4 năm 2024", "00/01/2020", "12/13/2020"])
def test_impossible_dates(text: str) -> None:
    with pytest.raises(ValidationError, match="not a calendar date"):
        parse_vn_date(text)


@pytest.mark.parametrize("text", ["Đà Lợt, ngày 23 thóng 02 năm 2022", "Đà Lợt, ngày 23 THUNG 02 năm 2022",
                                  "Đà Lợt, ngày 23 thăng 02 năm 2022"])
def test_a_month_word_with_its_vowel_misread_still_dates_the_header(text: str) -> None:
    # OCR read "tháng" with the wrong vowel; the day, month and year are still there to file the paper by
    match = search_vn_date(text)
    assert match is not None and match.value == date(2022, 2, 23) and match.place == "Đà Lợt"


def test_a_month_word_misread_beyond_its_vowel_is_no_date() -> None:
    assert search_vn_date("ngày 23 tnhng 02 năm 2022") is None
    assert search_vn_date("ngày 23 thóng năm 2022") is None


def test_no_date_at_all() -> None:
    assert search_vn_date("Độc lập - Tự do - Hạnh phúc") is None
    with pytest.raises(ValidationError, match="no readable date"):
        parse_vn_date("Độc lập - Tự do - Hạnh phúc")


def test_format_styles_round_trip() -> None:
    d = date(2020, 1, 5)
    assert format_vn_date(d) == "ngày 05 tháng 01 năm 2020"
    assert format_vn_date(date(2019, 6, 29), DateStyle.LONG) == "ngày 29 tháng 6 năm 2019"
    assert format_vn_date(d, "numeric") == "05/01/2020"
    assert format_vn_date(date(2023, 4, 5), "short") == "05/4/2023"
    assert format_vn_date(d, "iso") == "2020-01-05"
    assert format_vn_date(d, "compact") == "05012020"
    for style in DateStyle:
        text = format_vn_date(d, style)
        back = parse_compact_date(text) if style is DateStyle.COMPACT else parse_vn_date(text)
        assert back == d
    with pytest.raises(ValidationError, match="unknown date style"):
        format_vn_date(d, "roman")


def test_compact_date() -> None:
    assert parse_compact_date("15031990") == date(1990, 3, 15)
    with pytest.raises(ValidationError):
        parse_compact_date("31021990")
    with pytest.raises(ValidationError, match="8 digits"):
        parse_compact_date("1503199")
