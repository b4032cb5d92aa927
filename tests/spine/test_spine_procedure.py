"""The spine's one field-merge policy (typed > reviewed > extracted) and its extraction step."""

from __future__ import annotations

from pathlib import Path

from service.config import load_config
from service.domain.fields import FieldSource, FieldValue
from service.extract.extractor import extract_pages
from service.usecases.procedure import extract, merge_fields
from tests.extract.pages import decision, page, residence_certificate


def typed(value: str) -> FieldValue:
    return FieldValue(value, FieldSource.MANUAL, 1.0)


def test_typed_beats_reviewed_beats_extracted() -> None:
    ex = extract_pages([decision()])
    found = ex.get("number_symbol")
    assert found is not None and found.source is FieldSource.OCR
    issue = ex.get("issue_date")
    assert issue is not None
    out = merge_fields({"number_symbol": typed("99/QĐ-SNV")},
                       {"number_symbol": typed("98/QĐ-SNV"), "issue_date": typed("2022-08-10")}, ex)
    assert out["number_symbol"].value == "99/QĐ-SNV" and out["number_symbol"].source is FieldSource.MANUAL
    assert out["issue_date"].value == "2022-08-10"  # reviewed (corrected) wins over the extracted date
    # Nobody gave the agency: extraction fills it, with its provenance.
    agency = out["issuing_agency"]
    assert agency.source is FieldSource.OCR and agency == ex.get("issuing_agency")


def test_a_value_confirmed_by_the_officer_keeps_the_extraction_provenance() -> None:
    ex = extract_pages([decision()])
    found = ex.get("number_symbol")
    assert found is not None
    out = merge_fields({"number_symbol": typed(found.value)}, {}, ex)
    assert out["number_symbol"] == found


def test_owner_id_and_invalid_values_are_never_taken_from_extraction() -> None:
    ex = extract_pages([residence_certificate(dob="30/02/1988")])
    assert ex.get("owner_id") is not None
    invalid = {f.field for f in ex.flags if f.kind == "invalid"}
    assert invalid
    out = merge_fields({}, {}, ex)
    assert "owner_id" not in out
    assert not invalid & set(out)


def test_without_an_extraction_the_given_values_are_kept_as_they_are() -> None:
    given = {"document_name": typed("Quyết định")}
    assert merge_fields(given, {"issue_date": typed("2022-08-09")}) == {**given, "issue_date": typed("2022-08-09")}


def test_extraction_of_no_text_is_not_an_error(tmp_path: Path) -> None:
    config = load_config(tmp_path / "none.yaml")
    assert extract([None, page()], config) is None
