"""Facts about the box itself for metrics and telemetry: disk, CPU temperature, software and model versions.

No personal data. ``SOHOA_SYSFS_ROOT`` (or the ``sysfs_root`` argument) points the temperature
reading at another folder laid out like ``/sys`` (tests, containers).
"""

from __future__ import annotations

import os
import shutil
from importlib import metadata
from pathlib import Path

DIST_NAME = "sohoa-edge"
MODEL_VERSIONS_MAX = 200
_CPU_ZONE_TYPES = ("cpu", "soc", "x86_pkg", "package")


def sysfs_root(root: Path | None = None) -> Path:
    """``root``, else ``$SOHOA_SYSFS_ROOT``, else ``/sys``."""
    return root if root is not None else Path(os.environ.get("SOHOA_SYSFS_ROOT") or "/sys")


def disk_free_bytes(path: Path) -> int:
    """Free bytes on the file system holding ``path`` (available to an unprivileged user)."""
    return int(shutil.disk_usage(path).free)


def cpu_temperature_c(root: Path | None = None) -> float | None:
    """The CPU temperature (°C) from ``<sysfs>/class/thermal/thermal_zone*/temp``; None when there is none.

    A zone whose ``type`` names the CPU / SoC is preferred (``cpu-thermal`` on a Pi); otherwise the
    hottest zone. Unreadable or absurd values (outside −50…200 °C) are skipped.
    """
    zones = sorted((sysfs_root(root) / "class" / "thermal").glob("thermal_zone*"))
    readings: list[tuple[bool, float]] = []
    for zone in zones:
        try:
            milli = int((zone / "temp").read_text(encoding="ascii").strip())
        except (OSError, ValueError, UnicodeDecodeError):
            continue
        celsius = milli / 1000.0
        if not -50.0 <= celsius <= 200.0:
            continue
        try:
            kind = (zone / "type").read_text(encoding="ascii").strip().lower()
        except (OSError, UnicodeDecodeError):
            kind = ""
        readings.append((any(t in kind for t in _CPU_ZONE_TYPES), celsius))
    if not readings:
        return None
    cpu = [c for is_cpu, c in readings if is_cpu]
    return round(max(cpu or [c for _, c in readings]), 1)


def software_version() -> str:
    """The installed ``sohoa-edge`` package version."""
    try:
        return metadata.version(DIST_NAME)
    except metadata.PackageNotFoundError:
        return "0+unknown"


def model_versions(manifest: Path | None = None) -> str:
    """``name@sha8;name@sha8`` of the OCR models the manifest pins (at most 200 characters; "" if unreadable)."""
    from service.domain.errors import SohoaError
    from service.ocr.manifest import load_manifest

    try:
        models = load_manifest(manifest)["models"]
    except SohoaError:
        return ""
    parts = [f"{name}@{str(m.get('sha256', ''))[:8]}" for name, m in sorted(models.items()) if isinstance(m, dict)]
    out = ""
    for part in parts:
        candidate = f"{out};{part}" if out else part
        if len(candidate) > MODEL_VERSIONS_MAX:
            break
        out = candidate
    return out
