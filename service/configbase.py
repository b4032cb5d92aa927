"""Base class of every configuration model: strict, frozen, unknown keys refused."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class StrictModel(BaseModel):
    """A pydantic model with ``extra="forbid"`` so typos in config are errors."""

    model_config = ConfigDict(extra="forbid", frozen=True)
