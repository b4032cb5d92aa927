"""The spine commands end to end (in-process ``main``): digitize, show, list, export, audit verify, demo."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from pathlib import Path

import pytest

from service.cli.main import main
from service.domain.errors import ExitCode
from service.pdf import validate_pdfa

from .helpers import DOC_TYPE, OWNER, page_image, store_rows, stored_files

Run = Callable[..., tuple[int, str, str]]


@pytest.fixture
def run(capsys: pytest.CaptureFixture[str]) -> Run:
    def _run(*argv: str) -> tuple[int, str, str]:
        code = main(list(argv))
        out = capsys.readouterr()
        return code, out.out, out.err
    return _run


def digitize_args(*images: Path, owner: str = OWNER, extra: tuple[str, ...] = ()) -> list[str]:
    return ["digitize", *map(str, images), "--owner", owner, "--doc-type", DOC_TYPE, *extra]


def test_digitize_json_contract_and_stored_document(run: Run, write_page: Callable[..., Path],
                                                    sohoa_home: Path) -> None:
    a, b = write_page(seed=1), write_page(seed=2)
    code, out, err = run(*digitize_args(a, b, extra=(
        "--field", "document_name=Giấy khai sinh", "--field", "issue_date=2022-08-09",
        "--field", "number_symbol=1403/QĐ-UBND", "--field", "extra.book_number=12",
        "--declared-pages", "2", "--json")))
    assert code == 0, err
    data = json.loads(out)
    assert set(data) == {"result_code", "pdf", "sha256", "pages", "queued"}
    assert data["result_code"] == f"{OWNER}.{DOC_TYPE}" and data["pages"] == 2 and data["queued"] is True
    pdf = Path(data["pdf"]).read_bytes()
    assert validate_pdfa(pdf).ok
    assert str(sohoa_home) in data["pdf"]
    assert OWNER not in err  # no personal data in logs

    code, out, _ = run("show", data["result_code"], "--json")
    shown = json.loads(out)
    assert code == 0 and shown["sha256"] == data["sha256"] and shown["outbox_state"] == "queued"
    assert shown["metadata"]["fields"]["number_symbol"]["value"] == "1403/QĐ-UBND"
    assert shown["metadata"]["fields"]["extra"]["book_number"]["source"] == "manual"
    assert [p["sha256"] for p in shown["page_images"]] == [
        hashlib.sha256(p.read_bytes()).hexdigest() for p in (a, b)]

    code, out, _ = run("show", data["result_code"])
    assert code == 0 and "issue_date: 2022-08-09" in out and "outbox:       queued" in out

    code, out, _ = run("digitize", str(a), "--owner", OWNER, "--doc-type", DOC_TYPE, "--json")
    assert json.loads(out)["result_code"] == f"{OWNER}.{DOC_TYPE}.02"

    code, out, _ = run("list")
    assert code == 0 and f"{OWNER}.{DOC_TYPE}.02\t1 p" in out and f"{OWNER}.{DOC_TYPE}\t2 p" in out

    code, out, _ = run("audit", "verify")
    assert code == 0 and "OK: audit chain of 2 rows intact; 2 documents" in out


def test_export_writes_pdf_and_metadata(run: Run, write_page: Callable[..., Path], tmp_path: Path) -> None:
    code, out, _ = run(*digitize_args(write_page(), extra=("--json",)))
    result = json.loads(out)
    dest = tmp_path / "export"
    code, out, _ = run("export", result["result_code"], str(dest))
    assert code == 0
    pdf, meta = dest / f"{result['result_code']}.pdf", dest / f"{result['result_code']}.json"
    assert pdf.read_bytes() == Path(result["pdf"]).read_bytes()
    assert json.loads(meta.read_text(encoding="utf-8"))["sha256"] == result["sha256"]
    code, _, err = run("export", result["result_code"], str(dest))
    assert code == ExitCode.INPUT and "already exists" in err
    code, _, err = run("export", "NO.SUCH", str(tmp_path / "x"))
    assert code == ExitCode.NOT_FOUND and "sohoa list" in err


def test_owner_fallback_keeps_code_shape(run: Run, write_page: Callable[..., Path]) -> None:
    code, out, err = run(*digitize_args(write_page(), owner="", extra=(
        "--field", "owner_name=Nguyễn Văn Thử", "--field", "owner_birth_date=1988-02-14", "--json")))
    assert code == 0, err
    assert json.loads(out)["result_code"] == f".{DOC_TYPE}"


def corrupt(tmp: Path) -> Path:
    p = tmp / "corrupt.jpg"
    p.write_bytes(b"\xff\xd8\xff\xe0" + b"\x00garbage" * 50)
    return p


def truncated(tmp: Path) -> Path:
    p = tmp / "truncated.jpg"
    p.write_bytes(page_image()[:4000])
    return p


def non_image(tmp: Path) -> Path:
    p = tmp / "notes.txt"
    p.write_text("not an image at all")
    return p


def bomb(tmp: Path) -> Path:
    from .test_spine_capture import bomb_png

    p = tmp / "bomb.png"
    p.write_bytes(bomb_png())
    return p


def low_dpi(tmp: Path) -> Path:
    p = tmp / "low.jpg"
    p.write_bytes(page_image(dpi=96))
    return p


def grey(tmp: Path) -> Path:
    p = tmp / "grey.png"
    p.write_bytes(page_image(mode="L", fmt="PNG"))
    return p


@pytest.mark.parametrize("make, exit_code, words", [
    (corrupt, ExitCode.INPUT, "corrupt or truncated"),
    (truncated, ExitCode.INPUT, "corrupt or truncated"),
    (non_image, ExitCode.INPUT, "not an image"),
    (bomb, ExitCode.INPUT, "decompression bomb"),
    (lambda t: t / "missing.jpg", ExitCode.INPUT, "does not exist"),
    (low_dpi, ExitCode.QUALITY, "96 dpi"),
    (grey, ExitCode.QUALITY, "colour is required"),
])
def test_bad_page_gives_clear_error_and_writes_nothing(run: Run, write_page: Callable[..., Path], tmp_path: Path,
                                                       sohoa_home: Path, make: Callable[[Path], Path],
                                                       exit_code: ExitCode, words: str) -> None:
    good = write_page()
    code, out, err = run(*digitize_args(good, make(tmp_path)))
    assert code == exit_code
    assert "page 2" in err and words in err and "what to do:" in err
    assert out == ""
    assert not any(store_rows(sohoa_home).values())
    assert stored_files(sohoa_home) == []


@pytest.mark.parametrize("extra, exit_code, words", [
    (("--field", "colour=red"), ExitCode.VALIDATION, "colour: is not a known field"),
    (("--field", "issue_date"), ExitCode.VALIDATION, "is not name=value"),
    (("--field", "issue_date=09/08/2022"), ExitCode.VALIDATION, "issue_date"),
    (("--declared-pages", "3"), ExitCode.VALIDATION, "3 pages declared but 1 captured"),
    (("--sticky-note", "1"), ExitCode.VALIDATION, "sticky_note"),
])
def test_bad_arguments_write_nothing(run: Run, write_page: Callable[..., Path], sohoa_home: Path,
                                     extra: tuple[str, ...], exit_code: ExitCode, words: str) -> None:
    code, _, err = run(*digitize_args(write_page(), extra=extra))
    assert code == exit_code and words in err
    assert not any(store_rows(sohoa_home).values()) and stored_files(sohoa_home) == []


def test_bad_owner_and_doc_type_are_named(run: Run, write_page: Callable[..., Path]) -> None:
    code, _, err = run("digitize", str(write_page()), "--owner", "12345", "--doc-type", DOC_TYPE)
    assert code == ExitCode.VALIDATION and "owner_id" in err
    code, _, err = run("digitize", str(write_page()), "--owner", OWNER, "--doc-type", "bad code!")
    assert code == ExitCode.VALIDATION and "document_type_code" in err
    code, _, err = run("digitize", str(write_page()), "--owner", "", "--doc-type", DOC_TYPE)
    assert code == ExitCode.VALIDATION and "fallback" in err


def test_mismatch_with_reason_is_stored(run: Run, write_page: Callable[..., Path]) -> None:
    code, out, err = run(*digitize_args(write_page(), extra=(
        "--declared-pages", "2", "--mismatch-reason", "page 2 kept by the owner", "--json")))
    assert code == 0, err
    code, out, _ = run("show", json.loads(out)["result_code"], "--json")
    shown = json.loads(out)
    assert shown["declared_pages"] == 2 and shown["mismatch_reason"] == "page 2 kept by the owner"


def test_duplex_blank_back_and_sticky_note_are_recorded(run: Run, write_page: Callable[..., Path]) -> None:
    imgs = [write_page(seed=1), write_page(blank=True), write_page(seed=2), write_page(seed=3)]
    code, out, err = run(*digitize_args(*imgs, extra=("--duplex", "--sticky-note", "4", "--declared-pages", "2",
                                                      "--json")))
    assert code == 0, err
    code, out, _ = run("show", json.loads(out)["result_code"], "--json")
    pages = json.loads(out)["page_images"]
    assert [(p["side"], p["blank"], p["sticky_note_of"]) for p in pages] == [
        ("front", False, None), ("back", True, None), ("front", False, None), ("front", False, 3)]


def test_demo_prints_code_pdf_and_outbox(run: Run) -> None:
    code, out, err = run("demo")
    assert code == 0, err
    assert "result code : 036088001234.GT.XN_CU_TRU" in out
    assert "outbox      : queued" in out and "1 blank back(s)" in out
    assert "signature: skipped (no development token yet" in out  # this test home has no token
    pdf_line = next(ln for ln in out.splitlines() if "PDF/A-2b" in ln)
    pdf = Path(pdf_line.split(":", 1)[1].strip())
    assert pdf.name == "036088001234.GT.XN_CU_TRU.pdf"
    assert validate_pdfa(pdf.read_bytes()).ok
    code, out, _ = run("demo", "--no-ocr", "--no-sign", "--json")
    data = json.loads(out)
    assert data["result_code"] == "036088001234.GT.XN_CU_TRU.02" and data["queued"] is True
    assert data["notes"][0] == "text layer: not requested"


def test_audit_verify_fails_with_exit_code_on_tampering(run: Run, write_page: Callable[..., Path],
                                                        sohoa_home: Path) -> None:
    import sqlite3

    run(*digitize_args(write_page()))
    run(*digitize_args(write_page(seed=4)))
    conn = sqlite3.connect(sohoa_home / "sohoa.db")
    conn.execute("DROP TRIGGER audit_no_update")
    conn.execute("UPDATE audit SET action='nothing' WHERE seq=1")
    conn.commit()
    conn.close()
    code, _, err = run("audit", "verify")
    assert code == ExitCode.STORE
    assert "FAIL audit row 1: content was edited" in err


def test_digitize_with_ocr_adds_a_copyable_vietnamese_text_layer(run: Run, tmp_path: Path) -> None:
    import io
    import subprocess

    from service.synth.render import render_document
    from service.synth.samples import sample_document

    [page] = render_document(sample_document("gxn-cu-tru-0001"), dpi=300)
    front, back = tmp_path / "front.jpg", tmp_path / "back.jpg"
    buf = io.BytesIO()
    page.image.save(buf, "JPEG", quality=90, dpi=(300, 300))
    front.write_bytes(buf.getvalue())
    back.write_bytes(page_image(blank=True))
    code, out, err = run("digitize", str(front), str(back), "--duplex", "--owner", "036088001234",
                         "--doc-type", "GT.XN_CU_TRU", "--json")
    assert code == 0, err
    text = subprocess.run(["pdftotext", json.loads(out)["pdf"], "-"], capture_output=True, text=True).stdout
    assert "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM" in text and "Độc lập - Tự do - Hạnh phúc" in text


def test_digitize_without_fields_stores_what_extraction_read(run: Run, tmp_path: Path) -> None:
    # TT 01/2023 Art. 9: with no --field values the Art. 9 fields come from OCR + extraction.
    import io

    from service.synth.render import render_document
    from service.synth.samples import sample_document

    doc = sample_document("qd-1456-nam-dinh")
    first = render_document(doc, dpi=300)[0]
    image = tmp_path / "p1.jpg"
    buf = io.BytesIO()
    first.image.save(buf, "JPEG", quality=90, dpi=(300, 300))
    image.write_bytes(buf.getvalue())
    code, out, err = run("digitize", str(image), "--owner", "", "--doc-type", "VB.QD", "--json")
    # No owner id and nothing naming the owner on a decision: the fallback fields are required.
    assert code == int(ExitCode.VALIDATION) and "owner" in err
    code, out, err = run("digitize", str(image), "--owner", "036088001234", "--doc-type", "VB.QD", "--json")
    assert code == 0, err
    shown = json.loads(run("show", json.loads(out)["result_code"], "--json")[1])
    fields = shown["metadata"]["fields"] if "metadata" in shown else shown["fields"]
    assert fields["number_symbol"]["value"] == doc.number_symbol
    assert fields["number_symbol"]["source"] == "ocr"
    assert fields["issue_date"]["value"] == doc.issue_date
    assert fields["owner_id"]["source"] == "manual"
    # --no-extract keeps the old behaviour: only what was typed is stored.
    code, out, err = run("digitize", str(image), "--owner", "036088001234", "--doc-type", "VB.QD", "--no-extract",
                         "--json")
    assert code == 0, err
    shown = json.loads(run("show", json.loads(out)["result_code"], "--json")[1])
    fields = shown["metadata"]["fields"] if "metadata" in shown else shown["fields"]
    assert fields["number_symbol"] is None
