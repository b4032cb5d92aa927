from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from service.domain.errors import ExitCode, ValidationError
from service.domain.identifiers import (
    IdentifierKind,
    parse_identifier,
    tax_check_digit,
    validate_cccd,
    validate_cmnd,
    validate_organization_id,
    validate_passport,
    validate_tax_code,
)
from tests.domain._vectors import VECTORS

TODAY = date(2026, 1, 1)
MST = VECTORS["tax_code_mst"]
CCCD = VECTORS["cccd_so_dinh_danh"]


@pytest.mark.parametrize("vec", MST["valid_10_digit"], ids=lambda v: v["value"])
def test_valid_tax_codes(vec: dict[str, Any]) -> None:
    ident = parse_identifier(vec["value"])
    assert ident.kind is IdentifierKind.TAX_CODE
    assert ident.value == vec["value"]
    assert ident.details["check_digit"] == vec["check_digit"]
    assert tax_check_digit(vec["value"][:9]) == int(vec["check_digit"])


@pytest.mark.parametrize("vec", MST["valid_branch_13"], ids=lambda v: v["value"])
def test_valid_branch_tax_codes(vec: dict[str, Any]) -> None:
    ident = parse_identifier(vec["value"])
    assert ident.kind is IdentifierKind.TAX_CODE_BRANCH
    assert ident.details["base"] == vec["parts"]["base"]
    assert ident.details["branch"] == vec["parts"]["branch"]


@pytest.mark.parametrize("vec", MST["invalid"], ids=lambda v: v["value"])
def test_invalid_tax_codes_say_why(vec: dict[str, Any]) -> None:
    with pytest.raises(ValidationError) as err:
        validate_tax_code(vec["value"])
    assert err.value.field == "owner_id"
    assert err.value.reason == vec["validator_message"]
    assert err.value.remedy
    assert err.value.exit_code == ExitCode.VALIDATION


@pytest.mark.parametrize("vec", CCCD["valid"], ids=lambda v: v["value"])
def test_valid_cccd_decoded(vec: dict[str, Any]) -> None:
    ident = parse_identifier(vec["value"], today=TODAY)
    assert ident.kind is IdentifierKind.CCCD and ident.kind.is_person
    for key, expected in vec["decoded"].items():
        assert ident.details[key] == expected, key


@pytest.mark.parametrize("vec", CCCD["invalid"], ids=lambda v: v["value"])
def test_invalid_cccd_says_why(vec: dict[str, Any]) -> None:
    with pytest.raises(ValidationError) as err:
        validate_cccd(vec["value"], today=TODAY)
    assert err.value.reason == vec["validator_message"]
    with pytest.raises(ValidationError):
        parse_identifier(vec["value"], today=TODAY)


def test_every_province_in_vectors_is_decoded() -> None:
    for code, name in CCCD["province_codes"].items():
        assert validate_cccd(f"{code}099000001", today=TODAY).details["province"] == name
    assert len(CCCD["province_codes"]) == 63


def test_gender_century_table() -> None:
    for digit, info in CCCD["gender_century"].items():
        ident = validate_cccd(f"001{digit}00000001", today=date(2400, 1, 1))
        assert ident.details["gender"] == info["gender"]
        assert ident.details["birth_year"] == info["century_base"]


def test_cccd_typed_with_spaces_is_normalized() -> None:
    assert parse_identifier(" 001 099 000001 ", today=TODAY).value == "001099000001"


@pytest.mark.parametrize("value", VECTORS["cmnd_9"]["valid_format"])
def test_cmnd_valid(value: str) -> None:
    assert parse_identifier(value).kind is IdentifierKind.CMND


@pytest.mark.parametrize("value", VECTORS["cmnd_9"]["invalid_format"])
def test_cmnd_invalid(value: str) -> None:
    with pytest.raises(ValidationError, match="9 digits"):
        validate_cmnd(value)


@pytest.mark.parametrize("value", VECTORS["passport_vn"]["valid_format"])
def test_passport_valid(value: str) -> None:
    ident = parse_identifier(value)
    assert ident.kind is IdentifierKind.PASSPORT and ident.value == value


@pytest.mark.parametrize("value", VECTORS["passport_vn"]["invalid_format"])
def test_passport_invalid(value: str) -> None:
    with pytest.raises(ValidationError, match="one letter followed by 7 digits"):
        validate_passport(value)
    with pytest.raises(ValidationError):
        parse_identifier(value)


@pytest.mark.parametrize("vec", VECTORS["agency_identifier_qcvn102"], ids=lambda v: v["value"])
def test_organization_identifiers(vec: dict[str, Any]) -> None:
    ident = parse_identifier(vec["value"])
    assert ident.kind is IdentifierKind.ORGANIZATION
    assert ident.details["level"] == vec["level"]
    assert ident.details["scheme"] == "qcvn102"


def test_organization_general_form_and_limits() -> None:
    assert validate_organization_id("H55.242").details["scheme"] == "general"
    assert validate_organization_id("000.00.00.g14").value == "000.00.00.G14"
    with pytest.raises(ValidationError, match="at most 35"):
        validate_organization_id("A." * 20)
    with pytest.raises(ValidationError, match="dot-separated"):
        validate_organization_id("000..00.H30")


@pytest.mark.parametrize("text", ["", "   ", "12345", "01001O9106", "ABC", "1234567890123"])
def test_unrecognised_identifiers_refused(text: str) -> None:
    with pytest.raises(ValidationError) as err:
        parse_identifier(text, field_name="owner_id")
    assert err.value.field == "owner_id"
