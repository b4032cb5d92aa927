"""The Type=notify launcher as a real process: READY, watchdog pings, SIGTERM, back-off restarts."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def _socket(path: Path) -> socket.socket:
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(str(path))
    sock.settimeout(0.1)
    return sock


def _collect(sock: socket.socket, until: str, timeout_s: float) -> list[str]:
    out: list[str] = []
    end = time.monotonic() + timeout_s
    while time.monotonic() < end:
        try:
            out.append(sock.recv(4096).decode())
        except TimeoutError:
            continue
        if until in out[-1]:
            break
    return out


def _launch(tmp_path: Path, *args: str, watchdog_usec: str = "200000") -> tuple[subprocess.Popen[str], socket.socket]:
    sock = _socket(tmp_path / "notify.sock")
    env = {**os.environ, "NOTIFY_SOCKET": str(tmp_path / "notify.sock"), "WATCHDOG_USEC": watchdog_usec}
    proc = subprocess.Popen([sys.executable, "-m", "provisioning.launch", *args], env=env, cwd=REPO,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    return proc, sock


def test_ready_pings_and_clean_stop(tmp_path: Path) -> None:
    marker = tmp_path / "child.pid"
    child = f"import os, time; open({str(marker)!r}, 'w').write(str(os.getpid())); time.sleep(60)"
    proc, sock = _launch(tmp_path, "--name", "kiosk", "--", sys.executable, "-c", child)
    try:
        messages = _collect(sock, "READY=1", 20)
        assert any(m.startswith("READY=1") and "STATUS=kiosk running" in m for m in messages)
        messages += _collect(sock, "never", 0.8)
        assert messages.count("WATCHDOG=1") >= 3  # every 100 ms
        deadline = time.monotonic() + 10
        while not marker.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        child_pid = int(marker.read_text())
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(15) == 0
        assert "STOPPING=1" in _collect(sock, "STOPPING=1", 5)
        time.sleep(0.2)
        assert not Path(f"/proc/{child_pid}").exists() or "zombie" in Path(f"/proc/{child_pid}/status").read_text()
    finally:
        proc.kill()
        sock.close()


def test_failing_child_is_restarted_with_backoff_then_given_up(tmp_path: Path) -> None:
    proc, sock = _launch(tmp_path, "--name", "sync", "--initial-backoff", "0.1", "--max-failures", "3",
                         "--", sys.executable, "-c", "import sys; sys.exit(3)", watchdog_usec="0")
    try:
        assert proc.wait(30) == 1
        messages = _collect(sock, "giving up", 5)
        status = [m for m in messages if m.startswith("STATUS=sync failed")]
        assert status[0] == "STATUS=sync failed (ChildFailed: " + sys.executable + " exited with status 3); " \
                            "restarting in 0 s"
        assert any("giving up" in m for m in messages)
        assert "failed 3 times in a row" in proc.stderr.read()  # type: ignore[union-attr]
    finally:
        proc.kill()
        sock.close()


def test_missing_program_is_reported(tmp_path: Path) -> None:
    proc, sock = _launch(tmp_path, "--initial-backoff", "0.05", "--max-failures", "2", "--",
                         str(tmp_path / "no-such-program"), watchdog_usec="0")
    try:
        assert proc.wait(30) == 1
        assert "cannot start" in proc.stderr.read()  # type: ignore[union-attr]
    finally:
        proc.kill()
        sock.close()


def test_usage_error_without_command() -> None:
    result = subprocess.run([sys.executable, "-m", "provisioning.launch"], capture_output=True, text=True,
                            timeout=60, cwd=REPO)
    assert result.returncode == 2 and "no command given" in result.stderr


def _serve_status(status: list[int]) -> tuple[str, object]:
    """A loopback HTTP server answering /healthz with ``status[0]`` (changeable)."""
    import http.server
    import threading

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - http.server API
            self.send_response(status[0])
            self.end_headers()
            self.wfile.write(b"x")

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return f"http://127.0.0.1:{server.server_address[1]}/healthz", server


def _pings_while(tmp_path: Path, *health: str) -> tuple[subprocess.Popen[str], socket.socket]:
    proc, sock = _launch(tmp_path, "--name", "svc", "--health-grace", "0", *health, "--",
                         sys.executable, "-c", "import time; time.sleep(60)")
    assert any(m.startswith("READY=1") for m in _collect(sock, "READY=1", 20))
    return proc, sock


def test_watchdog_pings_only_while_the_health_url_answers(tmp_path: Path) -> None:
    status = [200]
    url, server = _serve_status(status)
    proc, sock = _pings_while(tmp_path, "--health-url", url)
    try:
        assert _collect(sock, "never", 0.8).count("WATCHDOG=1") >= 3
        status[0] = 503  # the service is alive but unhealthy: systemd must get no pings
        _collect(sock, "never", 1.0)  # drain pings decided before the switch (a loaded machine delays them)
        assert _collect(sock, "never", 0.8).count("WATCHDOG=1") == 0
        status[0] = 200
        assert _collect(sock, "never", 1.5).count("WATCHDOG=1") >= 2
    finally:
        proc.kill()
        sock.close()
        server.shutdown()  # type: ignore[attr-defined]


def test_watchdog_pings_only_while_the_heartbeat_is_due(tmp_path: Path) -> None:
    beat = tmp_path / "heartbeat"
    beat.write_text(f"{time.time() + 60:.0f}\n")
    proc, sock = _pings_while(tmp_path, "--health-file", str(beat))
    try:
        assert _collect(sock, "never", 0.8).count("WATCHDOG=1") >= 3
        beat.write_text(f"{time.time() - 1:.0f}\n")  # the loop missed its beat
        _collect(sock, "never", 1.0)  # drain pings decided before the change (a loaded machine delays them)
        assert _collect(sock, "never", 0.8).count("WATCHDOG=1") == 0
        beat.write_text("garbage\n")
        assert _collect(sock, "never", 0.5).count("WATCHDOG=1") == 0
    finally:
        proc.kill()
        sock.close()


def test_sync_worker_writes_its_heartbeat(tmp_path: Path) -> None:
    """`sohoa sync run --heartbeat F` keeps F ahead of now while it retries an unreachable broker."""
    from province_gateway.local.broker import LabPki, free_port
    from provisioning.identity import install_certificate
    from provisioning.station import ensure_device_key, station_config, write_managed_config
    from service.paths import get_paths

    paths = get_paths().ensure()
    pki = LabPki(tmp_path / "pki")
    csr = ensure_device_key(paths, "dev-box-0001", "70", "UBND xã Thử Nghiệm")
    install_certificate(paths, "dev-box-0001", pki.sign_csr(csr), pki.ca_file.read_bytes())
    write_managed_config(paths, station_config("dev-box-0001", "70", free_port(), None, None))
    beat = tmp_path / "run" / "heartbeat"
    proc = subprocess.Popen([sys.executable, "-m", "service", "sync", "run", "--heartbeat", str(beat)], cwd=REPO,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 30
        while not beat.exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert float(beat.read_text()) > time.time()
    finally:
        proc.terminate()
        proc.wait(20)
