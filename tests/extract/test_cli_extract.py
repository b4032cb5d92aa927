from __future__ import annotations

import json
from pathlib import Path

import pytest

from service.cli.main import main
from service.domain.errors import ExitCode
from tests.extract.pages import decision, residence_certificate

CONTRACT_FIELDS = {"owner_id", "owner_name", "owner_birth_date", "organization_name", "organization_founded_year",
                   "document_name", "number_symbol", "issue_date", "issuing_agency", "summary", "valid_until",
                   "validity_scope", "extra"}


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    rc = main(argv)
    out = capsys.readouterr()
    return rc, out.out, out.err


def test_extract_from_ocr_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    f = tmp_path / "ocr.json"
    f.write_text(json.dumps({"pages": [residence_certificate(owner_id="003088001234").to_json()]},
                            ensure_ascii=False), encoding="utf-8")
    rc, out, err = run(["extract", "--ocr-json", str(f), "--json"], capsys)
    assert rc == 0
    data = json.loads(out)
    assert set(data) == {"document_type", "fields"} and set(data["fields"]) == CONTRACT_FIELDS
    assert data["document_type"]["code"] == "GT.XN_CU_TRU"
    assert data["fields"]["owner_birth_date"]["value"] == "1988-02-14"
    assert data["fields"]["extra"]["residence"]["source"] == "ocr"
    # Review notes name the field only: no personal data on stderr.
    assert "review: owner_id (invalid)" in err
    assert "003088001234" not in err and "Nguyễn" not in err


def test_extract_accepts_a_bare_page_or_a_list(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    f = tmp_path / "page.json"
    f.write_text(json.dumps(decision().to_json(), ensure_ascii=False), encoding="utf-8")
    rc, out, _ = run(["extract", "--ocr-json", str(f)], capsys)
    assert rc == 0 and "VB.QDD" in out and "1403/QĐ-SNV" in out
    f.write_text(json.dumps([decision().to_json()], ensure_ascii=False), encoding="utf-8")
    rc, out, _ = run(["extract", "--ocr-json", str(f), "--json"], capsys)
    assert json.loads(out)["fields"]["number_symbol"]["value"] == "1403/QĐ-SNV"


@pytest.mark.parametrize("content,needle", [
    (b"{not json", "not UTF-8 JSON"),
    (b"\xff\xfe\x00garbage", "not UTF-8 JSON"),
    (b'{"width": 10}', "is not an OCR page"),
    (b'{"pages": []}', "no pages"),
    (b'{"width": 10, "height": 10, "lines": [{"text": "x", "box": [1, 2], "confidence": 1}]}', "box must be"),
    (b'{"width": 10, "height": 10, "lines": [{"text": "x", "box": [1, 2, 3, 4], "confidence": 1, '
     b'"flat_box": [5, 2, 3, 4]}]}', "flat_box must be"),
    (b'{"width": 10, "height": 10, "flat_size": [10], "lines": []}', "flat_size must be"),
])
def test_bad_ocr_json(tmp_path: Path, capsys: pytest.CaptureFixture[str], content: bytes, needle: str) -> None:
    f = tmp_path / "bad.json"
    f.write_bytes(content)
    rc, out, err = run(["extract", "--ocr-json", str(f), "--json"], capsys)
    assert rc == ExitCode.INPUT and out == ""
    assert needle in err and "what to do" in err


def test_missing_inputs(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rc, _, err = run(["extract", "--json"], capsys)
    assert rc == ExitCode.INPUT and "nothing to extract" in err
    rc, _, err = run(["extract", "--ocr-json", str(tmp_path / "nope.json")], capsys)
    assert rc == ExitCode.INPUT and "cannot be read" in err


def test_qr_text_alone_and_merged(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    payload = "036088001234||Nguyễn Văn Thử|14021988|Nam|Xóm 5, xã Hải Minh|01012022"
    rc, out, _ = run(["extract", "--qr-text", payload, "--json"], capsys)
    data = json.loads(out)
    assert rc == 0 and data["document_type"]["code"] == "GT.CCCD"
    assert data["fields"]["owner_id"] == {"value": "036088001234", "confidence": 1.0, "source": "qr"}
    f = tmp_path / "ocr.json"
    f.write_text(json.dumps(residence_certificate(owner_id="003088001234").to_json(), ensure_ascii=False), "utf-8")
    rc, out, err = run(["extract", "--ocr-json", str(f), "--qr-text", payload, "--json"], capsys)
    data = json.loads(out)
    assert data["document_type"]["code"] == "GT.XN_CU_TRU"
    assert data["fields"]["owner_id"]["source"] == "qr" and "owner_id" not in err
    rc, _, err = run(["extract", "--qr-text", payload.replace("|Nam|", "|Nữ|")], capsys)
    assert rc == ExitCode.INPUT and "gender" in err


def test_extract_image_through_the_real_ocr_engine(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from service.synth import render as synth
    from service.synth.samples import sample_document

    page = synth.render_document(sample_document("gxn-cu-tru-0001"), dpi=150, condition="scanner", seed=3)[0]
    image = tmp_path / "page.png"
    page.image.save(image)
    rc, out, _ = run(["extract", str(image), "--json"], capsys)
    assert rc == 0
    fields = json.loads(out)["fields"]
    assert fields["number_symbol"]["value"] == "152/GXN"
    assert fields["issue_date"]["value"] == "2024-03-05"
    assert fields["owner_id"]["value"] == "036088001234"
