"""What the gateway will accept from one device: size caps, quotas, expiry, look-up rate (all configurable)."""

from __future__ import annotations

import math
import re
import threading
import time
from dataclasses import dataclass
from typing import Any

from service.sync import protocol as p

TELEMETRY_KEY_RE = re.compile(r"[a-z][a-z0-9_]{0,39}")
TELEMETRY_TEXT_RE = re.compile(r"[0-9A-Za-z._:-]{0,128}")  # e.g. an audit chain head (hex)


@dataclass(frozen=True, slots=True)
class Limits:
    """Bounds on answers and storage; the defaults suit a province of thousands of devices."""

    max_file_bytes: int = 128 * 1024 * 1024  # a declared KichThuoc above this is refused (too-large)
    max_chunks: int = 16_384  # a declared SoManh above this is refused (too-many-chunks)
    max_need: int = 1_024  # seq numbers per `need` answer (≤ about 8 KiB); the rest follow (ConThieu)
    max_open_transfers: int = 32  # incomplete transfers per device (beyond: `later`, quota-exceeded)
    max_open_bytes: int = 512 * 1024 * 1024  # declared bytes of a device's incomplete transfers
    transfer_ttl_s: float = 3 * 86400.0  # an incomplete transfer idle this long is dropped with its chunks
    sweep_interval_s: float = 60.0  # how often a replica looks for expired transfers
    reuse_per_minute: float = 30.0  # look-ups per device (token bucket, per replica)
    reuse_burst: int = 10
    dossier_max_age_days: int = 90  # a dossier authorises look-ups about its owner this long


class RateLimiter:
    """Token bucket per key (thread-safe); ``allow`` takes one token or says no."""

    def __init__(self, per_minute: float, burst: int) -> None:
        self.rate = per_minute / 60.0
        self.burst = float(burst)
        self._buckets: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def allow(self, key: str) -> bool:
        """Spend one token of ``key``; False when its bucket is empty."""
        now = time.monotonic()
        with self._lock:
            tokens, last = self._buckets.get(key, (self.burst, now))
            tokens = min(self.burst, tokens + (now - last) * self.rate)
            if tokens < 1.0:
                self._buckets[key] = (tokens, now)
                return False
            self._buckets[key] = (tokens - 1.0, now)
            if len(self._buckets) > 100_000:  # forget idle devices
                self._buckets = {k: v for k, v in self._buckets.items() if now - v[1] < 600}
            return True


def telemetry_values(data: dict[str, Any], device: str) -> dict[str, int | float | str]:
    """Validate a telemetry body: counters (finite numbers) and short known-shape strings such as ``audit_head``.

    Extra fields are kept when well formed, so a newer device's counters are not lost; anything
    PostgreSQL could not store (NaN, NUL, odd keys) refuses the message with ``bad-field``.
    """
    if data.get("schema") not in (None, p.TELEMETRY_SCHEMA):
        raise p.ProtocolError("bad-schema")
    if data.get("MaThietBi", device) != device:
        raise p.ProtocolError("identity-mismatch")
    out: dict[str, int | float | str] = {}
    for key, value in data.items():
        if key in ("schema", "MaThietBi"):
            continue
        if not isinstance(key, str) or not TELEMETRY_KEY_RE.fullmatch(key) or len(out) >= 64:
            raise p.ProtocolError("bad-field", "telemetry key")
        if isinstance(value, bool) or not isinstance(value, int | float | str):
            raise p.ProtocolError("bad-field", "telemetry value")
        if isinstance(value, int) and abs(value) >= 2**63:
            raise p.ProtocolError("bad-field", "telemetry value")
        if isinstance(value, float) and not math.isfinite(value):
            raise p.ProtocolError("bad-field", "telemetry value")
        if key in p.HEALTH_TEXT_KEYS or key in p.HEALTH_INT_KEYS or key in p.HEALTH_FLOAT_KEYS:
            _health_value(key, value)
        elif isinstance(value, str) and not TELEMETRY_TEXT_RE.fullmatch(value):
            raise p.ProtocolError("bad-field", "telemetry value")
        out[key] = value
    return out


def _health_value(key: str, value: int | float | str) -> None:
    """The box's health keys (``service.sync.protocol.HEALTH_*``): each of one known type and shape."""
    if key in p.HEALTH_TEXT_KEYS:
        ok = isinstance(value, str) and len(value) <= p.HEALTH_TEXT_MAX and bool(
            p.HEALTH_TEXT_KEYS[key].fullmatch(value))
    elif key in p.HEALTH_INT_KEYS:
        ok = isinstance(value, int) and value >= 0
    else:
        ok = isinstance(value, int | float) and not isinstance(value, str) and (
            -50.0 <= value <= 200.0 if key == "cpu_temp_c" else value >= 0)
    if not ok:
        raise p.ProtocolError("bad-field", f"telemetry {key}")
