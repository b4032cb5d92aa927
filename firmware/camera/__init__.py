"""Cameras: one :class:`Camera` protocol, drivers picked by ``devices.camera.type``.

May import: the standard library, camera libraries and ``firmware`` only.
"""

from __future__ import annotations

from pathlib import Path

from firmware.camera.base import Camera, CapturedFrame, downscale
from firmware.camera.files import FilesCamera
from firmware.camera.opencv import OpenCVCamera
from firmware.camera.picamera2 import Picamera2Camera
from firmware.config import CameraConfig, FilesCameraConfig, OpenCVCameraConfig

__all__ = ["Camera", "CapturedFrame", "FilesCamera", "OpenCVCamera", "Picamera2Camera", "downscale",
           "open_camera"]


def open_camera(config: CameraConfig, *, sample_folder: Path | None = None) -> Camera:
    """A driver for ``config`` (not yet opened).

    ``sample_folder`` is used by the ``files`` driver when its config names no folder (the
    service passes its bundled sample pages).
    """
    if isinstance(config, FilesCameraConfig):
        return FilesCamera(config, folder=config.folder or sample_folder)
    if isinstance(config, OpenCVCameraConfig):
        return OpenCVCamera(config)
    return Picamera2Camera(config)
