"""Device configuration: each device picks its driver by a ``type`` key."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class DevicesConfig(BaseModel):
    """Settings for the box's devices (simulated defaults)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
