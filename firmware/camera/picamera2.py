"""Raspberry Pi camera module through picamera2 (imported lazily: it only loads on the Pi)."""

from __future__ import annotations

import importlib
from typing import Any

import cv2
import numpy as np

from firmware.camera.base import CapturedFrame, downscale
from firmware.config import Picamera2CameraConfig
from firmware.errors import DeviceIOFault, DeviceMissing
from firmware.timeouts import call_with_timeout

#: libcamera ``AfMode`` values per ``devices.camera.autofocus``.
AF_MODES = {"manual": 0, "auto": 1, "continuous": 2}


def load_picamera2() -> Any:
    """The ``picamera2.Picamera2`` class, or DeviceMissing when the library cannot load here."""
    try:
        module = importlib.import_module("picamera2")
    except Exception as exc:  # noqa: BLE001 - ImportError, or libcamera failing to load off the Pi
        raise DeviceMissing("camera", f"picamera2 is not available ({type(exc).__name__}: {exc})",
                            remedy="on the Pi install python3-picamera2 (apt) and use a venv made with "
                                   "--system-site-packages; elsewhere use devices.camera.type opencv or files") from exc
    return module.Picamera2


class Picamera2Camera:
    """Stills from ``capture_array('main')``; previews from the low-resolution stream."""

    def __init__(self, config: Picamera2CameraConfig) -> None:
        """Configure; the library is imported only by :meth:`open`."""
        self.config = config
        self.name = "camera(picamera2)"
        self._cam: Any = None

    def open(self) -> None:
        """Start the camera with a still configuration plus a small YUV preview stream."""
        if self._cam is not None:
            return
        cls = load_picamera2()

        def start() -> Any:
            cam = cls()
            cfg = cam.create_still_configuration(
                main={"size": (self.config.width, self.config.height), "format": "RGB888"},
                lores={"size": (self.config.preview_width, self.config.preview_height), "format": "YUV420"})
            cam.configure(cfg)
            cam.start()
            self._focus(cam)
            return cam

        try:
            self._cam = call_with_timeout(start, self.config.timeout_s, "camera", "starting picamera2")
        except (RuntimeError, IndexError, OSError) as exc:
            raise DeviceMissing("camera", f"no Pi camera found ({exc})",
                                remedy="check the ribbon cable and that the camera is enabled") from exc

    def _focus(self, cam: Any) -> None:
        """Set the autofocus mode explicitly (the default differs between camera modules).

        libcamera's AfMode: 0 manual, 1 auto (a cycle on request), 2 continuous. A module without
        autofocus (v1, v2, HQ) has no ``AfMode`` control and is left as it is.
        """
        if "AfMode" not in getattr(cam, "camera_controls", {}):
            return
        mode = AF_MODES[self.config.autofocus]
        controls: dict[str, Any] = {"AfMode": mode}
        if mode == 0 and self.config.lens_position is not None:
            controls["LensPosition"] = self.config.lens_position
        cam.set_controls(controls)

    def close(self) -> None:
        """Stop and release the camera."""
        if self._cam is not None:
            try:
                self._cam.stop()
                self._cam.close()
            finally:
                self._cam = None

    def _array(self, stream: str) -> np.ndarray:
        if self._cam is None:
            self.open()
        cam = self._cam
        try:
            arr = call_with_timeout(lambda: cam.capture_array(stream), self.config.timeout_s,
                                    "camera", f"capturing the {stream} stream")
        except RuntimeError as exc:
            raise DeviceIOFault("camera", f"capture failed ({exc})", remedy="restart the service") from exc
        return np.asarray(arr)

    def capture(self) -> CapturedFrame:
        """One full-resolution still (picamera2's RGB888 is BGR in memory: flip to RGB).

        In ``auto`` focus mode a focus cycle runs first (bounded by ``timeout_s``).
        """
        if self.config.autofocus == "auto":
            if self._cam is None:
                self.open()
            cam = self._cam
            if "AfMode" in getattr(cam, "camera_controls", {}):
                call_with_timeout(cam.autofocus_cycle, self.config.timeout_s, "camera", "focusing")
        bgr = self._array("main")
        return CapturedFrame(dpi=self.config.dpi, dpi_declared=False, source=self.name,
                             image=np.ascontiguousarray(bgr[:, :, 2::-1]))

    def preview_frame(self) -> np.ndarray:
        """The low-resolution stream converted from YUV420 to RGB."""
        yuv = self._array("lores")
        return downscale(cv2.cvtColor(yuv, cv2.COLOR_YUV420p2RGB))

    def self_check(self) -> str:
        """Start the camera and grab one preview frame."""
        h, w = self.preview_frame().shape[:2]
        return f"Pi camera running, preview {w}x{h}"
