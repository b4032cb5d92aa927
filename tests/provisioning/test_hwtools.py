"""Technician device commands through the CLI, on real simulated devices; faults exit 14 with a remedy."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from PIL import Image

from service.cli.main import main
from service.paths import get_paths
from tests.support.pty import FakeEscposPrinter, PtyPair
from tests.support.sane import sane_test_backend


def _config(text: str) -> None:
    paths = get_paths().ensure()
    paths.config.write_text(text, encoding="utf-8")


def test_capture_from_the_files_camera(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pages = tmp_path / "pages"
    pages.mkdir()
    Image.new("RGB", (30, 40), "white").save(pages / "a.png")
    _config(f"devices:\n  camera: {{type: files, folder: {pages}}}\n")
    assert main(["device", "capture", str(tmp_path / "shot")]) == 0
    out = Path(capsys.readouterr().out.strip())
    assert out == tmp_path / "shot.png" and out.read_bytes() == (pages / "a.png").read_bytes()


def test_capture_fault_and_missing_section(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _config(f"devices:\n  camera: {{type: opencv, source: {tmp_path / 'none.avi'}}}\n")
    assert main(["device", "capture", str(tmp_path / "x.png")]) == 14
    assert "plug in the camera" in capsys.readouterr().err
    _config("devices:\n  camera: null\n")
    assert main(["device", "capture", str(tmp_path / "x.png")]) == 6


def test_scan_and_jam(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    sane_test_backend()
    base = "devices:\n  scanner:\n    type: sane\n    device: 'test:0'\n    timeout_s: 5\n    options:\n"
    _config(base + "      read-return-value: Default\n")
    assert main(["device", "scan", str(tmp_path / "out"), "--dpi", "50"]) == 0
    assert len(list((tmp_path / "out").glob("*-front.png"))) == 10
    _config(base + "      read-return-value: SANE_STATUS_JAMMED\n")
    assert main(["device", "scan", str(tmp_path / "out2"), "--dpi", "50"]) == 14
    err = capsys.readouterr().err
    assert "paper jam" in err and "what to do: open the feeder" in err
    _config(base + "      read-return-value: Default\n")  # leave the shared test device clean


def test_read_qr(capsys: pytest.CaptureFixture[str]) -> None:
    with PtyPair() as pair:
        _config(f"devices:\n  qr_reader: {{type: serial, port: {pair.port}, timeout_s: 0.5}}\n")
        timer = threading.Timer(0.3, pair.write, args=("001099012345|Trần Thị Bình\r\n".encode(),))
        timer.start()
        assert main(["device", "read-qr", "--timeout", "5"]) == 0
        assert capsys.readouterr().out.strip() == "001099012345|Trần Thị Bình"
        assert main(["device", "read-qr", "--timeout", "0.2"]) == 7
        threading.Timer(0.3, pair.write, args=(b"\xc3\x28garbage\n",)).start()  # sent once the port is open
        assert main(["device", "read-qr", "--timeout", "2"]) == 14
        assert "UTF-8" in capsys.readouterr().err


def test_print_test_receipt(capsys: pytest.CaptureFixture[str]) -> None:
    with PtyPair() as pair:
        device = FakeEscposPrinter(pair)
        device.start()
        _config(f"devices:\n  printer: {{type: escpos-serial, port: {pair.port}, timeout_s: 0.5}}\n")
        assert main(["device", "print-test"]) == 0
        assert "paper ok" in capsys.readouterr().out
        device.status[2] = 0x16  # cover open
        assert main(["device", "print-test"]) == 14
        assert "close the printer cover" in capsys.readouterr().err
        device.stop()
