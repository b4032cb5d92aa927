"""``sohoa verify --no-trust``: PDF/A-2b and signature integrity without any CA bundle."""

from __future__ import annotations

import io
import json
import sys
from pathlib import Path

import pytest

from service.cli.main import main
from service.paths import get_paths
from service.store import Store

from .conftest import DOC_TYPE, OWNER, page_image


def test_verify_without_a_ca_checks_pdfa_and_integrity(sohoa_home: Path, tmp_path: Path,
                                                       capsys: pytest.CaptureFixture[str],
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    from service.signing import pool

    assert main(["token", "init-dev"]) == 0
    page = tmp_path / "p.png"
    page.write_bytes(page_image("PNG"))
    assert main(["digitize", str(page), "--owner", OWNER, "--doc-type", DOC_TYPE, "--no-ocr"]) == 0
    try:
        monkeypatch.setattr(sys, "stdin", io.StringIO("123456\n"))
        assert main(["sign", f"{OWNER}.{DOC_TYPE}", "--pin-stdin"]) == 0
    finally:
        pool.close_all()
    with Store.open(get_paths(sohoa_home)) as store:
        pdf = store.files.path_for(store.get(f"{OWNER}.{DOC_TYPE}").pdf_sha256)
    (sohoa_home / "pki" / "dev-trust.pem").unlink()  # no CA on this machine
    capsys.readouterr()
    assert main(["verify", str(pdf)]) == 6  # the trusting check needs a CA bundle
    assert "CA bundle" in capsys.readouterr().err
    assert main(["verify", str(pdf), "--no-trust", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["pdfa"] == "2b" and report["trust_checked"] is False
    assert [(s["intact"], s["valid"]) for s in report["signatures"]] == [(True, True)]
    assert main(["verify", str(pdf), "--no-trust"]) == 0
    assert "INTACT and VALID" in capsys.readouterr().out
    original = pdf.read_bytes()
    image = original.index(b"stream", original.index(b"/Subtype /Image")) + 200
    altered = bytearray(original)
    altered[image] ^= 0x01  # one bit of the page image, inside the signed range
    forged = tmp_path / "forged.pdf"
    forged.write_bytes(bytes(altered))
    assert main(["verify", str(forged), "--no-trust"]) == 11
    assert "ALTERED" in capsys.readouterr().out
    broken = bytearray(original)
    at = original.index(b"/Type /Page")
    broken[at + 1] ^= 0x01  # the page tree itself damaged: a clear input error, no traceback
    forged.write_bytes(bytes(broken))
    assert main(["verify", str(forged), "--no-trust"]) == 3
    assert "corrupt" in capsys.readouterr().err
