"""``sohoa device selftest`` against real simulated devices: SANE test backend, ptys, MockFactory."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from PIL import Image

from service.cli.main import main
from tests.support.pty import FakeEscposPrinter, PtyPair
from tests.support.sane import sane_test_backend


def _pages(folder: Path) -> Path:
    folder.mkdir()
    Image.new("RGB", (20, 20), "white").save(folder / "p1.png")
    return folder


def test_all_devices_pass(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    sane_test_backend()
    pages = _pages(tmp_path / "pages")
    with PtyPair() as qr, PtyPair() as prn:
        printer = FakeEscposPrinter(prn)
        printer.start()
        cfg = tmp_path / "config.yaml"
        cfg.write_text(f"""devices:
  camera: {{type: files, folder: {pages}}}
  scanner: {{type: sane, device: "test:1", timeout_s: 5}}
  panel: {{pin_factory: mock}}
  qr_reader: {{type: serial, port: {qr.port}}}
  printer: {{type: escpos-serial, port: {prn.port}, timeout_s: 0.5}}
""", encoding="utf-8")
        rc = main(["device", "selftest", "--config", str(cfg)])
        table = capsys.readouterr().out
        rc_json = main(["device", "selftest", "--config", str(cfg), "--json"])
        report = json.loads(capsys.readouterr().out)
        printer.stop()
    assert rc == 0 and rc_json == 0
    assert table.splitlines()[0].split() == ["device", "driver", "result", "ms", "detail"]
    assert sum(" OK " in line for line in table.splitlines()) == 5
    assert report["ok"] and [d["state"] for d in report["devices"]] == ["ok"] * 5


def test_failures_exit_14_with_remedies(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cfg = tmp_path / "config.yaml"
    cfg.write_text(f"""devices:
  camera: {{type: opencv, source: {tmp_path / 'no-video.avi'}}}
  qr_reader: {{type: serial, port: {tmp_path / 'ttyNONE'}}}
""", encoding="utf-8")
    assert main(["device", "selftest", "--config", str(cfg)]) == 14
    out = capsys.readouterr().out
    assert "MISSING" in out and "-> plug in the QR reader" in out
    assert main(["device", "selftest", "--config", str(cfg), "--json"]) == 14
    report = json.loads(capsys.readouterr().out)
    states = {d["device"]: d["state"] for d in report["devices"]}
    assert states == {"camera": "missing", "scanner": "not-configured", "panel": "not-configured",
                      "qr_reader": "missing", "printer": "not-configured"}


def test_invalid_config_is_a_config_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cfg = tmp_path / "config.yaml"
    cfg.write_text("devices:\n  scanner:\n    type: sane\n    tiemout_s: 3\n", encoding="utf-8")
    assert main(["device", "selftest", "--config", str(cfg)]) == 6
    assert f"{cfg}:4: devices.scanner.sane.tiemout_s" in capsys.readouterr().err
