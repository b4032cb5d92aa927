"""Device health for the technician page: every slot reported, faults typed, nothing raises."""

from __future__ import annotations

import json
from pathlib import Path

from PIL import Image

from firmware.config import (
    DevicesConfig,
    EscposSerialPrinterConfig,
    FilesCameraConfig,
    PanelConfig,
    SaneScannerConfig,
    SerialQrReaderConfig,
)
from firmware.health import DEVICES, check_device, device_health
from firmware.panel import Panel, mock_pin_factory
from tests.support.pty import FakeEscposPrinter, PtyPair
from tests.support.sane import sane_options, sane_test_backend


def test_defaults_report_every_slot(tmp_path: Path) -> None:
    rows = device_health(DevicesConfig())
    assert [r.device for r in rows] == list(DEVICES)
    camera = rows[0]
    assert camera.state == "missing" and camera.remedy  # files camera without a folder
    assert all(r.state == "not-configured" and r.ok for r in rows[1:])
    json.dumps([r.to_dict() for r in rows])


def test_a_fully_fitted_box(tmp_path: Path) -> None:
    sane_test_backend()
    pages = tmp_path / "pages"
    pages.mkdir()
    Image.new("RGB", (10, 10)).save(pages / "a.png")
    with PtyPair() as qr, PtyPair() as prn:
        printer = FakeEscposPrinter(prn)
        printer.start()
        config = DevicesConfig(
            camera=FilesCameraConfig(),
            scanner=SaneScannerConfig(device="test:1", timeout_s=5, options=sane_options()),
            panel=PanelConfig(pin_factory="mock"),
            qr_reader=SerialQrReaderConfig(port=qr.port),
            printer=EscposSerialPrinterConfig(port=prn.port, timeout_s=0.5),
        )
        rows = {r.device: r for r in device_health(config, sample_folder=pages)}
        printer.stop()
    assert all(r.state == "ok" for r in rows.values()), rows
    assert "1 image" in rows["camera"].detail
    assert rows["scanner"].driver == "sane" and "Automatic Document Feeder" in rows["scanner"].detail
    assert rows["printer"].detail == "online, paper ok"


def test_faults_are_rows_not_exceptions(tmp_path: Path) -> None:
    with PtyPair() as prn:
        printer = FakeEscposPrinter(prn, status={1: 0x12, 2: 0x12, 4: 0x72})
        printer.start()
        config = DevicesConfig(qr_reader=SerialQrReaderConfig(port=str(tmp_path / "nope")),
                               printer=EscposSerialPrinterConfig(port=prn.port, timeout_s=0.5))
        rows = {r.device: r for r in device_health(config)}
        printer.stop()
    assert rows["qr_reader"].state == "missing" and rows["qr_reader"].fault == "missing"
    assert rows["printer"].state == "fault" and rows["printer"].fault == "paper-out"
    assert not rows["printer"].ok and "roll" in (rows["printer"].remedy or "")


def test_running_driver_is_reused_not_claimed_twice() -> None:
    factory = mock_pin_factory()
    panel = Panel(PanelConfig(), pin_factory=factory)
    config = DevicesConfig(panel=PanelConfig(pin_factory="mock"))
    row = check_device("panel", config, instance=panel)
    assert row.state == "ok"
    assert panel.buttons  # still usable: the health check did not close it
    panel.close()
    factory.reset()
