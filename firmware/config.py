"""Device configuration: each device picks its driver by a ``type`` key.

Every model is strict (unknown keys are errors) and frozen. A device left out (``None``) is
simply not present on this box; the camera defaults to the simulated ``files`` driver so the
embedded defaults work on a developer machine.
"""

from __future__ import annotations

import urllib.parse
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field


class _Strict(BaseModel):
    """Strict, frozen base (``firmware`` does not import ``service.configbase``)."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class FilesCameraConfig(_Strict):
    """Simulated camera: returns the image files of ``folder`` in name order, looping."""

    type: Literal["files"] = "files"
    folder: Path | None = Field(default=None, description="image folder; None = the service's sample pages")
    loop: bool = True
    dpi: float = Field(default=300.0, gt=0, description="used when a file declares no resolution")


class OpenCVCameraConfig(_Strict):
    """USB document camera through OpenCV/V4L2, or a video file (tests, replays)."""

    type: Literal["opencv"] = "opencv"
    source: int | str = Field(default=0, description="V4L2 index (0 = /dev/video0) or a video file path")
    width: int | None = Field(default=None, gt=0)
    height: int | None = Field(default=None, gt=0)
    dpi: float = Field(default=300.0, gt=0, description="effective resolution at the document plane")
    timeout_s: float = Field(default=5.0, gt=0, le=60)
    loop: bool = Field(default=False, description="rewind a video file at its end")


class Picamera2CameraConfig(_Strict):
    """Raspberry Pi camera module through picamera2 (only importable on the Pi)."""

    type: Literal["picamera2"] = "picamera2"
    width: int = Field(default=4056, gt=0)
    height: int = Field(default=3040, gt=0)
    preview_width: int = Field(default=640, gt=0)
    preview_height: int = Field(default=480, gt=0)
    dpi: float = Field(default=300.0, gt=0)
    timeout_s: float = Field(default=5.0, gt=0, le=60)
    autofocus: Literal["continuous", "auto", "manual"] = Field(
        default="continuous", description="AfMode set at start: continuous, auto (one focus cycle per still) "
                                          "or manual (lens_position)")
    lens_position: float | None = Field(default=None, ge=0, le=32,
                                        description="manual focus in dioptres (1/m); a page at 30 cm is 3.3")


CameraConfig = Annotated[
    FilesCameraConfig | OpenCVCameraConfig | Picamera2CameraConfig, Field(discriminator="type")
]


class SaneScannerConfig(_Strict):
    """A SANE scanner (ADF, optional duplex) through python-sane."""

    type: Literal["sane"] = "sane"
    device: str | None = Field(default=None, description="SANE device name; None = the first one found")
    adf_source: str | None = Field(default=None, description="source for simplex ADF; None = auto-detect")
    duplex_source: str | None = Field(default=None, description="source for duplex ADF; None = auto-detect")
    timeout_s: float = Field(default=30.0, gt=0, le=600, description="longest wait for one page")
    max_pages: int = Field(default=500, gt=0)
    options: dict[str, str | int | float | bool] = Field(
        default_factory=dict, description="extra SANE options set before scanning (name: value)")


class FilesScannerConfig(_Strict):
    """Simulated scanner: a folder of page images (duplex takes them as front, back, front ...)."""

    type: Literal["files"] = "files"
    folder: Path | None = None
    dpi: float = Field(default=300.0, gt=0)


ScannerConfig = Annotated[SaneScannerConfig | FilesScannerConfig, Field(discriminator="type")]


class PanelConfig(_Strict):
    """GPIO panel: BCM pin numbers (None = not fitted)."""

    capture_button: int | None = Field(default=17, ge=0, le=53)
    next_button: int | None = Field(default=27, ge=0, le=53)
    foot_pedal: int | None = Field(default=22, ge=0, le=53)
    led_ready: int | None = Field(default=5, ge=0, le=53)
    led_busy: int | None = Field(default=6, ge=0, le=53)
    led_error: int | None = Field(default=13, ge=0, le=53)
    led_card: int | None = Field(default=26, ge=0, le=53, description="lit while the officer's card is in")
    buzzer: int | None = Field(default=19, ge=0, le=53)
    bounce_time_s: float = Field(default=0.05, ge=0, le=1)
    pin_factory: Literal["default", "mock"] = "default"


class SerialQrReaderConfig(_Strict):
    """A QR/barcode reader in serial (or USB-CDC) mode: one code per line."""

    type: Literal["serial"] = "serial"
    port: str = "/dev/ttyACM0"
    baudrate: int = Field(default=9600, gt=0)
    timeout_s: float = Field(default=1.0, gt=0, le=60)
    max_line_bytes: int = Field(default=1024, ge=16, le=65536)


class EscposSerialPrinterConfig(_Strict):
    """An ESC/POS receipt printer on a serial port."""

    type: Literal["escpos-serial"] = "escpos-serial"
    port: str = "/dev/ttyUSB0"
    baudrate: int = Field(default=19200, gt=0)
    timeout_s: float = Field(default=2.0, gt=0, le=60, description="longest wait for a status answer")
    write_timeout_s: float = Field(default=15.0, gt=0, le=300, description="longest wait to hand over a receipt")
    qr_size: int = Field(default=6, ge=1, le=16)
    paper_mm: Literal[58, 80] = Field(default=80, description="roll width: 80 mm = 576 dots, 58 mm = 384 dots")


class DevicesConfig(_Strict):
    """Settings for the box's devices (simulated defaults)."""

    camera: CameraConfig | None = FilesCameraConfig()
    scanner: ScannerConfig | None = None
    panel: PanelConfig | None = None
    qr_reader: SerialQrReaderConfig | None = None
    printer: EscposSerialPrinterConfig | None = None


@dataclass(frozen=True, slots=True)
class Pkcs11Uri:
    """The parts of an RFC 7512 ``pkcs11:`` URI that select a token and an object."""

    token: str | None = None
    serial: str | None = None
    object_label: str | None = None
    object_id: bytes | None = None
    module_path: str | None = None


def parse_pkcs11_uri(uri: str) -> Pkcs11Uri:
    """Parse ``pkcs11:token=...;serial=...;object=...;id=%01?module-path=...`` (RFC 7512)."""
    if not uri.startswith("pkcs11:"):
        raise ValueError("a PKCS#11 URI starts with 'pkcs11:'")
    path, _, query = uri[len("pkcs11:"):].partition("?")
    attrs: dict[str, str] = {}
    for part in filter(None, path.split(";")):
        key, sep, value = part.partition("=")
        if not sep:
            raise ValueError(f"PKCS#11 URI attribute {key!r} has no value")
        attrs[key] = value
    qattrs = dict(p.partition("=")[::2] for p in filter(None, query.split("&")))
    unknown = set(attrs) - {"token", "serial", "object", "id", "manufacturer", "model", "type", "slot-id"}
    if unknown:
        raise ValueError(f"unsupported PKCS#11 URI attributes: {', '.join(sorted(unknown))}")
    return Pkcs11Uri(
        token=urllib.parse.unquote(attrs["token"]) if "token" in attrs else None,
        serial=urllib.parse.unquote(attrs["serial"]) if "serial" in attrs else None,
        object_label=urllib.parse.unquote(attrs["object"]) if "object" in attrs else None,
        object_id=urllib.parse.unquote_to_bytes(attrs["id"]) if "id" in attrs else None,
        module_path=urllib.parse.unquote(qattrs["module-path"]) if "module-path" in qattrs else None,
    )
