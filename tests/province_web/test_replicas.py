"""Two replicas on one PostgreSQL (one in-process, one ``python -m province_gateway.web``) serve the same view.

A session made on one is honoured by the other (the cookie is signed with the shared secret), both
list the same devices and counts, and a look-up made on either lands in the one log.
"""

from __future__ import annotations

import http.cookiejar
import subprocess
import sys
import time
import urllib.error
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import yaml

from province_gateway.local.broker import free_port
from tests.province_web.lab import DEVICE_A, DEVICE_B, DOSSIER, OFFICE_A, OWNER, Client, Ingest, web_config

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def process_replica(dsn: str, tmp_path: Path) -> Iterator[str]:
    """Replica ``web-b`` as its own process (the deployable's entry point); yields its URL."""
    config = tmp_path / "web.yaml"
    config.write_text(yaml.safe_dump(web_config()), encoding="utf-8")
    port = free_port()
    log = tmp_path / "web-b.log"
    with log.open("wb") as out:
        proc = subprocess.Popen([sys.executable, "-m", "province_gateway.web", "--dsn", dsn, "--config", str(config),
                                 "--listen", f"127.0.0.1:{port}", "--replica-id", "web-b"],
                                cwd=REPO, stdout=out, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if Client(base).request("/healthz").status == 200:
                    break
            except urllib.error.URLError:
                pass
            assert proc.poll() is None and time.monotonic() < deadline, log.read_text()
            time.sleep(0.2)
        yield base
    finally:
        proc.terminate()
        proc.wait(20)
        assert OWNER not in log.read_text(encoding="utf-8")  # the identifier never reaches the log


def test_two_replicas_agree(ingest: Ingest, replica: Callable[..., str],
                            process_replica: str) -> None:
    ingest.telemetry(DEVICE_A, queue=2, cpu_temp_c=48.0, last_sync_success_ts=int(time.time()) - 30,
                     software_version="0.14.0")
    ingest.telemetry(DEVICE_B, queue=0)
    ingest.document(DEVICE_A, "doc-a-1")
    ingest.document(DEVICE_B, "doc-b-1", kind="1", result_code="KQ.70.002")
    ingest.dossier(OFFICE_A, DOSSIER)
    a = Client(replica("web-a"))
    assert a.login("tinh").status == 302
    b = Client(process_replica, a.jar)  # the same browser cookie, another replica

    def strip(devices: list[dict[str, object]]) -> list[dict[str, object]]:
        return [{k: v for k, v in d.items() if k != "lag_s"} for d in devices]  # lag moves with the clock

    dev_a, dev_b = a.request("/api/devices").json()["devices"], b.request("/api/devices").json()["devices"]
    assert [d["device_id"] for d in dev_a] == [DEVICE_A, DEVICE_B]
    assert strip(dev_a) == strip(dev_b)
    assert dev_a[0]["queue"] == 2 and dev_a[0]["cpu_temp_c"] == 48.0 and dev_a[1]["software_version"] is None
    docs_a, docs_b = a.request("/api/documents").json(), b.request("/api/documents").json()
    assert docs_a == docs_b and docs_a["total"] == 2
    page_a, page_b = a.request("/devices"), b.request("/devices")
    assert page_a.status == page_b.status == 200 and f"device-{DEVICE_A}" in page_b.body
    officer = Client(process_replica)
    assert officer.login("motcua-a").status == 302
    token = officer.csrf("/lookup")
    on_b = officer.request("/lookup", form={"owner_id": OWNER, "dossier_code": DOSSIER, "csrf_token": token})
    assert on_b.status == 200 and "2 giấy tờ." in on_b.body  # the owner's papers from every office
    on_a = Client(a.base, officer.jar).request("/lookup", form={"owner_id": OWNER, "dossier_code": "X-1",
                                                                "csrf_token": token})
    assert on_a.status == 403 and "không giữ hồ sơ" in on_a.body
    auditor = Client(process_replica)
    assert auditor.login("kiemtoan").status == 302
    rows = auditor.request("/api/lookups").json()["lookups"]
    assert [(r["replica"], r["outcome"]) for r in rows] == [("web-a", "not-authorised"), ("web-b", "answered")]
    # a cookie not signed with the shared secret is refused by both
    for base in (a.base, process_replica):
        forged = Client(base)
        forged.jar.set_cookie(http.cookiejar.Cookie(
            0, "sohoa_province", "eyJ1IjoidGluaCJ9.Zm9yZ2Vk.c2ln", None, False, "127.0.0.1", False, False, "/",
            True, False, None, False, None, None, {}))
        assert forged.request("/api/devices").status == 401
