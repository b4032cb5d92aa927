"""Configuration of the sync stage (device → province over MQTT 5 with mutual TLS)."""

from __future__ import annotations

from pydantic import Field

from service.configbase import StrictModel


class SyncConfig(StrictModel):
    """Settings for sync (embedded defaults work out of the box, with sync disabled).

    Relative TLS file paths are resolved against the service home's ``pki`` folder.
    """

    enabled: bool = False
    broker_host: str = "127.0.0.1"
    broker_port: int = Field(default=8883, ge=1, le=65535)
    tls: bool = True
    ca_file: str = "device-ca.crt"  # names written by `sohoa device identity install-cert`
    cert_file: str = "device.crt"
    key_file: str = "device.key"
    keepalive_s: int = Field(default=30, ge=5, le=3600)
    session_expiry_s: int = Field(default=86400, ge=0)
    chunk_size: int = Field(default=64 * 1024, ge=1024, le=1024 * 1024)
    window: int = Field(default=8, ge=1, le=256)  # documents announced per round (metadata first)
    max_inflight: int = Field(default=16, ge=1, le=1024)  # unacknowledged QoS 1 publishes
    bandwidth_bytes_per_s: int = Field(default=0, ge=0)  # 0 = no cap
    response_timeout_s: float = Field(default=20.0, gt=0)  # wait for need / stored answers
    backoff_initial_s: float = Field(default=1.0, gt=0)
    backoff_max_s: float = Field(default=300.0, gt=0)
    backoff_jitter: float = Field(default=0.5, ge=0, le=1)
    idle_poll_s: float = Field(default=2.0, gt=0)
    telemetry_interval_s: float = Field(default=60.0, gt=0)
    retention_days: int = Field(default=30, ge=0)  # local copies kept this long after the ack
    reuse_timeout_s: float = Field(default=8.0, gt=0, le=120)  # wait this long for a reuse look-up answer
    reuse_cache_max_age_h: float = Field(default=72.0, gt=0, le=24 * 365,
                                         description="how long the province's reuse answers are offered offline")
