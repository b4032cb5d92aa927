"""Depth, size and duplicate-key limits of the parsers: a clear error, never a RecursionError or a 500."""

from __future__ import annotations

from pathlib import Path

import pytest

from service.cli.main import main
from service.domain.errors import InputError
from service.procedures import catalogue as procedure_catalogue


def _validate(tmp_path: Path, text: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    path = tmp_path / "config.yaml"
    path.write_text(text, encoding="utf-8")
    code = main(["config", "validate", str(path)])
    return code, capsys.readouterr().err


def test_duplicate_yaml_keys_are_refused_with_their_lines(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, err = _validate(tmp_path, "capture:\n  min_dpi: 200\n  blank_ink_ratio: 0.01\n  min_dpi: 300\n", capsys)
    assert code == 6 and "config.yaml:4: key 'min_dpi' is given twice (lines 2 and 4)" in err
    assert "docs/configuration.md" in err


def test_duplicate_sections_are_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, err = _validate(tmp_path, "store:\n  busy_timeout_ms: 1000\nstore:\n  busy_timeout_ms: 2000\n", capsys)
    assert code == 6 and "key 'store' is given twice (lines 1 and 3)" in err


@pytest.mark.parametrize("text", [
    "a:\n" + "".join(" " * i + f"k{i}:\n" for i in range(1, 1000)),  # block style (5000 deep is > 1 MiB)
    "a: " + "[" * 5000 + "]" * 5000 + "\n",
    "a: " + "{b: " * 5000 + "1" + "}" * 5000 + "\n",
])
def test_yaml_nested_5000_deep_is_a_clear_error(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                text: str) -> None:
    code, err = _validate(tmp_path, text, capsys)
    assert code == 6 and "nested more than 64 levels deep" in err and "Traceback" not in err


def test_a_huge_yaml_file_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, err = _validate(tmp_path, "# " + "x" * (2 * 1024 * 1024) + "\n", capsys)
    assert code == 6 and "larger than 1024 KiB" in err


def test_docs_configuration_exists_where_remedies_point() -> None:
    doc = Path(__file__).resolve().parents[2] / "docs" / "configuration.md"
    text = doc.read_text(encoding="utf-8")
    for section in ("capture", "store", "codes", "ocr", "pdf", "signing", "sync", "devices", "identity"):
        assert f"`{section}`" in text, section
    assert "given twice" in text


@pytest.mark.parametrize("raw, name, words", [
    (b"[" * 100_000, "c.json", "nested more than 32 levels deep"),
    (b'{"fields": ' + b"[" * 50 + b"]" * 50 + b"}", "c.json", "nested more than 32 levels deep"),
    (("field_code,field_name,procedure_code,procedure_name,return_days,component_code,component_name,pages,"
      "required\nHT,\"" + "x" * 200_000 + "\",1,P,1,TK,T,1,1\n").encode(), "c.csv", "field larger than field limit"),
    (('{"fields": [{"code": "A", "name": "Hộ\u202etịch", "procedures": []}]}').encode(), "c.json",
     "bidirectional control"),
])
def test_bad_catalogue_files_are_clear_input_errors(tmp_path: Path, raw: bytes, name: str, words: str) -> None:
    with pytest.raises(InputError) as exc:
        procedure_catalogue.parse_catalogue(raw, name)
    assert words in exc.value.message


def test_catalogue_upload_of_100000_brackets_is_refused_not_a_500() -> None:
    import re

    from kiosk_ui.app import create_app

    app = create_app({"secret_key": "test-secret-key-" + "x" * 32, "dev_accounts": True})
    try:
        client = app.test_client()
        token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").get_data(as_text=True))
        assert token is not None
        assert client.post("/login/password", data={"username": "giamsat", "password": "giamsat-dev",
                                                    "csrf_token": token.group(1)}).status_code == 302
        page = client.get("/officer/catalogue").get_data(as_text=True)
        token = re.search(r'name="csrf_token" value="([^"]+)"', page)
        import io

        resp = client.post("/officer/catalogue", data={"csrf_token": token.group(1),  # type: ignore[union-attr]
                                                       "file": (io.BytesIO(b"[" * 100_000), "c.json")},
                           content_type="multipart/form-data", follow_redirects=True)
        assert resp.status_code == 200
        assert "nested more than 32 levels deep" in resp.get_data(as_text=True)
    finally:
        app.extensions["kiosk_backend"].close()


def test_kiosk_settings_refuse_duplicate_keys(tmp_path: Path) -> None:
    from kiosk_ui.config import load_settings
    from service.domain.errors import ConfigError

    path = tmp_path / "kiosk.yaml"
    path.write_text("citizen_idle_timeout_s: 90\ncitizen_idle_timeout_s: 9000\n", encoding="utf-8")
    with pytest.raises(ConfigError) as exc:
        load_settings(path)
    assert "given twice (lines 1 and 2)" in exc.value.message
