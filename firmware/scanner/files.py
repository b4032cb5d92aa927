"""Simulated scanner: the images of a folder are the sheets in the feeder."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
from PIL import Image

from firmware.camera.files import list_images
from firmware.config import FilesScannerConfig
from firmware.errors import BadDeviceInput, DeviceMissing, FeederEmpty
from firmware.scanner.base import ScannedPage, side_of


class FilesScanner:
    """Each call to :meth:`scan_batch` 'feeds' every image of the folder in name order."""

    def __init__(self, config: FilesScannerConfig, folder: Path | None = None) -> None:
        """``folder`` overrides ``config.folder`` (the service passes its sample pages)."""
        self.config = config
        self.folder = folder if folder is not None else config.folder
        self.name = f"scanner(files:{self.folder})"

    def _files(self) -> list[Path]:
        if self.folder is None or not self.folder.is_dir():
            raise DeviceMissing("scanner", f"image folder {self.folder} does not exist",
                                remedy="set devices.scanner.folder to a folder of page images")
        return list_images(self.folder)

    def scan_batch(self, duplex: bool = False, dpi: int = 300, color: bool = True) -> Iterator[ScannedPage]:
        """Yield every image as a page (alternately front/back when duplex); empty folder = empty feeder."""
        files = self._files()
        if not files:
            raise FeederEmpty("scanner", "the document feeder is empty", remedy="put page images in the folder")
        for position, path in enumerate(files):
            try:
                with Image.open(path) as img:
                    info = img.info.get("dpi")
                    arr = np.asarray(img.convert("RGB" if color else "L"))
            except (OSError, SyntaxError, Image.DecompressionBombError) as exc:
                raise BadDeviceInput("scanner", f"{path.name} is not a readable image ({exc})",
                                     remedy="remove or replace the file") from exc
            sheet, side = side_of(position, duplex)
            page_dpi = float(info[0]) if info and float(info[0]) > 1 else self.config.dpi
            yield ScannedPage(index=position + 1, sheet=sheet, side=side, image=arr, dpi=page_dpi, color=color)

    def self_check(self) -> str:
        """Describe the folder."""
        return f"{len(self._files())} page image(s) in {self.folder}"

    def close(self) -> None:
        """Nothing to release."""
