"""The technician page's read model and the self-test: devices, token, models, queue, disk, errors."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import metadata as pkg_metadata
from pathlib import Path
from typing import Any

from firmware.health import check_device, device_health
from service.config import Config
from service.desk.camera import DeskCamera, running_driver
from service.errors import SohoaError
from service.ocr.manifest import load_manifest
from service.paths import Paths
from service.signing.status import token_status
from service.usecases.documents import verify_integrity
from service.usecases.kiosk_records import queue_summary, recent_audit
from service.usecases.progress import Progress

PACKAGES = ("sohoa-edge", "onnxruntime", "asterocr", "rapidocr-onnxruntime", "pyHanko", "pikepdf", "paho-mqtt", "Flask")
ERROR_MARKERS = ("failed", "refused", "error", "expired")


@dataclass(frozen=True, slots=True)
class DeviceRow:
    """One line of the devices tile."""

    name: str
    ok: bool
    detail: str


@dataclass(frozen=True, slots=True)
class Health:
    """Everything the technician page shows."""

    devices: list[DeviceRow]
    versions: list[dict[str, str]]
    queue: dict[str, int]
    queue_depth: int
    last_sync: str | None
    disk: dict[str, float]
    errors: list[dict[str, str]] = field(default_factory=list)
    sync_state: dict[str, str] = field(default_factory=dict)


def disk_usage(paths: Paths) -> dict[str, float]:
    """Free and total space of the service home's file system (GB) and the used percentage."""
    du = shutil.disk_usage(paths.home)
    return {"free_gb": round(du.free / 1e9, 2), "total_gb": round(du.total / 1e9, 2),
            "used_pct": round(100 * (du.total - du.free) / du.total, 1)}


def versions() -> list[dict[str, str]]:
    """Installed package versions and the OCR models named by the manifest."""
    out = []
    for name in PACKAGES:
        try:
            out.append({"name": name, "version": pkg_metadata.version(name)})
        except pkg_metadata.PackageNotFoundError:
            out.append({"name": name, "version": "not installed"})
    try:
        models: dict[str, Any] = load_manifest()["models"]
        for key, m in sorted(models.items()):
            out.append({"name": f"model {key}", "version": f"{m.get('package', '?')} {m.get('version', '?')} "
                                                           f"sha256 {str(m.get('sha256', ''))[:12]}"})
    except SohoaError as exc:
        out.append({"name": "models", "version": exc.message})
    return out


def _token_rows(config: Config, paths: Paths) -> list[DeviceRow]:
    rows = []
    for t in token_status(config.signing, paths):
        detail = "present" + (", PIN locked" if t.get("pin_locked") else "") if t.get("present") \
            else str(t.get("problem", "absent"))
        rows.append(DeviceRow(f"token {t['role']}", bool(t.get("present")) and not t.get("pin_locked"), detail))
    return rows


def health(paths: Paths, config: Config, camera: DeskCamera) -> Health:
    """A quick health read (device presence without long self-checks beyond the camera's)."""
    home = str(paths.home)
    devs = [DeviceRow(d.device, d.ok, f"{d.driver}: {d.detail}".replace(home, "$SOHOA_HOME"))
            for d in device_health(config.devices, running={"camera": running_driver(camera)},
                                   sample_folder=camera.sample_folder(), timeout_s=5.0)]
    devs += _token_rows(config, paths)
    q = queue_summary(paths)
    pending = sum(v for k, v in q.counts.items() if k != "delivered")
    errors = [e for e in recent_audit(paths, limit=500) if any(m in e["action"] for m in ERROR_MARKERS)][:10]
    return Health(devs, versions(), q.counts, pending, q.last_delivered_at, disk_usage(paths), errors, q.sync_state)


def self_test(paths: Paths, config: Config, camera: DeskCamera, progress: Progress) -> dict[str, str]:
    """Run every check in turn; each result reads ``OK: …`` or ``FAIL: …`` (never raises for a fault)."""
    results: dict[str, str] = {}
    steps: list[tuple[str, Callable[[], str]]] = [
        ("camera", lambda: camera.self_check()),
        ("store", lambda: _integrity(paths)),
        ("disk", lambda: f"{disk_usage(paths)['free_gb']} GB free"),
        ("models", lambda: f"{len(load_manifest()['models'])} models in the manifest"),
    ]
    for slot in ("scanner", "qr_reader", "printer", "panel"):
        steps.append((slot, lambda s=slot: _device(s, config)))  # type: ignore[misc]
    steps += [(r.name, lambda r=r: r.detail if r.ok else _raise(r.detail)) for r in _token_rows(config, paths)]  # type: ignore[misc]
    for i, (name, check) in enumerate(steps):
        progress("job.check", i, len(steps))
        try:
            results[name] = ("OK: " + check()).replace(str(paths.home), "$SOHOA_HOME")
        except SohoaError as exc:
            results[name] = ("FAIL: " + exc.message).replace(str(paths.home), "$SOHOA_HOME")
    return results


class _CheckFailed(SohoaError):
    """A self-test line that failed."""


def _raise(detail: str) -> str:
    raise _CheckFailed(detail)


def _integrity(paths: Paths) -> str:
    rep = verify_integrity(paths=paths)
    if not rep.ok:
        raise _CheckFailed("; ".join(rep.problems[:3]))
    return f"audit chain intact ({rep.audit_rows} rows, {rep.documents} documents)"


def _device(slot: str, config: Config) -> str:
    d = check_device(slot, config.devices, timeout_s=5.0)
    if not d.ok:
        raise _CheckFailed(d.detail)
    return d.detail


def liveness(paths: Paths) -> bool:
    """True when the service can read its database and its disk is not full (``/healthz``)."""
    from service.store.store import Store

    try:
        with Store.open(paths) as store:
            store.ping()
        return shutil.disk_usage(paths.home).free > 16 * 1024 * 1024
    except (SohoaError, OSError):
        return False


def save_private_file(path: Path, data: bytes) -> None:
    """Write a file only the service user may read, durably (the kiosk's session-signing key)."""
    from service.durable import write_durable

    write_durable(path, data, 0o600)
