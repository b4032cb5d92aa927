"""The desk camera as the kiosk sees it: a live preview JPEG, a still capture, a self-check.

Wraps the ``firmware`` camera driver chosen by ``devices.camera``; the simulated ``files`` driver
reads a folder of page images (by default sample pages rendered once by the project's own
document renderer into ``SOHOA_HOME/kiosk/camera-samples``). One lock serialises the device.
"""

from __future__ import annotations

import io
import threading
from pathlib import Path

import numpy as np
from PIL import Image

from firmware.camera import Camera, open_camera
from firmware.config import CameraConfig, FilesCameraConfig
from firmware.errors import BadDeviceInput, DeviceFault
from service.capture.encoding import camera_jpeg
from service.errors import DeviceError, InputError

SAMPLE_DOCS = ("gxn-cu-tru-0001", "gxn-hon-nhan-0002", "qd-1456-nam-dinh", "qd-2083-bac-lieu")
SAMPLE_DPI = 200


def ensure_sample_pages(folder: Path) -> Path:
    """Render the sample documents into ``folder`` once (PNG at 200 dpi); returns the folder."""
    from service.synth.render import render_document
    from service.synth.samples import sample_document

    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    if any(folder.glob("*.png")):
        return folder
    n = 0
    for doc_id in SAMPLE_DOCS:
        for page in render_document(sample_document(doc_id), dpi=SAMPLE_DPI):
            n += 1
            tmp = folder / f".{n:03d}.tmp"
            page.image.convert("RGB").save(tmp, format="PNG", dpi=(SAMPLE_DPI, SAMPLE_DPI))
            tmp.rename(folder / f"{n:03d}-{doc_id}.png")
    return folder


class DeskCamera:
    """Thread-safe access to the one camera; device faults become :class:`DeviceError`."""

    def __init__(self, config: CameraConfig | None, sample_folder: Path) -> None:
        """``config`` is ``devices.camera`` (None = no camera); ``sample_folder`` feeds ``files``."""
        self._config = config
        self._sample_folder = sample_folder
        self._lock = threading.Lock()
        self._camera: Camera | None = None
        # The simulated camera shows the same still until the next capture: keep its preview.
        self._still = isinstance(config, FilesCameraConfig)
        self._preview: bytes | None = None

    def _cam(self) -> Camera:
        if self._config is None:
            raise DeviceError("no camera is configured", remedy="set devices.camera in config.yaml")
        if self._camera is None:
            folder = None
            if isinstance(self._config, FilesCameraConfig) and self._config.folder is None:
                folder = ensure_sample_pages(self._sample_folder)
            cam = open_camera(self._config, sample_folder=folder)
            cam.open()
            self._camera = cam
        return self._camera

    def _fault(self, exc: DeviceFault) -> DeviceError:
        """Map a device fault; the device is released unless only the frame was bad."""
        self._preview = None
        if self._camera is not None and not isinstance(exc, BadDeviceInput):
            self._camera.close()
            self._camera = None
        return DeviceError(exc.message, remedy=exc.remedy or "check the camera cable and try again")

    def preview_jpeg(self, quality: int = 70) -> bytes:
        """A small JPEG of what the camera sees now (long side at most 640 px)."""
        with self._lock:
            if self._still and self._preview is not None:
                return self._preview
            try:
                rgb = self._cam().preview_frame()
            except DeviceFault as exc:
                raise self._fault(exc) from exc
            buf = io.BytesIO()
            Image.fromarray(rgb).save(buf, format="JPEG", quality=quality)
            self._preview = buf.getvalue()
            return self._preview

    @property
    def simulated(self) -> bool:
        """Whether this is the simulated ``files`` camera (the screen says so instead of "live")."""
        return isinstance(self._config, FilesCameraConfig)

    @property
    def capture_dpi(self) -> float:
        """The configured effective resolution of a still at the document plane (0 without a camera)."""
        return float(self._config.dpi) if self._config is not None else 0.0

    def preview_rgb(self) -> np.ndarray:
        """The current preview frame as an RGB array (long side at most 640 px) for live quality control."""
        with self._lock:
            try:
                if self._still and self._preview is not None:
                    with Image.open(io.BytesIO(self._preview)) as img:
                        return np.asarray(img.convert("RGB"))
                return self._cam().preview_frame()
            except DeviceFault as exc:
                raise self._fault(exc) from exc

    def capture(self) -> bytes:
        """One full-resolution still as stored: colour JPEG quality 90 (a device JPEG is kept as it is)."""
        with self._lock:
            self._preview = None
            try:
                frame = self._cam().capture()
                data, _media = frame.to_encoded()
            except DeviceFault as exc:
                raise self._fault(exc) from exc
        try:
            return camera_jpeg(data, dpi=frame.dpi)[0]
        except InputError:
            return data  # undecodable: the capture rules refuse it with their own message

    def self_check(self) -> str:
        """Describe the camera's state (raises :class:`DeviceError` when it fails)."""
        with self._lock:
            try:
                return self._cam().self_check()
            except DeviceFault as exc:
                raise self._fault(exc) from exc

    def sample_folder(self) -> Path | None:
        """The folder the simulated camera reads when its config names none (rendered on demand)."""
        if isinstance(self._config, FilesCameraConfig) and self._config.folder is None:
            return ensure_sample_pages(self._sample_folder)
        return None

    def close(self) -> None:
        """Release the device."""
        with self._lock:
            if self._camera is not None:
                self._camera.close()
                self._camera = None


def running_driver(camera: DeskCamera) -> Camera | None:
    """The open driver inside ``camera`` (so a health check reuses it), or None."""
    return camera._camera
