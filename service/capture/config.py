"""Configuration of the capture stage."""

from __future__ import annotations

from service.configbase import StrictModel


class CaptureConfig(StrictModel):
    """Settings for capture (embedded defaults work out of the box)."""
