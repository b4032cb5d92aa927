"""A stand-in for the ``picamera2`` package (which only loads on a Raspberry Pi).

Same surface the driver uses: ``Picamera2()``, ``create_still_configuration``, ``configure``,
``start``, ``capture_array(stream)``, ``stop``, ``close``, ``camera_controls``, ``set_controls``,
``autofocus_cycle`` (a Camera Module 3 with autofocus; ``has_af = False`` plays a module without).
``main`` frames are RGB888 as picamera2
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
    has_af = True
    controls_set: list[dict[str, Any]] = []
    focus_cycles = 0

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

    @property
    def camera_controls(self) -> dict[str, Any]:
        base: dict[str, Any] = {"ExposureTime": (0, 1000000, 0)}
        if Picamera2.has_af:
            base.update({"AfMode": (0, 2, 0), "LensPosition": (0.0, 32.0, 1.0)})
        return base

    def set_controls(self, controls: dict[str, Any]) -> None:
        unknown = set(controls) - set(self.camera_controls)
        if unknown:
            raise RuntimeError(f"Control {sorted(unknown)[0]} is not advertised by libcamera")
        Picamera2.controls_set.append(dict(controls))

    def autofocus_cycle(self) -> bool:
        Picamera2.focus_cycles += 1
        return True

    def stop(self) -> None:
        self.started = False
        self._hang.set()

    def close(self) -> None:
        Picamera2.opened -= 1
