"""The scanner interface every driver implements, and the page it yields."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Literal, Protocol, runtime_checkable

import numpy as np

Side = Literal["front", "back"]


@dataclass(frozen=True)
class ScannedPage:
    """One side of one sheet: ``index`` counts pages in the batch (1-based), ``sheet`` counts sheets."""

    index: int
    sheet: int
    side: Side
    image: np.ndarray
    dpi: float
    color: bool
    timestamp: float = field(default_factory=time.time)


@runtime_checkable
class Scanner(Protocol):
    """A document scanner with an automatic document feeder; calls never block without bound."""

    name: str

    def scan_batch(self, duplex: bool = False, dpi: int = 300, color: bool = True) -> Iterator[ScannedPage]:
        """Feed every sheet in the ADF, yielding pages in order (front then back when duplex).

        Raises a DeviceFault (ScannerJam, FeederEmpty, CoverOpen, DeviceTimeout, ...) and stops;
        pages already yielded stay valid.
        """
        ...

    def self_check(self) -> str:
        """Find and open the device, describe it (raises DeviceFault)."""
        ...

    def close(self) -> None:
        """Release the device; safe to call twice."""
        ...


def side_of(position: int, duplex: bool) -> tuple[int, Side]:
    """(sheet number, side) of the ``position``-th page (0-based) of a batch."""
    if not duplex:
        return position + 1, "front"
    return position // 2 + 1, ("front" if position % 2 == 0 else "back")
