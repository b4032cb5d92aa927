"""The station as ``make run`` starts it: a paper captured at the kiosk reaches the local province.

One ``sohoa station`` process (local province: Mosquitto + PostgreSQL + gateway; sync worker;
simulated devices; kiosk) runs for the module. Chromium walks the officer desk through the HTTP
flow; the test then waits for the outbox row to be acknowledged and finds the document in the
province's database and file store. The last test stops the station with SIGINT (Ctrl-C).
"""

from __future__ import annotations

import base64
import json
import os
import queue
import shutil
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
import pytest

from province_gateway.local.broker import free_port
from tests.support.chromium import launch_chromium, screenshot

REPO = Path(__file__).resolve().parents[2]
QR_PAYLOAD = "036195004321||Trần Thị Bình|02031995|Nữ|Thôn 2, xã Hải Minh, huyện Hải Hậu, tỉnh Nam Định|15032021"


@dataclass
class RunningStation:
    """The station process, its home, ports and console output so far."""

    proc: subprocess.Popen[bytes]
    home: Path
    kiosk: int
    broker: int
    postgres: int
    console: list[str]
    lines: queue.Queue[str]
    province_web: int = 0

    def read_console(self, until: str | None = None, timeout: float = 0.5) -> str:
        """Collect console lines (until one contains ``until``, bounded by ``timeout``)."""
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return ""
            try:
                line = self.lines.get(timeout=min(left, 0.5))
            except queue.Empty:
                if self.proc.poll() is not None and self.lines.empty():
                    return ""
                continue
            self.console.append(line)
            if until and until in line:
                return line

    def sohoa(self, *args: str) -> subprocess.CompletedProcess[str]:
        """Run a ``sohoa`` command against the station's home."""
        env = {**os.environ, "SOHOA_HOME": str(self.home)}
        return subprocess.run([sys.executable, "-m", "service", *args], capture_output=True, text=True, env=env,
                              cwd=REPO, timeout=120)


@pytest.fixture(scope="module")
def station(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningStation]:
    home = tmp_path_factory.mktemp("station") / "home"
    home.mkdir()
    ports = {"kiosk": free_port(), "broker": free_port(), "postgres": free_port(), "web": free_port()}
    env = {**os.environ, "SOHOA_HOME": str(home), "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen([sys.executable, "-m", "service", "station", "--no-demo",
                             "--kiosk-port", str(ports["kiosk"]), "--broker-port", str(ports["broker"]),
                             "--pg-port", str(ports["postgres"]), "--province-web-port", str(ports["web"])],
                            cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    lines: queue.Queue[str] = queue.Queue()

    def pump() -> None:
        assert proc.stdout is not None
        for raw in proc.stdout:
            lines.put(raw.decode("utf-8", "replace").rstrip("\n"))

    threading.Thread(target=pump, daemon=True).start()
    st = RunningStation(proc, home, ports["kiosk"], ports["broker"], ports["postgres"], [], lines, ports["web"])
    try:
        ready = st.read_console(until="station: ready", timeout=240)
        assert ready, "station did not become ready:\n" + "\n".join(st.console[-40:])
        yield st
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(60)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(10)
        link = home / "province" / "postgres"
        if link.is_symlink():  # as root the servers' folders live outside the home
            shutil.rmtree(link.resolve().parent, ignore_errors=True)


def test_console_says_what_runs_where(station: RunningStation) -> None:
    text = "\n".join(station.console)
    assert f"http://127.0.0.1:{station.kiosk}/" in text
    assert f"127.0.0.1:{station.broker}" in text and f"127.0.0.1:{station.postgres}" in text
    assert "DEVELOPMENT" in text and "PIN 123456" in text and "kythuat/kythuat-dev" in text
    assert "SANE test backend" in text and "MockFactory" in text
    assert f"http://127.0.0.1:{station.province_web}/" in text and "tinh/tinh-dev" in text
    deadline = time.monotonic() + 60  # started with the gateway; may still be binding its port
    while True:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{station.province_web}/healthz", timeout=10) as resp:
                assert json.loads(resp.read())["ok"] is True  # the province view runs on the station's database
                break
        except OSError:
            assert time.monotonic() < deadline, "the province view did not answer"
            time.sleep(0.5)
    cfg = (station.home / "config.yaml").read_text(encoding="utf-8")
    assert "escpos-serial" in cfg and "/dev/pts/" in cfg and "pin_factory: mock" in cfg
    selftest = station.sohoa("device", "selftest", "--json")
    rows = {r["device"]: r for r in json.loads(selftest.stdout)["devices"]}
    for device in ("scanner", "panel", "qr_reader", "printer"):
        assert rows[device]["state"] == "ok", rows[device]


def _walk_kiosk_flow(base: str, pin: str, devices: Path) -> str:
    """Officer desk in Chromium: card login, owner from the QR reader, one component, capture, review,
    sign, and the receipt printed on the simulated roll printer (``devices`` = ``$SOHOA_HOME/station``)."""
    from playwright.sync_api import expect

    with launch_chromium() as browser:
        ctx = browser.new_context(viewport={"width": 1280, "height": 800}, locale="vi-VN")
        page = ctx.new_page()
        page.set_default_timeout(60_000)
        page.goto(f"{base}/login")
        page.get_by_test_id("pin").fill(pin)
        page.get_by_test_id("card-login").click()
        page.wait_for_url(f"{base}/officer/")
        page.get_by_test_id("new-dossier").click()
        page.wait_for_url("**/owner")
        with open(devices / "qr-reader.in", "ab") as fifo:  # `echo CODE > station/qr-reader.in`
            fifo.write(QR_PAYLOAD.encode("utf-8") + b"\n")
        expect(page.get_by_test_id("qr-payload")).to_have_value(QR_PAYLOAD)
        page.get_by_test_id("qr-submit").click()
        page.wait_for_url("**/procedure")
        page.get_by_test_id("proc-1.001193").click()
        page.get_by_test_id("comp-GKH").uncheck()
        page.get_by_test_id("comp-GCS").uncheck()
        page.get_by_test_id("procedure-next").click()
        page.get_by_test_id("reuse-next").click()
        page.wait_for_url("**/capture/TK")
        with page.expect_navigation():
            page.get_by_test_id("capture").click()
        page.get_by_test_id("to-review").click()
        page.wait_for_url("**/review", timeout=240_000)
        # The sample paper names another person; the dossier is the QR owner's: the paper is stored under
        # her identifier, so its birth date must fit her CCCD (corrected), and the other owner is confirmed.
        page.get_by_test_id("field-TK-owner_birth_date").locator("input").fill("02/03/1995")
        page.get_by_test_id("review-next").click()
        page.get_by_test_id("check-ack").check()
        page.get_by_test_id("sign-pin").fill(pin)
        page.get_by_test_id("sign-submit").click()
        page.wait_for_url("**/receipt", timeout=240_000)
        codes = page.get_by_test_id("result-code").all_inner_texts()
        dossier = page.get_by_test_id("dossier-code").inner_text().strip()
        with page.expect_navigation():
            page.get_by_test_id("receipt-slip").click()
        assert "Đã in biên nhận" in " ".join(page.locator(".flash").all_inner_texts())
        screenshot(page, "station-receipt")
        ctx.close()
    assert len(codes) == 1, codes
    deadline = time.monotonic() + 20
    while not list((devices / "printed").glob("job-*.png")) and time.monotonic() < deadline:
        time.sleep(0.2)
    import zxingcpp
    from PIL import Image

    (slip,) = sorted((devices / "printed").glob("job-*.png"))
    (qr,) = zxingcpp.read_barcodes(Image.open(slip).convert("L"))
    assert json.loads(qr.text)["ma_ho_so"] == dossier
    return codes[0].strip()


def test_a_paper_captured_at_the_kiosk_reaches_the_local_province(station: RunningStation) -> None:
    code = _walk_kiosk_flow(f"http://127.0.0.1:{station.kiosk}", "123456", station.home / "station")
    shown = json.loads(station.sohoa("show", code, "--json").stdout)
    doc_id, final_sha = shown["id"], shown["sha256"]

    deadline = time.monotonic() + 180
    outbox: dict[str, Any] = {}
    while time.monotonic() < deadline:
        status = json.loads(station.sohoa("sync", "status").stdout)
        outbox = status["outbox"]
        rows = json.loads(station.sohoa("show", code, "--json").stdout)["outbox"]
        if any(r["pdf_sha256"] == final_sha and r["state"] == "delivered" for r in rows):
            break
        time.sleep(2)
    else:
        pytest.fail(f"not delivered in time: {outbox}")
    assert outbox.get("delivered", 0) >= 1

    dsn = f"host=127.0.0.1 port={station.postgres} user=postgres dbname=sohoa_gateway"
    with psycopg.connect(dsn) as conn:
        got = conn.execute("SELECT sha256 FROM gw_document WHERE document_id = %s", (doc_id,)).fetchall()
    assert (final_sha,) in got
    stored = station.home / "province" / "files"
    assert any(p.name == final_sha for p in stored.rglob("*")), "the gateway's file store lacks the PDF"

    line = station.read_console(until="delivered to the province", timeout=30)
    text = line + "\n".join(station.console)
    assert "delivered to the province" in text
    assert "036195004321" not in text, "the owner's identifier must not reach the console"

    # the province view (dev account tinh) lists the station's device and the document that arrived
    auth = {"Authorization": "Basic " + base64.b64encode(b"tinh:tinh-dev").decode()}
    web = f"http://127.0.0.1:{station.province_web}/api"
    with urllib.request.urlopen(urllib.request.Request(f"{web}/documents", headers=auth), timeout=30) as resp:
        counts = json.loads(resp.read())
    assert counts["total"] >= 1 and {r["office"] for r in counts["rows"]} == {"000.00.70.H99"}, counts
    with urllib.request.urlopen(urllib.request.Request(f"{web}/devices", headers=auth), timeout=30) as resp:
        devices = json.loads(resp.read())["devices"]
    assert [d["office"] for d in devices] == ["000.00.70.H99"], devices


def _wait_delivered(st: RunningStation, code: str, timeout: float = 180) -> str:
    """Wait until the document's current version is delivered; returns its SHA-256."""
    deadline = time.monotonic() + timeout
    shown: dict[str, Any] = {}
    while time.monotonic() < deadline:
        shown = json.loads(st.sohoa("show", code, "--json").stdout)
        if any(r["pdf_sha256"] == shown["sha256"] and r["state"] == "delivered" for r in shown["outbox"]):
            return str(shown["sha256"])
        time.sleep(2)
    pytest.fail(f"{code} not delivered in time: {shown.get('outbox')}")


def test_a_paper_digitized_and_signed_with_the_cli_reaches_the_province(station: RunningStation,
                                                                         tmp_path: Path) -> None:
    from tests.spine.helpers import page_image

    page = tmp_path / "page.jpg"
    page.write_bytes(page_image(seed=3))
    fields = ["--field", "document_name=Giấy xác nhận", "--field", "number_symbol=12/GXN-UBND",
              "--field", "issue_date=2024-05-02", "--field", "issuing_agency=UBND xã Hải Minh",
              "--field", "summary=Xác nhận cư trú"]
    done = station.sohoa("digitize", str(page), "--owner", "036195004321", "--doc-type", "GT.XN_CU_TRU",
                         "--no-ocr", *fields, "--json")
    assert done.returncode == 0, done.stderr
    code, unsigned = json.loads(done.stdout)["result_code"], json.loads(done.stdout)["sha256"]
    env = {"SOHOA_PIN": "123456"}
    for role in ("officer", "agency"):
        signed = subprocess.run([sys.executable, "-m", "service", "sign", code, "--role", role], cwd=REPO,
                                env={**os.environ, "SOHOA_HOME": str(station.home), **env}, capture_output=True,
                                text=True, timeout=120)
        assert signed.returncode == 0, signed.stderr
    sha = _wait_delivered(station, code)
    dsn = f"host=127.0.0.1 port={station.postgres} user=postgres dbname=sohoa_gateway"
    with psycopg.connect(dsn) as conn:
        assert conn.execute("SELECT count(*) FROM gw_document WHERE sha256 = %s", (sha,)).fetchone() == (1,)
        # one version out: the unsigned scan never left the box (no transfer was even started)
        assert conn.execute("SELECT count(*) FROM gw_transfer WHERE sha256 = %s", (unsigned,)).fetchone() == (0,)
    rows = json.loads(station.sohoa("show", code, "--json").stdout)["outbox"]
    assert [r["state"] for r in rows if r["pdf_sha256"] == unsigned] == ["superseded"]
    # the audit head is signed on the development device token (a key that never leaves SoftHSM)
    verified = station.sohoa("audit", "verify")
    assert verified.returncode == 0, verified.stderr
    assert "audit head signed by pkcs11 key" in verified.stdout and "SOHOA-DEV-DEVICE" in verified.stdout


def _station_pids(st: RunningStation) -> list[str]:
    """Processes whose command line names the home or the servers' folder."""
    where = [str(st.home), str((st.home / "province" / "postgres").resolve().parent)]
    found: set[str] = set()
    for pattern in where:
        found.update(subprocess.run(["pgrep", "-f", pattern], capture_output=True, text=True).stdout.split())
    return sorted(found)


def test_ctrl_c_stops_every_part(station: RunningStation) -> None:
    assert len(_station_pids(station)) >= 5  # postgres, mosquitto, gateway, sync worker, kiosk
    station.proc.send_signal(signal.SIGINT)
    assert station.proc.wait(90) == 0
    station.read_console(timeout=2)
    assert "station: stopped" in "\n".join(station.console)
    time.sleep(1)
    left = _station_pids(station)
    assert left == [], f"processes left after Ctrl-C: {left}"
