"""Configuration of the extract stage."""

from __future__ import annotations

from service.configbase import StrictModel


class ExtractConfig(StrictModel):
    """Settings for extract (embedded defaults work out of the box)."""
