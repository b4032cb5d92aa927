"""DevicesConfig: drivers chosen by ``type``, unknown keys refused, sensible defaults."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from firmware.config import (
    DevicesConfig,
    FilesCameraConfig,
    OpenCVCameraConfig,
    Picamera2CameraConfig,
    SaneScannerConfig,
)


def test_defaults_are_simulated() -> None:
    cfg = DevicesConfig()
    assert isinstance(cfg.camera, FilesCameraConfig)
    assert cfg.scanner is None and cfg.panel is None and cfg.qr_reader is None and cfg.printer is None


@pytest.mark.parametrize(("data", "cls"), [
    ({"type": "files", "folder": "/srv/pages"}, FilesCameraConfig),
    ({"type": "opencv", "source": 0}, OpenCVCameraConfig),
    ({"type": "opencv", "source": "/tmp/doc.avi"}, OpenCVCameraConfig),
    ({"type": "picamera2", "width": 2028, "height": 1520}, Picamera2CameraConfig),
])
def test_camera_type_picks_the_model(data: dict[str, object], cls: type) -> None:
    assert isinstance(DevicesConfig.model_validate({"camera": data}).camera, cls)


def test_scanner_options_and_unknown_keys() -> None:
    cfg = DevicesConfig.model_validate({"scanner": {"type": "sane", "options": {"test-picture": "Grid"}}})
    assert isinstance(cfg.scanner, SaneScannerConfig) and cfg.scanner.options == {"test-picture": "Grid"}
    with pytest.raises(ValidationError, match="Extra inputs"):
        DevicesConfig.model_validate({"camera": {"type": "files", "folderr": "/x"}})
    with pytest.raises(ValidationError, match="does not match any of the expected tags"):
        DevicesConfig.model_validate({"camera": {"type": "kinect"}})
    with pytest.raises(ValidationError):
        DevicesConfig.model_validate({"panel": {"capture_button": 99}})
    with pytest.raises(ValidationError):
        DevicesConfig.model_validate({"qr_reader": {"type": "serial", "max_line_bytes": 1}})
