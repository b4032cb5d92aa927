"""Configuration of the signing stage."""

from __future__ import annotations

from service.configbase import StrictModel


class SigningConfig(StrictModel):
    """Settings for signing (embedded defaults work out of the box)."""
