"""Scanners: one :class:`Scanner` protocol, drivers picked by ``devices.scanner.type``.

May import: the standard library, SANE and ``firmware`` only.
"""

from __future__ import annotations

from pathlib import Path

from firmware.config import FilesScannerConfig, ScannerConfig
from firmware.scanner.base import ScannedPage, Scanner, Side
from firmware.scanner.files import FilesScanner
from firmware.scanner.sane_backend import SaneScanner, map_sane_error

__all__ = ["FilesScanner", "SaneScanner", "ScannedPage", "Scanner", "Side", "map_sane_error", "open_scanner"]


def open_scanner(config: ScannerConfig, *, sample_folder: Path | None = None) -> Scanner:
    """A driver for ``config`` (opened lazily by its first scan)."""
    if isinstance(config, FilesScannerConfig):
        return FilesScanner(config, folder=config.folder or sample_folder)
    return SaneScanner(config)
