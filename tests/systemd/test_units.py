"""systemd units: `systemd-analyze verify` clean (any output fails), hardening score, users and dirs."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
UNITS = REPO / "systemd"
SERVICES = ("sohoa-kiosk.service", "sohoa-sync.service")
MAX_EXPOSURE = {"sohoa-kiosk.service": 2.5, "sohoa-sync.service": 2.0}


def _install_copy(name: str, dest: Path, edit: tuple[str, str] | None = None) -> Path:
    """The unit with /opt/sohoa replaced by this checkout (verify checks that ExecStart exists)."""
    text = (UNITS / name).read_text(encoding="utf-8").replace("/opt/sohoa", str(REPO))
    if edit:
        assert edit[0] in text
        text = text.replace(*edit)
    path = dest / name
    path.write_text(text, encoding="utf-8")
    return path


def _verify(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["systemd-analyze", "verify", str(path)], capture_output=True, text=True, timeout=60,
                          cwd=path.parent)


@pytest.mark.parametrize("name", SERVICES)
def test_verify_is_silent(tmp_path: Path, name: str) -> None:
    result = _verify(_install_copy(name, tmp_path))
    assert result.returncode == 0 and result.stdout == "" and result.stderr == "", result.stderr


@pytest.mark.parametrize("edit", [
    ("ProtectSystem=strict", "ProtectSystm=strict"),
    ("RestrictRealtime=yes", "RestrictRealtime=maybe"),
])
def test_verify_harness_catches_typos(tmp_path: Path, edit: tuple[str, str]) -> None:
    result = _verify(_install_copy("sohoa-kiosk.service", tmp_path, edit))
    assert result.returncode == 0  # systemd-analyze exits 0 on these ...
    assert "sohoa-kiosk.service" in result.stderr  # ... so any output must fail the check


def test_verify_catches_a_missing_executable(tmp_path: Path) -> None:
    text = (UNITS / "sohoa-sync.service").read_text()
    (tmp_path / "sohoa-sync.service").write_text(text.replace("/opt/sohoa", str(tmp_path / "nowhere")))
    result = _verify(tmp_path / "sohoa-sync.service")
    assert "is not executable" in result.stderr


@pytest.mark.parametrize("name", SERVICES)
def test_hardening_exposure(tmp_path: Path, name: str) -> None:
    path = _install_copy(name, tmp_path)
    result = subprocess.run(["systemd-analyze", "security", "--offline=true", "--threshold=40", str(path)],
                            capture_output=True, text=True, timeout=60, cwd=tmp_path)
    assert result.returncode == 0, result.stdout[-2000:]
    match = re.search(r"Overall exposure level for \S+: (\d+\.\d+)", result.stdout)
    assert match, result.stdout[-500:]
    assert float(match.group(1)) <= MAX_EXPOSURE[name]


@pytest.mark.parametrize("name", SERVICES)
def test_notify_watchdog_restart(name: str) -> None:
    text = (UNITS / name).read_text()
    for line in ("Type=notify", "NotifyAccess=main", "Restart=on-failure", "User=sohoa", "StateDirectory=sohoa",
                 "NoNewPrivileges=yes", "CapabilityBoundingSet=\n", "ProtectSystem=strict", "PrivateTmp=yes"):
        assert line in text, line
    assert re.search(r"^WatchdogSec=\d+$", text, re.M)
    assert "Environment=SOHOA_HOME=/var/lib/sohoa" in text


def _exec_argv(name: str) -> list[str]:
    line = next(ln for ln in (UNITS / name).read_text().splitlines() if ln.startswith("ExecStart="))
    argv = line.removeprefix("ExecStart=").split()
    assert argv[0] == "/opt/sohoa/.venv/bin/python" and argv[1:3] == ["-m", "provisioning.launch"]
    return argv[argv.index("--") + 1:]


def _has_command(words: list[str]) -> bool:
    from service.cli.main import build_parser

    parser = build_parser()
    try:
        parser.parse_args(words)
    except SystemExit:
        return False
    return True


def test_sync_unit_runs_an_existing_command() -> None:
    argv = _exec_argv("sohoa-sync.service")
    assert argv[0] == "/opt/sohoa/.venv/bin/sohoa"
    assert _has_command(argv[1:]), argv


def test_kiosk_unit_command() -> None:
    argv = _exec_argv("sohoa-kiosk.service")
    assert argv[0] == "/opt/sohoa/.venv/bin/sohoa"
    assert _has_command(argv[1:]), argv


def test_launcher_module_runs() -> None:
    result = subprocess.run([sys.executable, "-m", "provisioning.launch", "--help"], capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 0 and "--max-backoff" in result.stdout


def test_sysusers_and_tmpfiles_build_the_state_dir(tmp_path: Path) -> None:
    root = tmp_path / "root"
    (root / "etc").mkdir(parents=True)
    users = subprocess.run(["systemd-sysusers", f"--root={root}", str(UNITS / "sohoa.sysusers.conf")],
                           capture_output=True, text=True, timeout=60)
    assert users.returncode == 0, users.stderr
    assert all(ln.startswith("Creating ") for ln in users.stderr.splitlines()), users.stderr  # no warnings
    passwd = (root / "etc" / "passwd").read_text()
    entry = next(ln for ln in passwd.splitlines() if ln.startswith("sohoa:"))
    uid = int(entry.split(":")[2])
    assert entry.endswith(":/var/lib/sohoa:/usr/sbin/nologin") and uid < 1000  # a system user
    groups = (root / "etc" / "group").read_text()
    for group in ("video", "scanner", "dialout", "gpio"):
        assert re.search(rf"^{group}:x:\d+:sohoa$", groups, re.M), group
    dirs = subprocess.run(["systemd-tmpfiles", "--create", f"--root={root}", str(UNITS / "sohoa.tmpfiles.conf")],
                          capture_output=True, text=True, timeout=60)
    assert dirs.returncode == 0 and dirs.stderr == "", dirs.stderr
    for sub in ("", "files", "pki", "tokens", "exports", "logs"):
        st = (root / "var/lib/sohoa" / sub).stat()
        assert oct(st.st_mode & 0o777) == "0o700" and st.st_uid == uid, sub
