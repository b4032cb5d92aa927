"""Configuration of the store stage."""

from __future__ import annotations

from service.configbase import StrictModel


class StoreConfig(StrictModel):
    """Settings for store (embedded defaults work out of the box)."""
