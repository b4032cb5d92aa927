from __future__ import annotations

from typing import Any

import pytest

from service.domain.errors import ValidationError
from service.domain.number_symbol import ADMIN_TYPE_ABBREVIATIONS, NumberSymbolKind, parse_number_symbol
from tests.domain._vectors import VECTORS

DOCS = VECTORS["document_number"]
KINDS = {
    "administrative_with_type": NumberSymbolKind.WITH_TYPE,
    "cong_van(no type abbreviation)": NumberSymbolKind.CONG_VAN,
    "legal_normative(QPPL)_or_numbered_with_year": NumberSymbolKind.WITH_YEAR,
}


@pytest.mark.parametrize("vec", DOCS["valid"], ids=lambda v: v["text"])
def test_valid_numbers(vec: dict[str, Any]) -> None:
    ns = parse_number_symbol(vec["text"])
    p = vec["parsed"]
    assert ns.number == p["number"]
    assert ns.year == p["year"]
    assert ns.type_abbr == p["type_abbr"]
    assert ns.issuer == p["issuer"]
    assert ns.notation == p["notation"]
    assert ns.kind is KINDS[p["kind"]]
    if "drafting_unit_or_field" in p:
        assert ns.drafting_unit == p["drafting_unit_or_field"]
    if "type_name" in p:
        assert ns.type_name == p["type_name"]


@pytest.mark.parametrize("vec", DOCS["ocr_degraded"], ids=lambda v: v["text"])
def test_ocr_degraded_numbers(vec: dict[str, Any]) -> None:
    ns = parse_number_symbol(vec["text"])
    for key, expected in vec["expected_normalized"].items():
        assert getattr(ns, key) == expected


def test_type_table_matches_phu_luc_iii() -> None:
    assert dict(ADMIN_TYPE_ABBREVIATIONS) == DOCS["type_abbreviations_nd30_phuluc3"]


@pytest.mark.parametrize("text,canonical", [
    ("Số: 1403/QĐ-UBND", "1403/QĐ-UBND"),
    ("52/2020/NĐ-CP", "52/2020/NĐ-CP"),
    ("123/UBND-VP", "123/UBND-VP"),
    ("Số:09/2019/TT–BNV", "09/2019/TT-BNV"),  # en dash, no space after the colon
    ("So: 1403 / QD - UBND", "1403/QĐ-UBND"),  # diacritics lost by OCR
    ("Số: 15/QĐ-UBND-VP.", "15/QĐ-UBND-VP"),
    ("Sô: 1403/QĐ-UBND", "1403/QĐ-UBND"),  # OCR lost the tone mark of "Số"
    ("Luật số: 24/2018/QH14", "24/2018/QH14"),
])
def test_normalization(text: str, canonical: str) -> None:
    assert str(parse_number_symbol(text)) == canonical


@pytest.mark.parametrize("text", ["", "Số:", "QĐ-UBND", "1403", "1403/", "abc/QĐ-UBND", "12/1800/NĐ-CP",
                                  "12/QĐ--UBND", "12/QĐ UBND X", "12/QĐ-UBND?"])
def test_bad_numbers(text: str) -> None:
    with pytest.raises(ValidationError) as err:
        parse_number_symbol(text)
    assert err.value.field == "number_symbol"
