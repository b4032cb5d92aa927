"""USB document camera through OpenCV (V4L2 index) or a video file path."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from firmware.camera.base import CapturedFrame, downscale
from firmware.config import OpenCVCameraConfig
from firmware.errors import DeviceIOFault, DeviceMissing
from firmware.timeouts import call_with_timeout


class OpenCVCamera:
    """A camera read through ``cv2.VideoCapture``; every read is bounded by ``timeout_s``."""

    def __init__(self, config: OpenCVCameraConfig) -> None:
        """Configure; nothing is opened until :meth:`open`."""
        self.config = config
        self.name = f"camera(opencv:{config.source})"
        self._cap: cv2.VideoCapture | None = None
        self._is_file = isinstance(config.source, str)

    def open(self) -> None:
        """Open the V4L2 device or video file; raises DeviceMissing if it cannot be opened."""
        if self._cap is not None:
            return
        src = self.config.source
        if isinstance(src, str) and not Path(src).exists():
            raise DeviceMissing("camera", f"video source {src} does not exist",
                                remedy="plug in the camera or fix devices.camera.source")

        def do_open() -> cv2.VideoCapture:
            if isinstance(src, int):
                return cv2.VideoCapture(src, cv2.CAP_V4L2)
            return cv2.VideoCapture(src)

        cap = call_with_timeout(do_open, self.config.timeout_s, "camera", "opening")
        if not cap.isOpened():
            cap.release()
            where = f"/dev/video{src}" if isinstance(src, int) else src
            raise DeviceMissing("camera", f"cannot open {where}",
                                remedy="check that the camera is plugged in and not used by another program")
        if self.config.width:
            cap.set(cv2.CAP_PROP_FRAME_WIDTH, self.config.width)
        if self.config.height:
            cap.set(cv2.CAP_PROP_FRAME_HEIGHT, self.config.height)
        self._cap = cap

    def close(self) -> None:
        """Release the capture; safe to call twice."""
        if self._cap is not None:
            self._cap.release()
            self._cap = None

    def _read(self) -> np.ndarray:
        """One BGR frame converted to RGB, within the timeout."""
        if self._cap is None:
            self.open()
        cap = self._cap
        assert cap is not None

        def grab() -> tuple[bool, np.ndarray | None]:
            ok, frame = cap.read()
            if not ok and self._is_file and self.config.loop:
                cap.set(cv2.CAP_PROP_POS_FRAMES, 0)
                ok, frame = cap.read()
            return ok, frame

        ok, frame = call_with_timeout(grab, self.config.timeout_s, "camera", "reading a frame")
        if not ok or frame is None:
            if self._is_file:
                raise DeviceMissing("camera", "the video file has no more frames",
                                    remedy="enable devices.camera.loop or use a longer video")
            raise DeviceIOFault("camera", "the camera returned no frame",
                                remedy="replug the camera; check /dev/video* permissions")
        if frame.ndim == 2:
            frame = cv2.cvtColor(frame, cv2.COLOR_GRAY2BGR)
        return np.ascontiguousarray(frame[:, :, ::-1])

    def capture(self) -> CapturedFrame:
        """One full-resolution frame as RGB, with the configured dpi."""
        return CapturedFrame(dpi=self.config.dpi, dpi_declared=False, source=self.name, image=self._read())

    def preview_frame(self) -> np.ndarray:
        """A downscaled frame for the live preview."""
        return downscale(self._read())

    def self_check(self) -> str:
        """Open and read one frame."""
        self.open()
        h, w = self._read().shape[:2]
        return f"{w}x{h} frames from {self.config.source}"
