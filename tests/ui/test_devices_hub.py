"""The kiosk's device hub on real pty devices and gpiozero's MockFactory (no browser)."""

from __future__ import annotations

import datetime as dt
import json
import re
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import zxingcpp

from firmware.config import DevicesConfig, EscposSerialPrinterConfig, PanelConfig, SerialQrReaderConfig
from provisioning.simdevices import PtyPair, PtyPrinter, raster_images
from service.usecases.kiosk_devices import DeviceEvent, DeviceHub, KioskActivity
from tests.ui.desk_client import desk_app

CCCD_QR = "036088001234||Nguyễn Văn Thử|14021988|Nam|Xóm 5, xã Hải Minh, huyện Hải Hậu, tỉnh Nam Định|15032021"


def _wait(check: Callable[[], bool], timeout_s: float = 5.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not check():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def _events(hub: DeviceHub, after: int = 0, n: int = 1) -> list[DeviceEvent]:
    _wait(lambda: len(hub.events_after(after)) >= n)
    return hub.events_after(after)


@pytest.fixture
def reader_hub() -> Iterator[tuple[PtyPair, DeviceHub]]:
    with PtyPair() as pair:
        hub = DeviceHub(DevicesConfig(camera=None, qr_reader=SerialQrReaderConfig(port=pair.port, timeout_s=0.3)))
        hub.start()
        assert hub.reader_open.wait(5)  # opening a serial port flushes what arrived before
        yield pair, hub
        hub.close()


def test_scanned_lines_become_events_and_bad_ones_a_message(reader_hub: tuple[PtyPair, DeviceHub]) -> None:
    pair, hub = reader_hub
    pair.write(CCCD_QR.encode("utf-8") + b"\r\n")
    (first,) = _events(hub)
    assert first.kind == "qr" and first.text == CCCD_QR
    pair.write(b"\xff\xfe\x80garbage\r\n")  # not UTF-8 (wrong reader setting or line noise)
    pair.write("0360880\u200b01234\r\n".encode())  # an invisible zero-width character: text hygiene refuses it
    pair.write(b"\x1b[31m\r\n")  # control characters
    pair.write(b"000.00.70.H99-261202-0001\n")  # the reader still works afterwards
    events = _events(hub, first.seq, 4)
    assert [e.kind for e in events] == ["qr_error", "qr_error", "qr_error", "qr"]
    assert all(e.message_key == "devices.qr_bad" and e.text == "" for e in events[:3])
    assert events[3].text == "000.00.70.H99-261202-0001"
    assert hub.current_seq() == events[-1].seq
    assert hub.events_after(hub.current_seq()) == []


def test_an_unplugged_reader_is_retried_not_fatal(tmp_path: Path) -> None:
    hub = DeviceHub(DevicesConfig(camera=None, qr_reader=SerialQrReaderConfig(port=str(tmp_path / "ttyNONE"))))
    hub.start()
    _wait(lambda: hub.reader_fault == "missing")
    started = time.monotonic()
    hub.close()
    assert time.monotonic() - started < 4
    assert hub.events_after(0) == []


def _printer_hub(status: dict[int, int] | None = None, silent: bool = False,
                 paper_mm: int = 80) -> tuple[PtyPair, PtyPrinter, DeviceHub]:
    pair = PtyPair()
    device = PtyPrinter(pair, status=status, silent=silent)
    device.start()
    config = EscposSerialPrinterConfig(port=pair.port, timeout_s=0.3, paper_mm=paper_mm)  # type: ignore[arg-type]
    return pair, device, DeviceHub(DevicesConfig(camera=None, printer=config))


@pytest.mark.parametrize("paper_mm", [80, 58])
def test_ticket_prints_with_its_qr(paper_mm: int) -> None:
    from service.usecases.kiosk_devices import print_ticket

    pair, device, hub = _printer_hub(paper_mm=paper_mm)
    try:
        at = dt.datetime(2026, 12, 2, 9, 30, tzinfo=dt.timezone(dt.timedelta(hours=7)))
        outcome = print_ticket(hub, "AB12CD", office_name="UBND xã Hải Minh", issuing_system="sohoa-edge",
                               printed_at=at)
        assert outcome.ok and outcome.paper == "ok"
        time.sleep(0.2)
        slip = raster_images(device.data())
    finally:
        device.stop()
        pair.close()
    assert slip is not None and slip.width <= {80: 576, 58: 384}[paper_mm]
    (code,) = zxingcpp.read_barcodes(slip.convert("L"))
    assert json.loads(code.text) == {"so_phieu": "AB12CD", "ten_giay_to": "Phiếu nộp hồ sơ tự phục vụ",
                                     "he_thong": "sohoa-edge", "thoi_gian_xuat_ban": "2026-12-02T09:30:00+07:00"}


@pytest.mark.parametrize(("status", "silent", "fault"), [
    ({1: 0x12, 2: 0x12, 4: 0x72}, False, "paper-out"),
    ({1: 0x12, 2: 0x16, 4: 0x12}, False, "cover-open"),
    (None, True, "timeout"),
])
def test_a_printer_that_is_not_ready_gives_the_fault_and_prints_nothing(status: dict[int, int] | None,
                                                                        silent: bool, fault: str) -> None:
    from service.usecases.kiosk_devices import print_ticket

    pair, device, hub = _printer_hub(status, silent)
    try:
        outcome = print_ticket(hub, "AB12CD", office_name="UBND", issuing_system="sohoa", printed_at=dt.datetime.now())
        time.sleep(0.1)
        assert not outcome.ok and outcome.fault == fault
        assert b"\x1dv0" not in device.data()
    finally:
        device.stop()
        pair.close()


def test_no_printer_configured() -> None:
    from service.receipts.slip import Slip

    assert DeviceHub(DevicesConfig(camera=None)).print_slip(Slip("x", ("y",))).fault == "not-configured"


def test_panel_button_and_lights_follow_the_kiosk() -> None:
    state = {"activity": KioskActivity()}
    hub = DeviceHub(DevicesConfig(camera=None, panel=PanelConfig(pin_factory="mock")),
                    activity=lambda: state["activity"])
    hub.start()
    try:
        assert hub.panel is not None
        pin = hub.panel.buttons["capture"].pin
        pin.drive_low()
        pin.drive_high()
        (event,) = _events(hub)
        assert event.kind == "capture"
        hub.panel.buttons["pedal"].pin.drive_low()  # the foot pedal captures too
        assert _events(hub, event.seq)[0].kind == "capture"
        leds = hub.panel.leds
        _wait(lambda: hub.lights == "ready")
        assert leds["ready"].value == 1.0 and leds["card"].value == 0
        state["activity"] = KioskActivity(busy=True, card=True)
        _wait(lambda: hub.lights == "busy")
        _wait(lambda: leds["card"].value == 1.0)
        assert leds["ready"].value == 0
        state["activity"] = KioskActivity(failed=True, card=True)
        _wait(lambda: hub.lights == "error")
        state["activity"] = KioskActivity()
        _wait(lambda: hub.lights == "ready" and leds["card"].value == 0)
    finally:
        hub.close()
    assert hub.panel is None


def _citizen_lookup(app: Any) -> tuple[Any, str]:
    """A new browser's citizen look-up session: its client and the look-up page's HTML."""
    client = app.test_client()
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/citizen/").get_data(as_text=True))
    assert csrf
    page = client.post("/citizen/begin", data={"mode": "lookup", "csrf_token": csrf.group(1)},
                       follow_redirects=True).get_data(as_text=True)
    return client, page


def test_a_scan_right_after_the_page_appears_reaches_it_once() -> None:
    """The citizen scans before the look-up page's first poll: the page still gets the code, once;
    a forged or future ``since`` only gives what happens from now on."""
    with desk_app() as app:
        hub = app.extensions["kiosk_backend"].devices
        hub.scan_line("an earlier scan, before this citizen began")
        client, page = _citizen_lookup(app)
        since = re.search(r'data-since="(\d+)"', page)
        assert since and 'data-qr-fill="lookup"' in page
        hub.scan_line("000.00.70.H99-991231-0001")  # before the page's first poll
        first = client.get(f"/devices/events?since={since.group(1)}").get_json()
        assert first == {"events": [{"kind": "qr", "text": "000.00.70.H99-991231-0001"}]}
        assert client.get(f"/devices/events?since={since.group(1)}").get_json() == {"events": []}

        for forged in ("99999999", "-1", "1e3", "٣", ""):
            other, _ = _citizen_lookup(app)
            assert other.get(f"/devices/events?since={forged}").get_json() == {"events": []}
            hub.scan_line(f"after {forged!r}")
            assert other.get(f"/devices/events?since={forged}").get_json() == {
                "events": [{"kind": "qr", "text": f"after {forged!r}"}]}
