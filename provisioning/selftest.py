"""``sohoa device selftest``: each configured device's self-check, as a table or JSON."""

from __future__ import annotations

from pathlib import Path

from firmware.config import DevicesConfig, FilesCameraConfig
from firmware.health import DeviceHealth, device_health

MARK = {"ok": "OK", "not-configured": "-", "missing": "MISSING", "fault": "FAULT"}


def run_selftest(config: DevicesConfig, *, sample_folder: Path | None = None,
                 timeout_s: float = 10.0) -> list[DeviceHealth]:
    """Self-check every device slot (never raises for a device problem)."""
    return device_health(config, sample_folder=sample_folder, timeout_s=timeout_s)


def default_sample_folder(config: DevicesConfig, home: Path) -> Path | None:
    """The kiosk's rendered sample pages when the simulated files camera names no folder, else None."""
    if isinstance(config.camera, FilesCameraConfig) and config.camera.folder is None:
        from service.desk.camera import ensure_sample_pages

        return ensure_sample_pages(home / "kiosk" / "camera-samples")
    return None


def format_table(rows: list[DeviceHealth]) -> str:
    """A fixed-width table: device, driver, result, time, detail (and the remedy under failures)."""
    header = ("device", "driver", "result", "ms", "detail")
    body = [(r.device, r.driver, MARK[r.state], str(r.elapsed_ms), r.detail) for r in rows]
    widths = [max(len(x[i]) for x in [header, *body]) for i in range(4)]
    lines = []
    for row, r in zip([header, *body], [None, *rows], strict=True):
        lines.append("  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row[:4])) + "  " + row[4])
        if r is not None and r.remedy and not r.ok:
            lines.append(" " * (sum(widths) + 8) + f"-> {r.remedy}")
    return "\n".join(lines)


def all_ok(rows: list[DeviceHealth]) -> bool:
    """True when every fitted device passed."""
    return all(r.ok for r in rows)
