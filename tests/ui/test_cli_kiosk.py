"""``sohoa kiosk`` serves the UI with waitress and prints the URL and the development login."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_sohoa_kiosk_serves_and_prints_login(sohoa_home: Path) -> None:
    port = _free_port()
    sohoa = Path(sys.executable).with_name("sohoa")
    proc = subprocess.Popen([str(sohoa), "kiosk", "--port", str(port), "--dev-token"], stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, env={**os.environ, "SOHOA_HOME": str(sohoa_home)})
    try:
        lines = []
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            line = proc.stdout.readline()  # type: ignore[union-attr]
            lines.append(line)
            if "Serving on" in line or not line:
                break
        out = "".join(lines)
        assert f"http://127.0.0.1:{port}/" in out
        assert "development token PIN 123456" in out and "kythuat-dev" in out
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/login", timeout=10) as resp:
            body = resp.read().decode("utf-8")
        assert resp.status == 200 and "Đăng nhập bằng thẻ ký số" in body
        assert "cdn" not in body.lower() and "https://" not in body  # everything is served locally
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def test_kiosk_account_entry_signs_in(sohoa_home: Path) -> None:
    from kiosk_ui.app import create_app

    sohoa = Path(sys.executable).with_name("sohoa")
    out = subprocess.run([str(sohoa), "kiosk-account", "tuan", "--role", "technician", "--name", "Lê Văn Tuấn"],
                         input="mat-khau-du-dai\n", capture_output=True, text=True, check=True).stdout
    (sohoa_home / "kiosk.yaml").write_text(out + "dev_accounts: false\n", encoding="utf-8")
    bad = subprocess.run([str(sohoa), "kiosk-account", "Bad Name", "--role", "officer", "--name", "X"],
                         input="mat-khau-du-dai\n", capture_output=True, text=True)
    assert bad.returncode == 5 and "user name" in bad.stderr
    app = create_app()
    try:
        client = app.test_client()
        page = client.get("/login").get_data(as_text=True)
        token = page.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
        resp = client.post("/login/password", data={"username": "tuan", "password": "mat-khau-du-dai",
                                                    "csrf_token": token})
        assert resp.status_code == 302 and resp.headers["Location"].endswith("/technician/")
        other = app.test_client()
        page = other.get("/login").get_data(as_text=True)
        token = page.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
        resp = other.post("/login/password", data={"username": "kythuat", "password": "kythuat-dev",
                                                   "csrf_token": token})
        assert resp.status_code == 401  # no development accounts on this box
    finally:
        app.extensions["kiosk_backend"].close()
