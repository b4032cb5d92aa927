"""The station's devices in Chromium, on the simulated devices ``make run`` uses (pty pairs, MockFactory).

The officer's receipt is printed on the roll printer and read back from its pty (ESC/POS raster
decoded, QR payload checked); a line written to the QR reader's pty fills the owner on the desk and
the look-up on the citizen screen; paper-out gives the Vietnamese message and the A4 PDF; the panel's
capture button takes a page and its LEDs follow the kiosk.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import zxingcpp
from playwright.sync_api import expect

from provisioning.simdevices import (
    PRINTER_STATES,
    PtyPair,
    SimulatedQrReader,
    SimulatedReceiptPrinter,
    raster_blocks,
    raster_images,
)
from tests.support.chromium import screenshot, serve

OWNER = "036088001234"
CCCD_QR = "036088001234||Nguyễn Văn Thử|14021988|Nam|Xóm 5, xã Hải Minh, huyện Hải Hậu, tỉnh Nam Định|15032021"


@dataclass
class Station:
    """A kiosk app on the simulated devices of ``sohoa station``, and the developer's ends of them."""

    base: str
    backend: Any
    qr_inbox: Path
    printer: SimulatedReceiptPrinter

    def scan(self, data: bytes) -> None:
        """One scan, as a developer types it at ``make run``: a line into the QR reader's FIFO."""
        with open(self.qr_inbox, "ab") as fifo:
            fifo.write(data + b"\n")

    def set_printer(self, state: str) -> None:
        """``echo STATE > printer.state`` (paper-out, cover-open, off, ok)."""
        assert self.printer.state_file is not None
        self.printer.state_file.write_text(state + "\n", encoding="ascii")
        _wait(lambda: self.printer.status == PRINTER_STATES.get(state, self.printer.status))

    def press_capture(self) -> None:
        """Press and release the panel's capture button (gpiozero MockFactory pin)."""
        assert self.backend.devices.panel is not None
        pin = self.backend.devices.panel.buttons["capture"].pin
        pin.drive_low()
        time.sleep(0.05)
        pin.drive_high()

    def printed(self, since: int) -> bytes:
        """The bytes the printer's pty received after offset ``since``, up to the paper cut."""
        deadline = time.monotonic() + 10
        while True:
            data = self.printer.data()[since:]
            if b"\x1dV" in data or time.monotonic() > deadline:  # the paper cut ends a slip
                return data
            time.sleep(0.05)


@pytest.fixture
def station(sohoa_home: Path) -> Iterator[Station]:
    """What ``Station.prepare`` sets up for the kiosk: pty pairs, the FIFO, the managed config."""
    from kiosk_ui.app import create_app
    from provisioning.station import StationLayout, station_config, write_managed_config
    from service.paths import get_paths

    paths = get_paths().ensure()
    layout = StationLayout(paths)
    qr, printer_pty = PtyPair(), PtyPair()
    reader = SimulatedQrReader(qr, layout.devices / "qr-reader.in")
    printer = SimulatedReceiptPrinter(printer_pty, layout.devices / "printed", idle_s=0.3,
                                      state_file=layout.devices / "printer.state")
    for sim in (reader, printer):
        sim.start()
    doc = station_config("dev-test", "99", 18883, qr.port, printer_pty.port)
    doc["ocr"] = {"manifest": "/nonexistent/manifest.json"}  # review by hand: no OCR in these tests
    assert write_managed_config(paths, doc)
    app = create_app({"secret_key": "test-secret-key-" + "x" * 32, "dev_accounts": True})
    backend = app.extensions["kiosk_backend"]
    assert backend.devices.reader_open.wait(5)
    try:
        with serve(app) as base:
            yield Station(base, backend, reader.inbox, printer)
    finally:
        backend.close()
        for sim in (reader, printer):
            sim.stop()
        qr.close()
        printer_pty.close()


def _wait(check: Callable[[], bool], timeout_s: float = 10.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not check():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def _decode_slip(data: bytes) -> tuple[list[Any], dict[str, str]]:
    blocks = raster_blocks(data)
    slip = raster_images(data)
    assert slip is not None
    codes = zxingcpp.read_barcodes(slip.convert("L"))
    assert len(codes) == 1 and codes[0].format == zxingcpp.BarcodeFormat.QRCode
    return blocks, json.loads(codes[0].text)


def test_receipt_prints_on_the_roll_and_the_reader_fills_the_owner(station: Station, page: Any,
                                                                    dev_token: str) -> None:
    base, hub = station.base, station.backend.devices
    page.goto(f"{base}/login")
    page.get_by_test_id("pin").fill(dev_token)
    page.get_by_test_id("card-login").click()
    page.wait_for_url(f"{base}/officer/")
    _wait(lambda: hub.panel.leds["card"].value == 1.0)  # the card LED: the officer's card is in

    # The ID card's QR, scanned with the serial reader, fills the owner field; a bad scan says so.
    page.get_by_test_id("new-dossier").click()
    page.wait_for_url("**/owner")
    owner_box = page.locator('[data-qr-fill="owner"]')
    station.scan(b"\xff\xfe\x81\x07")  # line noise: not UTF-8
    expect(page.get_by_test_id("device-message")).to_contain_text("Không đọc được mã vừa quét")
    assert owner_box.input_value() == ""
    station.scan(CCCD_QR.encode("utf-8"))
    expect(owner_box).to_have_value(CCCD_QR)
    screenshot(page, "40-owner-from-serial-reader")
    page.get_by_test_id("qr-submit").click()
    page.wait_for_url("**/procedure")
    page.go_back()
    page.reload()
    assert page.get_by_test_id("owner-id").input_value() == OWNER
    assert page.get_by_test_id("owner-name").input_value() == "Nguyễn Văn Thử"
    page.get_by_test_id("owner-next").click()
    page.get_by_test_id("proc-1.000894").click()
    page.get_by_test_id("comp-XNTTHN").uncheck()
    page.get_by_test_id("procedure-next").click()
    page.get_by_test_id("reuse-next").click()

    # The panel's capture button takes the page on the capture screen.
    page.wait_for_url("**/capture/TK")
    assert page.get_by_test_id("page-item").count() == 0
    _wait(lambda: hub.lights == "ready")
    with page.expect_navigation():
        station.press_capture()
    expect(page.get_by_test_id("counter")).to_contain_text("1 / 1")
    assert page.get_by_test_id("page-item").count() == 1

    # OCR cannot run here: the failed job lights the error LED; the officer types the fields.
    page.get_by_test_id("to-review").click()
    page.get_by_test_id("job-error").wait_for(state="visible", timeout=60_000)
    _wait(lambda: hub.lights == "error")
    page.get_by_test_id("job-retry").click()
    page.wait_for_url("**/review")
    page.get_by_test_id("field-TK-document_name").locator("input").fill("Tờ khai đăng ký kết hôn")
    page.get_by_test_id("field-TK-issue_date").locator("input").fill("ngày 05 tháng 3 năm 2024")
    page.get_by_test_id("review-next").click()
    page.get_by_test_id("sign-pin").fill(dev_token)
    page.get_by_test_id("sign-submit").click()
    page.wait_for_url("**/receipt", timeout=120_000)
    code = page.get_by_test_id("dossier-code").inner_text().strip()

    # "In biên nhận": the slip goes to the printer's pty; its raster decodes and its QR is the receipt's.
    before = len(station.printer.data())
    with page.expect_navigation():
        page.get_by_test_id("receipt-slip").click()
    assert "Đã in biên nhận" in " ".join(page.locator(".flash").all_inner_texts())
    blocks, qr = _decode_slip(station.printed(before))
    assert [b.mode for b in blocks] == [0, 0] and max(b.width_bytes for b in blocks) == 576 // 8  # 80 mm roll
    assert qr["ma_ho_so"] == code and qr["ma_tthc"] == "1.000894" and qr["ma_dinh_danh"] == OWNER
    assert qr["ten_giay_to"] == "Giấy tiếp nhận hồ sơ và hẹn trả kết quả"
    assert qr["he_thong"] and qr["thoi_gian_xuat_ban"] and qr["ngay_hen_tra"]
    pdf = page.request.get(base + page.get_by_test_id("receipt-pdf").get_attribute("href"))
    assert pdf.status == 200  # the A4 copy carries the same fields (tests/ui/test_officer_flow.py reads it)
    assert page.get_by_test_id("print-fallback").count() == 0
    _wait(lambda: len(list(station.printer.folder.glob("job-*.png"))) == 1)  # `make run` keeps a picture of it
    screenshot(page, "41-receipt-slip-printed")

    # Paper out: the Vietnamese message, nothing printed, and the A4 PDF offered instead.
    station.set_printer("paper-out")
    before = len(station.printer.data())
    with page.expect_navigation():
        page.get_by_test_id("receipt-slip").click()
    assert "Máy in hết giấy" in " ".join(page.locator(".flash").all_inner_texts())
    assert b"\x1dv0" not in station.printer.data()[before:]
    fallback = page.get_by_test_id("print-fallback-pdf")
    expect(fallback).to_be_visible()
    pdf = page.request.get(base + fallback.get_attribute("href"))
    assert pdf.status == 200 and pdf.headers["content-type"] == "application/pdf"
    _wait(lambda: hub.lights == "error")
    screenshot(page, "42-receipt-paper-out-pdf-fallback")

    from service.paths import get_paths
    from service.usecases.kiosk_records import recent_audit

    prints = [r for r in recent_audit(get_paths(), limit=200) if r["action"] == "kiosk.receipt.print_slip"]
    assert len(prints) == 2 and all(r["actor"].startswith("officer:") for r in prints)
    assert all(OWNER not in json.dumps(r, ensure_ascii=False) for r in recent_audit(get_paths(), limit=200))


def test_citizen_lookup_by_reader_and_ticket_on_the_roll(station: Station, page: Any) -> None:
    base = station.base
    page.goto(f"{base}/citizen/")
    page.get_by_test_id("citizen-lookup").click()
    page.wait_for_url("**/citizen/lookup")
    box = page.locator('[data-qr-fill="lookup"]')
    receipt_qr = json.dumps({"ma_ho_so": "000.00.70.H99-991231-0001"}, ensure_ascii=False)
    station.scan(receipt_qr.encode("utf-8"))
    expect(box).to_have_value(receipt_qr)
    station.scan("000.00.70.H99\u202e-991231".encode())  # a bidi override: refused by the text hygiene rule
    expect(page.get_by_test_id("device-message")).to_contain_text("Không đọc được mã vừa quét")
    assert box.input_value() == receipt_qr
    with page.expect_navigation():  # the look-up is a form post: wait for its answer page
        page.get_by_test_id("lookup-submit").click()
    assert page.get_by_test_id("lookup-none").is_visible()

    # Self-service scan: the panel button captures, the hand-in prints the ticket on the roll.
    page.goto(f"{base}/citizen/")
    page.get_by_test_id("citizen-scan").click()
    page.get_by_test_id("pick-1.000894-XNTTHN").check()
    page.get_by_test_id("citizen-pick-next").click()
    page.wait_for_url("**/citizen/capture/XNTTHN")
    with page.expect_navigation():
        station.press_capture()
    expect(page.get_by_test_id("counter")).to_contain_text("1 / 1")
    before = len(station.printer.data())
    page.get_by_test_id("citizen-submit").click()
    ticket = page.get_by_test_id("ticket").inner_text().strip()
    expect(page.get_by_test_id("ticket-print")).to_contain_text("Đã in phiếu")
    blocks, qr = _decode_slip(station.printed(before))
    assert qr["so_phieu"] == ticket and qr["ten_giay_to"] == "Phiếu nộp hồ sơ tự phục vụ"
    screenshot(page, "43-citizen-ticket-printed")

    # Cover open at the next hand-in: the ticket number stays on screen with what happened.
    station.set_printer("cover-open")
    page.goto(f"{base}/citizen/")
    page.get_by_test_id("citizen-scan").click()
    page.get_by_test_id("pick-1.000894-XNTTHN").check()
    page.get_by_test_id("citizen-pick-next").click()
    with page.expect_navigation():
        page.get_by_test_id("capture").click()
    page.get_by_test_id("citizen-submit").click()
    expect(page.get_by_test_id("ticket-print")).to_contain_text("Nắp máy in đang mở")
    assert len(page.get_by_test_id("ticket").inner_text().strip()) == 6
