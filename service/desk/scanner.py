"""The document scanner as the kiosk sees it: one feeder batch (ADF, simplex or duplex) as page images.

Wraps the ``firmware`` scanner driver chosen by ``devices.scanner`` (the SANE driver on the box;
the simulated ``files`` scanner reads a folder). Raw scanner pixels are encoded once as colour
JPEG quality 90 with their dpi (:func:`service.capture.encoding.array_jpeg`). A fault in the
middle of a batch keeps the pages scanned before it: :meth:`DeskScanner.scan` returns them with
the fault, whose ``kind`` (the driver fault code: jam, feeder-empty, cover-open ...) the kiosk words in Vietnamese.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path

from firmware.config import FilesScannerConfig, ScannerConfig
from firmware.errors import DeviceFault
from firmware.scanner import open_scanner
from service.capture.encoding import array_jpeg
from service.desk.camera import ensure_sample_pages
from service.errors import DeviceError


class ScannerFault(DeviceError):
    """A scanner fault; ``kind`` is the driver fault's code (``jam``, ``feeder-empty``, ``cover-open``,
    ``busy``, ``missing``, ``timeout``, ``io-error`` ...) or ``absent`` when no scanner is configured."""

    def __init__(self, kind: str, message: str, *, remedy: str | None = None) -> None:
        """``kind`` selects the Vietnamese message and remedy the kiosk shows."""
        super().__init__(message, remedy=remedy)
        self.kind = kind


@dataclass(frozen=True, slots=True)
class ScannedImage:
    """One scanned side as stored bytes, with its sheet number and side."""

    data: bytes = field(repr=False)
    sheet: int
    side: str


@dataclass(frozen=True, slots=True)
class ScanBatch:
    """What one press of "Quét" gave: the pages in feed order and the fault that stopped it, if any."""

    pages: tuple[ScannedImage, ...]
    fault: ScannerFault | None = None


class DeskScanner:
    """The one document scanner of the desk (None config = no scanner fitted)."""

    def __init__(self, config: ScannerConfig | None, sample_folder: Path | None = None) -> None:
        """``config`` is ``devices.scanner``; ``sample_folder`` feeds a ``files`` scanner without a folder."""
        self._config = config
        self._sample_folder = sample_folder
        self._lock = threading.Lock()

    @property
    def fitted(self) -> bool:
        """Whether a scanner is configured."""
        return self._config is not None

    @property
    def simulated(self) -> bool:
        """Whether the scanner is the simulated ``files`` driver."""
        return isinstance(self._config, FilesScannerConfig)

    def scan(self, *, duplex: bool, dpi: int, color: bool = True) -> ScanBatch:
        """Feed every sheet in the feeder; a fault stops the batch and keeps what was scanned."""
        if self._config is None:
            raise ScannerFault("absent", "no scanner is configured", remedy="set devices.scanner in config.yaml")
        if not self._lock.acquire(blocking=False):
            raise ScannerFault("busy", "another scan is running", remedy="wait for it to finish")
        pages: list[ScannedImage] = []
        try:
            samples = self._sample_folder
            if isinstance(self._config, FilesScannerConfig) and self._config.folder is None and samples is not None:
                samples = ensure_sample_pages(samples)
            driver = open_scanner(self._config, sample_folder=samples)
            try:
                for page in driver.scan_batch(duplex=duplex, dpi=dpi, color=color):
                    pages.append(ScannedImage(array_jpeg(page.image, dpi=page.dpi), page.sheet, page.side))
            except DeviceFault as exc:
                fault = ScannerFault(exc.code, exc.message, remedy=exc.remedy)
                fault.__cause__ = exc
                return ScanBatch(tuple(pages), fault)
            finally:
                driver.close()
        finally:
            self._lock.release()
        return ScanBatch(tuple(pages))
