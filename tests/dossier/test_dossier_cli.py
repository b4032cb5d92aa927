"""One dossier through the CLI, from reception to return, on the real store and the SoftHSM dev token."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from service.cli.main import main
from service.paths import get_paths
from service.signing import pool
from service.signing.verify import verify_pdf
from service.store import Store
from tests.spine.helpers import OWNER, page_image

PROC = "1.001193"  # Đăng ký khai sinh in the bundled sample: TK, GCS, GKH; result KQ.G15.000031


@pytest.fixture
def page(tmp_path: Path) -> Path:
    path = tmp_path / "page.jpg"
    path.write_bytes(page_image())
    return path


def _json(capsys: pytest.CaptureFixture[str], argv: list[str], rc: int = 0):
    capsys.readouterr()
    assert main(argv) == rc, capsys.readouterr().err
    return json.loads(capsys.readouterr().out)


def _refused(capsys: pytest.CaptureFixture[str], argv: list[str], rc: int, text: str) -> None:
    capsys.readouterr()
    assert main(argv) == rc
    err = capsys.readouterr().err
    assert text in err and "what to do" in err


def _open(capsys) -> str:
    out = _json(capsys, ["dossier", "open", "--procedure", PROC, "--owner", OWNER, "--json"])
    assert set(out) == {"dossier", "status"} and out["status"] == "received"
    return str(out["dossier"])


def test_procedures_contract(capsys) -> None:
    rows = _json(capsys, ["procedures", "--json"])
    birth = next(r for r in rows if r["code"] == PROC)
    assert set(birth) == {"code", "name", "components", "result_type"} and birth["result_type"] == "KQ.G15.000031"
    assert birth["components"][0] == {"code": "TK", "name": "Tờ khai đăng ký khai sinh", "required": True}
    assert all(r["result_type"].startswith("KQ.") for r in rows)


def test_one_dossier_from_reception_to_return(capsys, monkeypatch, page, sohoa_home) -> None:
    dossier = _open(capsys)
    assert dossier.startswith("000.00.70.H99-") and dossier.endswith("-0001")
    _refused(capsys, ["dossier", "return", dossier], 5, "no result to return")
    _refused(capsys, ["dossier", "request-papers", dossier, "--reason", "thiếu", "--component", "XYZ"], 5,
             "not part of the procedure")
    out = _json(capsys, ["dossier", "request-papers", dossier, "--reason", "thiếu giấy chứng sinh",
                         "--component", "GCS", "TK", "--json"])
    assert out == {"dossier": dossier, "status": "additional_papers_requested"}
    _refused(capsys, ["digitize", str(page), "--dossier", dossier, "--component", "XYZ", "--no-ocr"], 5,
             "not part of the procedure")
    _refused(capsys, ["digitize", str(page), "--dossier", dossier, "--component", "GCS", "--no-ocr",
                      "--owner", "036088001234"], 5, "not the dossier's owner")
    comp = _json(capsys, ["digitize", str(page), "--dossier", dossier, "--component", "GCS", "--no-ocr", "--json"])
    assert comp["result_code"] == f"{OWNER}.{PROC}.GCS.01" and comp["queued"] and not comp["owner_differs"]
    assert _json(capsys, ["dossier", "list", "--status", "in_progress", "--json"])[0]["dossier"] == dossier

    assert main(["token", "init-dev"]) == 0
    monkeypatch.setenv("SOHOA_PIN", "123456")  # development token only
    try:
        result = _json(capsys, ["dossier", "result", dossier, str(page), "--no-ocr", "--declared-pages", "1",
                                "--json"])
        _refused(capsys, ["dossier", "result", dossier, str(page), "--no-ocr"], 5, "already")
    finally:
        pool.close_all()
    assert set(result) == {"result_code", "pdf", "sha256", "pages", "queued"}
    assert result["result_code"] == f"{OWNER}.KQ.G15.000031" and result["pages"] == 1 and result["queued"]
    signed = Path(result["pdf"]).read_bytes()
    report = verify_pdf(signed, [])
    assert report.pdfa == "2b" and len(report.signatures) == 2 and all(s.valid for s in report.signatures)
    _refused(capsys, ["digitize", str(page), "--dossier", dossier, "--component", "TK", "--no-ocr"], 5,
             "result is already digitized")

    assert _json(capsys, ["dossier", "return", dossier, "--json"]) == {"dossier": dossier, "status": "returned"}
    _refused(capsys, ["dossier", "return", dossier], 5, "already returned")
    _refused(capsys, ["dossier", "refuse", dossier, "--reason", "muộn"], 5, "already returned")

    view = _json(capsys, ["dossier", "show", dossier, "--json"])
    assert set(view) == {"dossier", "procedure", "owner", "status", "history", "documents"}
    assert (view["dossier"], view["procedure"], view["owner"], view["status"]) == (dossier, PROC, OWNER, "returned")
    assert [h["status"] for h in view["history"]] == ["received", "additional_papers_requested", "in_progress",
                                                       "result_ready", "returned"]
    assert all({"status", "at", "actor"} <= set(h) for h in view["history"])
    assert view["history"][1]["components"] == ["GCS", "TK"]
    docs = view["documents"]
    assert [(d["kind"], d["state"]) for d in docs] == [("component", "stored"), ("result", "signed")]
    assert docs[1]["result_code"] == result["result_code"] and docs[1]["pdf"] == result["pdf"]
    assert all({"result_code", "kind", "state", "pdf"} <= set(d) for d in docs)

    capsys.readouterr()
    assert main(["audit", "verify"]) == 0, capsys.readouterr().out
    with Store.open(get_paths(sohoa_home)) as store:
        actions = [e.action for e in store.audit_entries(dossier)]
        assert actions == ["dossier_opened"] + ["dossier_status"] * 4
        assert store.document_kind(store.get(result["result_code"]).id) == "result"


def test_withdraw_refuse_and_listing(capsys) -> None:
    first, second = _open(capsys), _open(capsys)
    assert first.endswith("-0001") and second.endswith("-0002")
    _refused(capsys, ["dossier", "withdraw", first, "--reason", " "], 5, "reason is needed")
    assert _json(capsys, ["dossier", "withdraw", first, "--reason", "công dân xin rút", "--json"])["status"] \
        == "withdrawn"
    assert _json(capsys, ["dossier", "refuse", second, "--reason", "không thuộc thẩm quyền", "--json"])["status"] \
        == "refused"
    _refused(capsys, ["dossier", "request-papers", second, "--reason", "r", "--component", "TK"], 5, "already refused")
    assert [r["dossier"] for r in _json(capsys, ["dossier", "list", "--status", "withdrawn", "--json"])] == [first]
    assert len(_json(capsys, ["dossier", "list", "--owner", OWNER, "--json"])) == 2
    assert _json(capsys, ["dossier", "list", "--owner", "036088001234", "--json"]) == []
    _refused(capsys, ["dossier", "list", "--status", "done"], 5, "not a dossier status")
    _refused(capsys, ["dossier", "show", "000.00.70.H99-000000-0009"], 7, "no dossier")
    _refused(capsys, ["dossier", "open", "--procedure", "9.999999", "--owner", OWNER], 7, "not in the catalogue")
    _refused(capsys, ["dossier", "open", "--procedure", PROC, "--owner", "12"], 5, "owner_id")
    capsys.readouterr()
    assert main(["audit", "verify"]) == 0


def test_digitize_needs_owner_and_type_without_a_dossier(capsys, page) -> None:
    _refused(capsys, ["digitize", str(page), "--doc-type", "KQ.G15.000031", "--no-ocr"], 5, "owner")
    _refused(capsys, ["digitize", str(page), "--component", "TK", "--owner", OWNER, "--no-ocr"], 5, "go together")


def test_a_failed_signature_keeps_the_result_and_return_waits_for_both(capsys, monkeypatch, page) -> None:
    import io
    import sys

    dossier = _open(capsys)
    assert main(["token", "init-dev"]) == 0
    monkeypatch.delenv("SOHOA_PIN", raising=False)
    try:
        monkeypatch.setattr(sys, "stdin", io.StringIO("111111\n"))
        _refused(capsys, ["dossier", "result", dossier, str(page), "--no-ocr", "--pin-stdin"], 12, "wrong PIN")
        view = _json(capsys, ["dossier", "show", dossier, "--json"])
        assert view["status"] == "result_ready" and [d["state"] for d in view["documents"]] == ["stored"]
        _refused(capsys, ["dossier", "return", dossier], 5, "signatures")
        code = view["documents"][0]["result_code"]
        monkeypatch.setenv("SOHOA_PIN", "123456")
        assert main(["sign", code]) == 0
        _refused(capsys, ["dossier", "return", dossier], 5, "signatures")
        assert main(["sign", code, "--role", "agency"]) == 0
    finally:
        pool.close_all()
    assert _json(capsys, ["dossier", "return", dossier, "--json"])["status"] == "returned"
    capsys.readouterr()
    assert main(["audit", "verify"]) == 0


def test_text_output_for_people(capsys) -> None:
    dossier = _open(capsys)
    capsys.readouterr()
    assert main(["procedures"]) == 0
    assert "1.001193  Đăng ký khai sinh  (result: KQ.G15.000031)" in capsys.readouterr().out
    assert main(["dossier", "show", dossier]) == 0
    out = capsys.readouterr().out
    assert f"dossier {dossier}  procedure {PROC}  status received" in out and "by officer" in out
    assert main(["dossier", "list"]) == 0
    assert dossier in capsys.readouterr().out
    assert main(["dossier"]) == 2
