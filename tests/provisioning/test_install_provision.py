"""`make install DESTDIR=…` lands where the units point and verifies clean; `sohoa provision` on
SoftHSM tokens and the development province CA."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from province_gateway.local.broker import LabPki

REPO = Path(__file__).resolve().parents[2]
UNITS = ("sohoa-kiosk.service", "sohoa-sync.service", "sohoa-screen.service")


@pytest.fixture(scope="module")
def staged(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("destdir") / "root"
    result = subprocess.run(["make", "-s", "install", f"DESTDIR={root}"], cwd=REPO, capture_output=True, text=True,
                            timeout=900)
    assert result.returncode == 0, result.stderr[-3000:]
    return root


def _exec_paths(unit: Path) -> list[str]:
    out = []
    for line in unit.read_text(encoding="utf-8").splitlines():
        if line.startswith(("ExecStart=", "ExecStartPre=")):
            out.append(line.split("=", 1)[1].split()[0])
    return out


def test_files_land_where_the_units_point(staged: Path) -> None:
    for name in UNITS:
        unit = staged / "etc/systemd/system" / name
        assert unit.is_file(), name
        for exe in _exec_paths(unit):
            if exe.startswith("/opt/sohoa"):
                assert os.access(staged / exe.lstrip("/"), os.X_OK), exe
    app = staged / "opt/sohoa"
    for sub in ("service/cli/main.py", "kiosk_ui/app.py", "provisioning/launch.py", "models/manifest.json",
                "models/asternet-int8.onnx", "requirements.lock"):
        assert (app / sub).is_file(), sub
    manifest = json.loads((app / "models/manifest.json").read_text())
    blob = json.dumps(manifest)
    assert hashlib.sha256((app / "models/asternet-int8.onnx").read_bytes()).hexdigest() in blob
    assert "include-system-site-packages = true" in (app / ".venv/pyvenv.cfg").read_text()
    assert (app / ".venv/bin/sohoa").read_text().startswith("#!/opt/sohoa/.venv/bin/python")
    assert not list(app.glob("*.egg-info")) and not (app / "build").exists()


def test_installed_venv_runs_the_installed_code(staged: Path, tmp_path: Path) -> None:
    py = staged / "opt/sohoa/.venv/bin/python"
    code = "import service, kiosk_ui, provisioning.launch; print(service.__file__)"
    result = subprocess.run([str(py), "-c", code], capture_output=True, text=True, cwd=tmp_path, timeout=120,
                            env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)})
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(str(staged / "opt/sohoa/.venv/lib"))
    help_ = subprocess.run([str(py), "-m", "service", "provision", "--help"], capture_output=True, text=True,
                           cwd=tmp_path, timeout=120, env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)})
    assert help_.returncode == 0 and "--cert" in help_.stdout


def test_users_state_dirs_and_enablement(staged: Path) -> None:
    passwd = (staged / "etc/passwd").read_text()
    assert any(line.startswith("sohoa:") and line.endswith(":/var/lib/sohoa:/usr/sbin/nologin")
               for line in passwd.splitlines())
    assert any(line.startswith("sohoa-screen:") for line in passwd.splitlines())
    assert (staged / "var/lib/sohoa").is_dir() and (staged / "var/lib/sohoa/files").is_dir()
    wants = staged / "etc/systemd/system"
    assert (wants / "multi-user.target.wants/sohoa-kiosk.service").is_symlink()
    assert (wants / "multi-user.target.wants/sohoa-sync.service").is_symlink()
    assert (wants / "graphical.target.wants/sohoa-screen.service").is_symlink()


def test_systemd_analyze_verify_is_clean_on_the_installed_root(staged: Path, tmp_path: Path) -> None:
    root = tmp_path / "root"
    shutil.copytree(staged, root, symlinks=True)
    (root / "usr/lib/systemd").mkdir(parents=True)
    shutil.copytree("/usr/lib/systemd/system", root / "usr/lib/systemd/system", symlinks=True)
    (root / "usr/bin").mkdir(parents=True)
    for exe in ("/usr/bin/cage", "/usr/bin/chromium"):  # the screen unit's programs, from their packages
        shutil.copy2(exe, root / exe.lstrip("/"))
    units = [str(root / "etc/systemd/system" / u) for u in UNITS]
    result = subprocess.run(["systemd-analyze", "verify", f"--root={root}", *units], capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0 and result.stdout == "" and result.stderr == "", result.stderr
    screen = (root / "etc/systemd/system/sohoa-screen.service").read_text()
    assert "--kiosk" in screen and "--no-first-run" in screen and "--app=http://127.0.0.1:8080/" in screen


def _provision(*args: str) -> tuple[int, dict[str, object]]:
    result = subprocess.run([sys.executable, "-m", "service", "provision", "--json", *args], cwd=REPO,
                            capture_output=True, text=True, timeout=180)
    assert result.stdout, result.stderr
    return result.returncode, json.loads(result.stdout)


def _steps(report: dict[str, object]) -> dict[str, dict[str, object]]:
    return {s["step"]: s for s in report["steps"]}  # type: ignore[index, union-attr]


def test_provision_on_softhsm_and_the_dev_pki(sohoa_home: Path, tmp_path: Path) -> None:
    from provisioning.devtoken import ensure_dev_token
    from service.paths import get_paths

    ensure_dev_token(get_paths())
    cfg = tmp_path / "config.yaml"
    cfg.write_text("identity:\n  device_id: box-hai-minh-01\n  province_code: '36'\n"
                   "  office_name: UBND xã Hải Minh\nsigning:\n  tsa_url: http://127.0.0.1:3180/tsa\n"
                   "devices:\n  panel:\n    pin_factory: mock\n", encoding="utf-8")
    dropin = tmp_path / "systemd" / "sohoa-kiosk.service.d" / "tsa.conf"

    rc, report = _provision("--config", str(cfg), "--systemd-dropin", str(dropin))
    steps = _steps(report)
    assert rc == 7, report  # the CSR waits for the province CA
    assert steps["configuration"]["ok"] and steps["signing tokens"]["ok"] and steps["device self-test"]["ok"]
    assert not steps["device identity"]["ok"] and "csr-pending" in str(steps["device identity"]["detail"])
    assert "IPAddressAllow=127.0.0.1" in dropin.read_text()
    assert (sohoa_home / "config.yaml").read_text(encoding="utf-8") == cfg.read_text(encoding="utf-8")

    ca = LabPki(tmp_path / "province-ca")
    csr = Path(str(report["csr"])).read_bytes()
    other = LabPki(tmp_path / "other-ca").issue("box-hai-minh-01")
    rc, report = _provision("--cert", str(other.cert), "--systemd-dropin", str(dropin))
    assert rc == 5 and "not issued for this box's key" in str(_steps(report)["device identity"]["detail"])

    (tmp_path / "box.crt").write_bytes(ca.sign_csr(csr))
    rc, report = _provision("--cert", str(tmp_path / "box.crt"), "--ca", str(ca.ca_file),
                            "--systemd-dropin", str(dropin))
    assert rc == 0, report
    assert all(s["ok"] for s in report["steps"])  # type: ignore[union-attr, index]
    assert "certificate valid until" in str(_steps(report)["device identity"]["detail"])

    shutil.rmtree(sohoa_home / "tokens" / "store")  # the cards are gone
    rc, report = _provision("--systemd-dropin", str(dropin), "--no-selftest")
    assert rc == 12 and not _steps(report)["signing tokens"]["ok"]


def test_provision_refuses_a_bad_config_naming_the_line(tmp_path: Path) -> None:
    cfg = tmp_path / "config.yaml"
    cfg.write_text("identity:\n  device_id: box-01\n  provnce_code: '36'\n", encoding="utf-8")
    rc, report = _provision("--config", str(cfg), "--systemd-dropin", str(tmp_path / "d.conf"))
    assert rc == 6
    assert f"{cfg}:3" in str(_steps(report)["configuration"]["detail"])


def test_human_summary_lists_every_step(tmp_path: Path) -> None:
    result = subprocess.run([sys.executable, "-m", "service", "provision", "--no-selftest", "--systemd-dropin",
                             str(tmp_path / "d.conf")], cwd=REPO, capture_output=True, text=True, timeout=180)
    for step in ("configuration", "device identity", "signing tokens", "timestamp server"):
        assert step in result.stdout
    assert "box NOT ready" in result.stdout
