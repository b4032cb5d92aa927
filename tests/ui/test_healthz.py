"""``/healthz``: the kiosk's own health check, read by the systemd launcher before each watchdog ping."""

from __future__ import annotations

from pathlib import Path

from kiosk_ui.app import create_app


def test_healthz_answers_200_then_503_when_the_database_is_gone(sohoa_home: Path) -> None:
    app = create_app({"secret_key": "test-secret-key-" + "x" * 32})
    try:
        client = app.test_client()
        resp = client.get("/healthz")
        assert resp.status_code == 200 and resp.data == b"ok\n"
        db = sohoa_home / "sohoa.db"
        for suffix in ("", "-wal", "-shm"):
            Path(f"{db}{suffix}").unlink(missing_ok=True)
        db.mkdir()  # a database path that cannot be opened: the kiosk cannot serve documents
        resp = client.get("/healthz")
        assert resp.status_code == 503 and b"unhealthy" in resp.data
    finally:
        app.extensions["kiosk_backend"].close()
