"""``sohoa config validate``: good files pass, mistakes point at the right line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from service.cli.main import main

GOOD = """\
identity:
  device_id: box-0042
devices:
  camera:
    type: opencv
    source: 0
    dpi: 300
  scanner:
    type: sane
    timeout_s: 20
  panel:
    foot_pedal: null
  printer:
    type: escpos-serial
    port: /dev/ttyUSB0
"""


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    rc = main(list(argv))
    out, err = capsys.readouterr()
    return rc, out, err


def test_a_good_file_passes_and_lists_drivers(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cfg = tmp_path / "config.yaml"
    cfg.write_text(GOOD, encoding="utf-8")
    rc, out, _ = _run(capsys, "config", "validate", str(cfg), "--json")
    assert rc == 0
    assert json.loads(out)["devices"] == {"camera": "opencv", "scanner": "sane", "panel": "gpio",
                                          "qr_reader": None, "printer": "escpos-serial"}


@pytest.mark.parametrize(("bad_line", "replacement", "line", "key"), [
    (10, "    timeout_sec: 20", 10, "devices.scanner.sane.timeout_sec"),  # typo in a union member
    (7, "    dpi: -5", 7, "devices.camera.opencv.dpi"),  # out of range
    (5, "    type: kinect", 5, "devices.camera"),  # unknown driver type
    (12, "    foot_pedal: 99", 12, "devices.panel.foot_pedal"),
    (2, "  device_id: Box_42", 2, "identity.device_id"),
])
def test_mistakes_point_at_their_line(tmp_path: Path, capsys: pytest.CaptureFixture[str], bad_line: int,
                                      replacement: str, line: int, key: str) -> None:
    lines = GOOD.splitlines()
    lines[bad_line - 1] = replacement
    cfg = tmp_path / "config.yaml"
    cfg.write_text("\n".join(lines) + "\n", encoding="utf-8")
    rc, _, err = _run(capsys, "config", "validate", str(cfg))
    assert rc == 6
    assert f"{cfg}:{line}: {key}:" in err
    assert "what to do" in err


def test_yaml_syntax_error_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cfg = tmp_path / "config.yaml"
    cfg.write_text("devices:\n  camera:\n    type: files\n   folder: [unclosed\n", encoding="utf-8")
    rc, _, err = _run(capsys, "config", "validate", str(cfg))
    assert rc == 6 and f"{cfg}:4" in err and "not valid YAML" in err


def test_missing_and_binary_files(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rc, _, err = _run(capsys, "config", "validate", str(tmp_path / "none.yaml"))
    assert rc == 6 and "no such configuration file" in err
    binary = tmp_path / "bin.yaml"
    binary.write_bytes(b"devices:\n  \xff\xfe\n")
    rc, _, err = _run(capsys, "config", "validate", str(binary))
    assert rc == 6 and "not UTF-8" in err


def test_default_location_without_a_file_is_fine(capsys: pytest.CaptureFixture[str]) -> None:
    rc, out, _ = _run(capsys, "config", "validate")
    assert rc == 0 and "embedded defaults" in out
