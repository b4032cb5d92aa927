"""Device presence and self-checks for the technician page and ``sohoa device selftest``.

Each configured device is built from config (or taken from the running service, so pins and
ports it holds are not claimed twice), asked for its ``self_check()`` under a time limit, and
reported as one :class:`DeviceHealth` row. Nothing here raises for a device problem.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal

from firmware.config import DevicesConfig
from firmware.errors import DeviceFault, DeviceMissing
from firmware.timeouts import call_with_timeout

HealthState = Literal["ok", "missing", "fault", "not-configured"]
DEVICES = ("camera", "scanner", "panel", "qr_reader", "printer")


@dataclass(frozen=True)
class DeviceHealth:
    """One device's state: ``state`` is ok / missing / fault / not-configured."""

    device: str
    driver: str
    state: HealthState
    detail: str
    remedy: str | None = None
    fault: str | None = None
    elapsed_ms: int = 0

    @property
    def ok(self) -> bool:
        """True when the device works or is simply not fitted."""
        return self.state in ("ok", "not-configured")

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (for the technician page and ``--json``)."""
        return {**asdict(self), "ok": self.ok}


def _builder(name: str, config: DevicesConfig, sample_folder: Path | None) -> Callable[[], Any] | None:
    """A factory for device ``name`` from config, or None when it is not configured."""
    if name == "camera" and config.camera is not None:
        from firmware.camera import open_camera

        cam_cfg = config.camera
        return lambda: open_camera(cam_cfg, sample_folder=sample_folder)
    if name == "scanner" and config.scanner is not None:
        from firmware.scanner import open_scanner

        scan_cfg = config.scanner
        return lambda: open_scanner(scan_cfg, sample_folder=sample_folder)
    if name == "panel" and config.panel is not None:
        from firmware.panel import Panel

        panel_cfg = config.panel
        return lambda: Panel(panel_cfg)
    if name == "qr_reader" and config.qr_reader is not None:
        from firmware.serial_devices import QrReader

        qr_cfg = config.qr_reader
        return lambda: QrReader(qr_cfg)
    if name == "printer" and config.printer is not None:
        from firmware.serial_devices import ReceiptPrinter

        printer_cfg = config.printer
        return lambda: ReceiptPrinter(printer_cfg)
    return None


def _driver_name(name: str, config: DevicesConfig) -> str:
    section = getattr(config, name)
    if section is None:
        return "-"
    return str(getattr(section, "type", "gpio"))


def check_device(name: str, config: DevicesConfig, *, instance: Any = None, sample_folder: Path | None = None,
                 timeout_s: float = 10.0) -> DeviceHealth:
    """Self-check one device; ``instance`` is a running driver to reuse (it is not closed)."""
    driver = _driver_name(name, config)
    build = _builder(name, config, sample_folder)
    if instance is None and build is None:
        return DeviceHealth(name, driver, "not-configured", "not fitted on this box")
    start = time.monotonic()
    owned = instance is None
    device: Any = instance
    try:
        if device is None:
            assert build is not None
            device = call_with_timeout(build, timeout_s, name, "starting the driver")
        detail = str(call_with_timeout(device.self_check, timeout_s, name, "self-check"))
        state: HealthState = "ok"
        remedy = fault = None
    except DeviceFault as exc:
        state = "missing" if isinstance(exc, DeviceMissing) else "fault"
        detail, remedy, fault = exc.message, exc.remedy, exc.code
    finally:
        if owned and device is not None:
            try:
                device.close()
            except (DeviceFault, OSError):
                pass
    return DeviceHealth(name, driver, state, detail, remedy, fault, int((time.monotonic() - start) * 1000))


def device_health(config: DevicesConfig, *, running: dict[str, Any] | None = None,
                  sample_folder: Path | None = None, timeout_s: float = 10.0) -> list[DeviceHealth]:
    """Health of every device slot, in a fixed order; ``running`` maps slot name to a live driver."""
    running = running or {}
    return [check_device(name, config, instance=running.get(name), sample_folder=sample_folder,
                         timeout_s=timeout_s) for name in DEVICES]
