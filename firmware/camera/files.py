"""Simulated camera: returns the image files of a folder in name order, looping."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
from PIL import Image

from firmware.camera.base import CapturedFrame, downscale
from firmware.config import FilesCameraConfig
from firmware.errors import BadDeviceInput, DeviceFault, DeviceMissing

IMAGE_SUFFIXES = {".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg",
                  ".tif": "image/tiff", ".tiff": "image/tiff"}
MAX_FILE_BYTES = 100 * 1024 * 1024


def list_images(folder: Path) -> list[Path]:
    """The image files of ``folder`` sorted by name (PNG, JPEG, TIFF)."""
    return sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)


class FilesCamera:
    """A camera whose 'shots' are image files; used by ``make run``, the kiosk demo and tests."""

    def __init__(self, config: FilesCameraConfig, folder: Path | None = None) -> None:
        """``folder`` overrides ``config.folder`` (the service passes its sample pages)."""
        self.config = config
        self.folder = folder if folder is not None else config.folder
        self.name = f"camera(files:{self.folder})"
        self._files: list[Path] | None = None
        self._index = 0

    def open(self) -> None:
        """Scan the folder; raises DeviceMissing when it is absent or has no images."""
        if self.folder is None:
            raise DeviceMissing("camera", "the files camera has no folder configured",
                                remedy="set devices.camera.folder to a folder of page images")
        if not self.folder.is_dir():
            raise DeviceMissing("camera", f"image folder {self.folder} does not exist",
                                remedy="create the folder or fix devices.camera.folder")
        files = list_images(self.folder)
        if not files:
            raise DeviceMissing("camera", f"image folder {self.folder} holds no PNG/JPEG/TIFF files",
                                remedy="put page images in the folder")
        self._files = files
        self._index = 0

    def close(self) -> None:
        """Forget the file list."""
        self._files = None

    def _peek_path(self) -> Path:
        """The file the next capture will return (the preview shows the same one)."""
        if self._files is None:
            self.open()
        assert self._files is not None
        if self._index >= len(self._files):
            if not self.config.loop:
                raise DeviceMissing("camera", "no more images in the folder",
                                    remedy="add images or enable devices.camera.loop")
            self._index = 0
        return self._files[self._index]

    def capture(self) -> CapturedFrame:
        """The next file, as its original bytes (no re-encoding), with its declared dpi if any.

        A bad file is reported once and skipped, like a failed shot.
        """
        path = self._peek_path()
        self._index += 1
        return self._load(path)

    def _load(self, path: Path) -> CapturedFrame:
        """Read and check one image file."""
        try:
            if path.stat().st_size > MAX_FILE_BYTES:
                raise BadDeviceInput("camera", f"{path.name} is larger than {MAX_FILE_BYTES} bytes",
                                     remedy="use smaller page images")
            data = path.read_bytes()
            with Image.open(io.BytesIO(data)) as img:
                img.verify()
            with Image.open(io.BytesIO(data)) as img:
                dpi_info = img.info.get("dpi")
        except FileNotFoundError as exc:
            raise DeviceMissing("camera", f"{path.name} disappeared", remedy="reopen the camera") from exc
        except DeviceFault:
            raise
        except (OSError, SyntaxError, Image.DecompressionBombError) as exc:
            raise BadDeviceInput("camera", f"{path.name} is not a readable image ({exc})",
                                 remedy="remove or replace the file") from exc
        declared = dpi_info is not None and float(dpi_info[0]) > 1
        dpi = float(dpi_info[0]) if dpi_info is not None and declared else self.config.dpi
        return CapturedFrame(dpi=dpi, dpi_declared=declared, source=path.name, encoded=data,
                             media_type=IMAGE_SUFFIXES[path.suffix.lower()])

    def preview_frame(self) -> np.ndarray:
        """A downscaled copy of the image the next capture will return."""
        return downscale(self._load(self._peek_path()).to_rgb())

    def self_check(self) -> str:
        """Open the folder and describe it."""
        self.open()
        assert self._files is not None
        return f"{len(self._files)} image(s) in {self.folder}"
