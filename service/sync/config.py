"""Configuration of the sync stage."""

from __future__ import annotations

from service.configbase import StrictModel


class SyncConfig(StrictModel):
    """Settings for sync (embedded defaults work out of the box)."""
