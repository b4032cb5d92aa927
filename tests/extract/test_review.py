from __future__ import annotations

import hashlib
from datetime import date

import pytest

from service.domain.errors import ValidationError
from service.domain.fields import FieldSource, FieldValue
from service.domain.schema import MetadataInvalid, validate_metadata
from service.extract.config import ExtractConfig
from service.extract.extractor import extract_pages
from service.extract.review import apply_corrections, manual_extraction, needs_review, record_audit
from service.paths import get_paths
from service.store import Store
from service.store.audit import verify_chain
from tests.extract.pages import decision, residence_certificate

TODAY = date(2026, 1, 1)


def test_needs_review_lists_flagged_and_low_confidence_fields() -> None:
    ex = extract_pages([residence_certificate(owner_id="003088001234")], today=TODAY)
    assert needs_review(ex, 0.85) == ["owner_id"]
    low = extract_pages([decision(conf=0.6)], today=TODAY)
    assert {"number_symbol", "issue_date", "summary"} <= set(needs_review(low, 0.85))
    assert "number_symbol" not in needs_review(low, 0.5)


def test_correction_produces_manual_field_and_audit_entry() -> None:
    ex = extract_pages([decision(conf=0.6)], today=TODAY)
    fixed, entries = apply_corrections(ex, {"issue_date": "ngày 10 tháng 8 năm 2022", "summary": None}, "can-bo-01",
                                       today=TODAY)
    assert fixed.get("issue_date") == FieldValue("2022-08-10", FieldSource.MANUAL, 1.0)
    assert fixed.get("summary") is None
    assert not fixed.flagged("issue_date")
    assert [(e["action"], e["field"], e["old"], e["new"]) for e in entries] == [
        ("field_corrected", "issue_date", "2022-08-09", "2022-08-10"),
        ("field_cleared", "summary", ex.get("summary").value, None),  # type: ignore[union-attr]
    ]
    assert entries[0]["actor"] == "can-bo-01" and entries[0]["old_source"] == "ocr"
    assert entries[0]["old_confidence"] == pytest.approx(0.6)
    # The original is untouched (pure function).
    assert ex.get("issue_date").source is FieldSource.OCR  # type: ignore[union-attr]


def test_confirming_a_value_is_audited_as_confirmation() -> None:
    ex = extract_pages([decision()], today=TODAY)
    fixed, entries = apply_corrections(ex, {"number_symbol": "Số: 1403/QĐ-SNV"}, "can-bo-01", today=TODAY)
    assert entries[0]["action"] == "field_confirmed"
    assert fixed.get("number_symbol") == FieldValue("1403/QĐ-SNV", FieldSource.MANUAL, 1.0)


def test_bad_corrections_change_nothing() -> None:
    ex = extract_pages([decision()], today=TODAY)
    with pytest.raises(ValidationError) as err:
        apply_corrections(ex, {"owner_id": "003099000001"}, "can-bo-01", today=TODAY)
    assert err.value.field == "owner_id"
    with pytest.raises(MetadataInvalid) as many:
        apply_corrections(ex, {"issue_date": "31/02/2022", "number_symbol": "abc", "summary": "ok"}, "can-bo-01",
                          today=TODAY)
    assert [e.field for e in many.value.errors] == ["issue_date", "number_symbol"]
    with pytest.raises(ValidationError, match="actor"):
        apply_corrections(ex, {"summary": "x"}, "  ", today=TODAY)
    with pytest.raises(ValidationError) as bad_name:
        apply_corrections(ex, {"Biển số": "93A"}, "can-bo-01", today=TODAY)
    assert bad_name.value.field == "Biển số"
    assert ex.get("summary") is not None and ex.get("summary").source is FieldSource.OCR  # type: ignore[union-attr]


def test_invalid_ocr_identifier_fixed_by_officer() -> None:
    ex = extract_pages([residence_certificate(owner_id="003088001234")], today=TODAY)
    fixed, entries = apply_corrections(ex, {"owner_id": "036 088 001234"}, "can-bo-02", today=TODAY)
    assert fixed.get("owner_id") == FieldValue("036088001234", FieldSource.MANUAL, 1.0)
    assert fixed.flags == ()
    # Personal values are fingerprinted in the audit trail by default ...
    assert entries[0]["new"] == "sha256:" + hashlib.sha256(b"036088001234").hexdigest()
    assert "003088001234" not in str(entries)
    # ... or written in clear when configured so.
    _, clear = apply_corrections(ex, {"owner_id": "036088001234"}, "can-bo-02",
                                 config=ExtractConfig(audit_personal_values="clear"), today=TODAY)
    assert (clear[0]["old"], clear[0]["new"]) == ("003088001234", "036088001234")


def test_manual_entry_has_the_same_structure_as_ocr() -> None:
    ocr = extract_pages([residence_certificate()], today=TODAY)
    typed = {name: ocr.get(name).value for name in ocr.field_names()}  # type: ignore[union-attr]
    typed["owner_birth_date"] = "14/02/1988"  # officers type Vietnamese dates
    manual, entries = manual_extraction(ocr.document_type.code, typed, "can-bo-03",
                                        type_name=ocr.document_type.name, today=TODAY)
    assert manual.to_json()["document_type"] == {**ocr.document_type.to_json(), "confidence": 1.0}
    ocr_fields, manual_fields = ocr.to_json()["fields"], manual.to_json()["fields"]
    assert set(ocr_fields) == set(manual_fields)
    for name in ocr.field_names():
        assert manual.get(name) == FieldValue(ocr.get(name).value, FieldSource.MANUAL, 1.0)  # type: ignore[union-attr]
    assert validate_metadata(manual.metadata, today=TODAY) == []
    assert entries[0]["action"] == "document_type_corrected"
    assert len(entries) == 1 + len(typed)


def test_corrections_reach_the_real_audit_chain() -> None:
    ex = extract_pages([residence_certificate(owner_id="003088001234")], today=TODAY)
    _, entries = apply_corrections(ex, {"owner_id": "036088001234", "issue_date": "06/03/2024"}, "can-bo-04",
                                   today=TODAY)
    with Store.open(get_paths()) as store:
        assert record_audit(store, "doc-123", entries) == 2
        rows = store.audit_entries("doc-123")
        assert [(r.actor, r.action, r.details["field"]) for r in rows] == [
            ("can-bo-04", "field_corrected", "owner_id"), ("can-bo-04", "field_corrected", "issue_date")]
        assert rows[1].details["old"] == "2024-03-05" and rows[1].details["new"] == "2024-03-06"
        assert verify_chain(store.conn).ok


def _stored_document(store: Store, ex_metadata: object) -> str:
    from service.store import NewDocument, PageRecord

    pdf = store.files.put(b"%PDF-1.7 test placeholder for the review test")
    image = store.files.put(b"page image bytes")
    page = PageRecord(1, image, "image/png", 1240, 1754, 150.0, "colour", "front", False, None)
    doc = store.add_document(NewDocument("036088001234.GT.XN_CU_TRU", ex_metadata, pdf, (page,)),  # type: ignore
                             actor="can-bo-05")
    return doc.id


def test_correcting_a_stored_document_updates_fields_and_audits() -> None:
    from service.extract.review import correct_stored

    ex = extract_pages([residence_certificate()], today=TODAY)
    with Store.open(get_paths()) as store:
        doc_id = _stored_document(store, ex.metadata)
        updated = correct_stored(store, doc_id, {"valid_until": "06/09/2024"}, "can-bo-05", today=TODAY)
        assert updated.metadata.valid_until == FieldValue("2024-09-06", FieldSource.MANUAL, 1.0)
        actions = [(r.action, r.details.get("field")) for r in store.audit_entries(doc_id)]
        assert ("field_corrected", "valid_until") in actions and actions[-1][0] == "metadata_updated"
        assert store.verify().ok
        before = len(store.audit_entries(doc_id))
        # Invalid or forbidden corrections write nothing.
        with pytest.raises(ValidationError):
            correct_stored(store, doc_id, {"owner_id": None, "owner_name": None}, "can-bo-05", today=TODAY)
        with pytest.raises(ValidationError, match="cannot be changed"):
            correct_stored(store, doc_id, {"document_type_code": "GT.DK_XE"}, "can-bo-05", today=TODAY)
        assert len(store.audit_entries(doc_id)) == before
        assert store.get(doc_id).metadata.owner_id == ex.metadata.owner_id
