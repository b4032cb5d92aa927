"""``reports:`` config section: local day boundaries and what the three 766 ratios count.

The indicator definitions of Quyết định 766/QĐ-TTg are unconfirmed (``docs/REGULATION.md`` §15):
they are settings here, with the reading we use as the default, not literals in the code.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from service.configbase import StrictModel
from service.domain.reports import RatioRules

Settled = Literal["result_ready", "returned", "refused", "withdrawn"]


def _default_settled() -> list[Settled]:
    return ["result_ready", "refused"]


class RatioConfig(StrictModel):
    """What the ratios count (see ``docs/REGULATION.md`` §15, all [U])."""

    #: Share of received dossiers with all components digitized: only the procedure's required
    #: components must be present (False: every component of the procedure).
    required_components_only: bool = True
    #: A paper reused from the store counts as a digitized component of the dossier.
    reuse_counts_as_component: bool = True
    #: Share of results digitized: the statuses that make a dossier "settled" (the denominator);
    #: the numerator is the settled dossiers that hold a digitized result.
    settled_statuses: list[Settled] = Field(default_factory=_default_settled, min_length=1)

    def rules(self) -> RatioRules:
        """The pure rules :mod:`service.domain.reports` applies."""
        return RatioRules(self.reuse_counts_as_component, tuple(dict.fromkeys(self.settled_statuses)))


class ReportsConfig(StrictModel):
    """Monthly report settings."""

    #: Offset of local time from UTC, in minutes, for day and month boundaries (Việt Nam: +07:00, no DST).
    utc_offset_minutes: int = Field(default=420, ge=-720, le=840)
    #: Time limits (``return_days`` of the catalogue) count working days (Saturday and Sunday skipped).
    working_days: bool = True
    #: The longest ``sohoa report range``, in days.
    max_range_days: int = Field(default=366, ge=1, le=3660)
    ratios: RatioConfig = RatioConfig()
