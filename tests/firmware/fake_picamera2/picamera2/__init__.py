"""A stand-in for the ``picamera2`` package (which only loads on a Raspberry Pi).

Same surface the driver uses: ``Picamera2()``, ``create_still_configuration``, ``configure``,
``start``, ``capture_array(stream)``, ``stop``, ``close``. ``main`` frames are RGB888 as picamera2
delivers them (BGR byte order), ``lores`` frames are YUV420 (I420). ``Picamera2.mode`` selects a
behaviour: "ok", "no-camera" (like an unplugged ribbon), "hang" (capture never returns).
"""

from __future__ import annotations

import threading
from typing import Any

import numpy as np


class Picamera2:
    mode = "ok"
    opened = 0

    def __init__(self) -> None:
        if Picamera2.mode == "no-camera":
            raise IndexError("list index out of range")  # what picamera2 raises with no camera attached
        Picamera2.opened += 1
        self.config: dict[str, Any] = {}
        self.started = False
        self._hang = threading.Event()

    def create_still_configuration(self, main: dict[str, Any], lores: dict[str, Any]) -> dict[str, Any]:
        return {"main": main, "lores": lores}

    def configure(self, config: dict[str, Any]) -> None:
        self.config = config

    def start(self) -> None:
        self.started = True

    def capture_array(self, stream: str = "main") -> np.ndarray:
        if not self.started:
            raise RuntimeError("camera not started")
        if Picamera2.mode == "hang":
            self._hang.wait(30)
        w, h = self.config[stream]["size"]
        if stream == "main":
            frame = np.zeros((h, w, 3), np.uint8)
            frame[..., 0] = 255  # blue in BGR order
            return frame
        yuv = np.full((h * 3 // 2, w), 128, np.uint8)
        yuv[:h] = 200  # bright grey
        return yuv

    def stop(self) -> None:
        self.started = False
        self._hang.set()

    def close(self) -> None:
        Picamera2.opened -= 1
