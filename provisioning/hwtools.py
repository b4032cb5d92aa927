"""Technician actions on single devices (``sohoa device capture|scan|read-qr|print-test``).

Each opens the configured driver, does one thing, closes it, and turns a driver
:class:`~firmware.errors.DeviceFault` into the service's :class:`DeviceError` (exit code 14).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from PIL import Image

from firmware.camera import open_camera
from firmware.config import DevicesConfig
from firmware.errors import DeviceFault
from firmware.scanner import open_scanner
from firmware.serial_devices import QrReader, ReceiptPrinter
from provisioning.errors import to_device_error
from service.domain.errors import ConfigError

EXTENSIONS = {"image/png": ".png", "image/jpeg": ".jpg", "image/tiff": ".tif"}


def _not_fitted(slot: str) -> ConfigError:
    return ConfigError(f"no {slot.replace('_', ' ')} is configured (devices.{slot})",
                       remedy=f"add a devices.{slot} section to config.yaml")


def capture_still(config: DevicesConfig, out: Path, *, sample_folder: Path | None = None) -> Path:
    """Take one still and save it as the device encoded it (or PNG); returns the written path."""
    if config.camera is None:
        raise _not_fitted("camera")
    camera = open_camera(config.camera, sample_folder=sample_folder)
    try:
        frame = camera.capture()
        data, media = frame.to_encoded()
    except DeviceFault as exc:
        raise to_device_error(exc) from exc
    finally:
        camera.close()
    path = out.with_suffix(EXTENSIONS.get(media, ".bin")) if out.suffix == "" else out
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def scan_pages(config: DevicesConfig, out_dir: Path, *, duplex: bool = False, dpi: int = 300, color: bool = True,
               sample_folder: Path | None = None) -> list[Path]:
    """Scan the feeder into ``out_dir`` as ``NNN-sheet-side.png``; pages scanned before a fault are kept."""
    if config.scanner is None:
        raise _not_fitted("scanner")
    out_dir.mkdir(parents=True, exist_ok=True)
    scanner = open_scanner(config.scanner, sample_folder=sample_folder)
    written: list[Path] = []
    try:
        for page in scanner.scan_batch(duplex=duplex, dpi=dpi, color=color):
            path = out_dir / f"{page.index:03d}-{page.sheet:03d}-{page.side}.png"
            Image.fromarray(page.image).save(path, dpi=(page.dpi, page.dpi))
            written.append(path)
    except DeviceFault as exc:
        raise to_device_error(exc) from exc
    finally:
        scanner.close()
    return written


def read_one_code(config: DevicesConfig, timeout_s: float) -> str | None:
    """Wait up to ``timeout_s`` for one scanned QR/barcode; None when nobody scanned."""
    if config.qr_reader is None:
        raise _not_fitted("qr_reader")
    reader = QrReader(config.qr_reader)
    try:
        return reader.read_code(timeout_s)
    except DeviceFault as exc:
        raise to_device_error(exc) from exc
    finally:
        reader.close()


def print_test_receipt(config: DevicesConfig, device_id: str) -> str:
    """Print a test receipt (Vietnamese text + QR); returns the paper state."""
    if config.printer is None:
        raise _not_fitted("printer")
    printer = ReceiptPrinter(config.printer)
    now = dt.datetime.now().strftime("%d/%m/%Y %H:%M")
    try:
        state = printer.print_receipt(["PHIẾU IN THỬ / TEST RECEIPT", f"Thiết bị: {device_id}", f"Thời gian: {now}",
                                       "Tiếng Việt: ăâđêôơư ẮẰẲẴẶ"], qr=f"sohoa:test:{device_id}")
    except DeviceFault as exc:
        raise to_device_error(exc) from exc
    finally:
        printer.close()
    return state.paper
