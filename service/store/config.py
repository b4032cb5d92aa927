"""Configuration of the store."""

from __future__ import annotations

from pydantic import Field

from service.configbase import StrictModel


class StoreConfig(StrictModel):
    """Settings for the store (embedded defaults work out of the box)."""

    busy_timeout_ms: int = Field(default=15_000, ge=100, le=600_000,
                                 description="how long a writer waits for another writer's lock")
    max_code_suffix: int = Field(default=999, ge=1, le=99_999,
                                 description="highest suffix tried to make a result code unique")
