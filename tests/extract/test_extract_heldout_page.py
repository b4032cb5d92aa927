"""A page from the independent held-out generator (tune slice), read by the shipped OCR and extracted:
the fields a clerk files the document under come out exactly."""

from __future__ import annotations

from bench.ocr_pages import DATA, heldout_fields
from service.extract.extractor import extract_pages
from service.ocr.engine import get_engine
from service.synth.heldout import plan, render_heldout
from service.synth.heldout_text import load_rows, specs_for


def test_a_summary_citing_a_legal_code_is_extracted_exactly_from_a_heldout_page() -> None:
    # the summary cites "Luật số 102-sl/l-004": AsterNet re-reads the header lines and takes the
    # "l" for a "1", less surely than the fast recognizer reads it right; the surer reading stands
    specs = specs_for(load_rows(DATA), "tune", 30)
    hp = plan("tune", 30, specs)[20]
    want = heldout_fields(hp.spec)
    assert "102-sl/l-004" in str(want["summary"])
    page = render_heldout(hp.spec, family=hp.family, body_pt=hp.body_pt, condition="clean", seed=hp.seed)
    got = extract_pages([get_engine().read_page(page.image)])
    for name in ("number_symbol", "issue_date", "issuing_agency", "summary"):
        fv = got.get(name)
        assert fv is not None and fv.value == want[name], name
    assert got.document_type.code == want["document_type"]
