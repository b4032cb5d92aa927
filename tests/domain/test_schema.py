from __future__ import annotations

from datetime import date

import pytest

from service.domain.errors import ValidationError
from service.domain.fields import FieldSource, FieldValue, Metadata
from service.domain.schema import MetadataInvalid, ensure_valid, validate_metadata

TODAY = date(2026, 1, 1)


def fv(value: str, confidence: float = 1.0) -> FieldValue:
    return FieldValue(value, FieldSource.MANUAL, confidence)


def good() -> Metadata:
    return Metadata(
        document_type_code="KQ.G15.000031",
        owner_id=fv("001099000001"),
        owner_name=fv("Nguyễn Văn An"),
        owner_birth_date=fv("1999-03-15"),
        document_name=fv("Giấy khai sinh"),
        number_symbol=fv("1403/QĐ-UBND"),
        issue_date=fv("2022-08-09"),
        valid_until=fv("2032-08-09"),
        extra={"plate_number": fv("93A-123.45")},
    )


def fields_of(md: Metadata) -> list[str]:
    return [e.field for e in validate_metadata(md, today=TODAY)]


def test_good_metadata_is_valid() -> None:
    md = good()
    assert validate_metadata(md, today=TODAY) == []
    assert ensure_valid(md, today=TODAY) is md


def test_invalid_owner_id_names_the_field() -> None:
    md = good().with_field("owner_id", fv("003099000001"))
    errors = validate_metadata(md, today=TODAY)
    assert [e.field for e in errors] == ["owner_id"]
    assert "province code 003" in errors[0].reason
    with pytest.raises(ValidationError) as err:
        ensure_valid(md, today=TODAY)
    assert err.value.field == "owner_id"


def test_person_fallback_required_without_owner_id() -> None:
    md = Metadata(document_type_code="KQ.G15.000031", owner_name=fv("Trần Thị Bình"))
    assert fields_of(md) == ["owner_birth_date"]
    md = md.with_field("owner_birth_date", fv("1985-02-01"))
    assert fields_of(md) == []


def test_organization_fallback_required_without_owner_id() -> None:
    md = Metadata(document_type_code="GPXD", organization_founded_year=fv("2001"))
    assert fields_of(md) == ["organization_name"]
    assert fields_of(md.with_field("organization_name", fv("Hợp tác xã Thành Công"))) == []


def test_nothing_about_the_owner() -> None:
    errors = validate_metadata(Metadata(document_type_code="GKS"), today=TODAY)
    assert [e.field for e in errors] == ["owner_id"]
    assert "owner_name + owner_birth_date" in errors[0].reason


@pytest.mark.parametrize("name,value,needle", [
    ("issue_date", "09/08/2022", "not an ISO date"),
    ("issue_date", "2023-02-30", "not a calendar date"),
    ("issue_date", "2027-01-01", "in the future"),
    ("issue_date", "1900-01-01", "not plausible"),
    ("owner_birth_date", "1899-12-31", "not plausible"),
    ("valid_until", "2020-01-01", "before the issue date"),
    ("owner_birth_date", "1998-03-15", "differs from the birth year"),
    ("number_symbol", "QĐ-UBND", "expected '<number>/<symbol>'"),
    ("owner_name", "Nguyen 123", "no digits"),
    ("organization_founded_year", "20O1", "plausible year"),
])
def test_bad_fields_name_field_and_reason(name: str, value: str, needle: str) -> None:
    errors = validate_metadata(good().with_field(name, fv(value)), today=TODAY)
    assert {e.field for e in errors} == {name}
    assert any(needle in e.reason for e in errors)


@pytest.mark.parametrize("code", ["", "KQ G15", "KQ..G15", "Giấy khai sinh", "x" * 201, ".KQ"])
def test_bad_document_type_code(code: str) -> None:
    assert fields_of(good().__class__(**{**_as_kwargs(good()), "document_type_code": code})) == ["document_type_code"]


def _as_kwargs(md: Metadata) -> dict[str, object]:
    return {name: getattr(md, name) for name in md.__slots__}  # type: ignore[attr-defined]


def test_text_must_be_nfc_and_confidence_in_range() -> None:
    decomposed = "Nguye\u0302\u0303n Va\u0306n An"
    md = good().with_field("owner_name", fv(decomposed))
    assert fields_of(md) == ["owner_name"]
    md = good().with_field("summary", FieldValue("x", FieldSource.OCR, 1.5))
    assert fields_of(md) == ["summary"]


def test_extra_keys_checked() -> None:
    md = good().with_field("Plate Number", fv("93A-123.45"))
    assert fields_of(md) == ["Plate Number"]
    md = good().with_field("chassis_number", fv("  "))
    assert fields_of(md) == ["chassis_number"]


def test_several_problems_aggregate() -> None:
    md = good().with_field("owner_id", fv("12345")).with_field("issue_date", fv("2022/08/09"))
    with pytest.raises(MetadataInvalid) as err:
        ensure_valid(md, today=TODAY)
    assert [e.field for e in err.value.errors] == ["owner_id", "issue_date"]
    assert err.value.field == "owner_id, issue_date"
    assert isinstance(err.value, ValidationError)
