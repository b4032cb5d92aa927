"""The deployable: ``web.yaml`` validation, the CLI's exit codes, the systemd unit."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from province_gateway.local.broker import free_port
from province_gateway.web.config import dev_config, hash_password, load_web_config, verify_password
from service.domain.errors import ConfigError
from tests.province_web.lab import web_config

REPO = Path(__file__).resolve().parents[2]
UNIT = REPO / "systemd" / "sohoa-province-web.service"


def _cli(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "province_gateway.web", *args], input=stdin, capture_output=True,
                          text=True, cwd=REPO, timeout=60)


def test_password_hashes() -> None:
    stored = hash_password("mật-khẩu")
    assert stored.startswith("scrypt$16384$8$1$") and verify_password("mật-khẩu", stored)
    assert not verify_password("mat-khau", stored) and not verify_password("x", "scrypt$1$2$3$!!$??")
    assert hash_password("a") != hash_password("a")  # salted
    done = _cli("--hash-password", stdin="bí mật\n")
    assert done.returncode == 0 and verify_password("bí mật", done.stdout.strip())


@pytest.mark.parametrize(("edit", "problem"), [
    ({"extra_key": 1}, "extra_key: Extra inputs are not permitted"),
    ({"secret_key": "short"}, "secret_key"),
    ({"timezone": "Mars/Olympus"}, "unknown time zone"),
    ({"users": [{"username": "x1", "password_hash": "plain", "role": "auditor"}]}, "scrypt$N$r$p$salt$hash"),
    ({"users": [{"username": "cb", "password_hash": hash_password("p"), "role": "office_officer"}]},
     "needs an office code"),
    ({"users": [{"username": "qt", "password_hash": hash_password("p"), "role": "province_admin", "office": "H1"}]},
     "only an office_officer"),
    ({"users": [{"username": "qt", "password_hash": hash_password("p"), "role": "superuser"}]}, "role"),
])
def test_bad_config_is_refused_naming_the_problem(tmp_path: Path, edit: dict[str, object], problem: str) -> None:
    path = tmp_path / "web.yaml"
    path.write_text(yaml.safe_dump({**web_config(), **edit}, allow_unicode=True), encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        load_web_config(path)
    assert problem in err.value.message
    assert "province-view-test-secret" not in err.value.message


def test_dev_config_is_valid(tmp_path: Path) -> None:
    path = tmp_path / "web.yaml"
    path.write_text(yaml.safe_dump(dev_config("000.00.70.H99")), encoding="utf-8")
    cfg = load_web_config(path)
    assert [(u.username, u.role.value, u.office) for u in cfg.users] == [
        ("tinh", "province_admin", None), ("motcua", "office_officer", "000.00.70.H99"), ("kiemtoan", "auditor", None)]
    assert cfg.development and verify_password("tinh-dev", cfg.users[0].password_hash)


def test_cli_exit_codes(tmp_path: Path) -> None:
    config = tmp_path / "web.yaml"
    config.write_text(yaml.safe_dump(web_config()), encoding="utf-8")
    dead = f"host=127.0.0.1 port={free_port()} user=postgres dbname=x connect_timeout=2"
    for args, code, text in (
            (["--config", str(config)], 6, "no PostgreSQL DSN"),
            (["--dsn", dead], 6, "no --config"),
            (["--dsn", dead, "--config", str(tmp_path / "missing.yaml")], 6, "cannot read"),
            (["--dsn", dead, "--config", str(config), "--listen", "8090"], 6, "is not HOST:PORT"),
            (["--dsn", dead, "--config", str(config), "--listen", "127.0.0.1:1"], 8, "database unavailable")):
        done = _cli(*args)
        assert done.returncode == code and text in done.stderr, (args, done.stderr)


def _installed(tmp_path: Path) -> Path:
    text = UNIT.read_text(encoding="utf-8").replace("/opt/sohoa/.venv/bin/python", sys.executable)
    path = tmp_path / UNIT.name
    path.write_text(text.replace("/opt/sohoa", str(REPO)), encoding="utf-8")
    return path


def test_unit_verifies_silently_and_is_hardened(tmp_path: Path) -> None:
    path = _installed(tmp_path)
    done = subprocess.run(["systemd-analyze", "verify", str(path)], capture_output=True, text=True, timeout=60,
                          cwd=tmp_path)
    assert done.returncode == 0 and done.stdout == "" and done.stderr == "", done.stderr
    done = subprocess.run(["systemd-analyze", "security", "--offline=true", "--threshold=40", str(path)],
                          capture_output=True, text=True, timeout=60, cwd=tmp_path)
    match = re.search(r"Overall exposure level for \S+: (\d+\.\d+)", done.stdout)
    assert match and float(match.group(1)) <= 1.5, done.stdout[-500:]
    text = UNIT.read_text(encoding="utf-8")
    assert "-m province_gateway.web" in text and "--listen 127.0.0.1:8090" in text and "DynamicUser=yes" in text
