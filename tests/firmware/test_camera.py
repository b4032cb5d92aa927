"""Cameras: the files driver on real image files, OpenCV on a generated video, picamera2 absent here."""

from __future__ import annotations

import io
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image

from firmware.camera import Camera, CapturedFrame, FilesCamera, OpenCVCamera, Picamera2Camera, open_camera
from firmware.config import FilesCameraConfig, OpenCVCameraConfig, Picamera2CameraConfig
from firmware.errors import BadDeviceInput, DeviceMissing


def _pages(folder: Path, n: int = 3, dpi: int | None = 300) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(n):
        img = Image.new("RGB", (200 + i, 300), (i * 60, 100, 200))
        path = folder / f"page-{i:02d}.png"
        img.save(path, dpi=(dpi, dpi)) if dpi else img.save(path)
        paths.append(path)
    return paths


def _video(path: Path, frames: int = 5, size: tuple[int, int] = (320, 240)) -> Path:
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 10, size)
    assert writer.isOpened()
    for i in range(frames):
        frame = np.zeros((size[1], size[0], 3), np.uint8)
        frame[:, :, 2] = 200  # red in BGR
        frame[10:50, 10:50] = (0, 255, 0)
        cv2.putText(frame, str(i), (100, 120), cv2.FONT_HERSHEY_SIMPLEX, 2, (255, 255, 255), 3)
        writer.write(frame)
    writer.release()
    return path


def test_files_camera_returns_files_in_order_and_loops(tmp_path: Path) -> None:
    paths = _pages(tmp_path / "pages")
    cam = FilesCamera(FilesCameraConfig(folder=tmp_path / "pages"))
    assert isinstance(cam, Camera)
    cam.open()
    frames = [cam.capture() for _ in range(4)]
    assert [f.source for f in frames] == ["page-00.png", "page-01.png", "page-02.png", "page-00.png"]
    assert frames[0].encoded == paths[0].read_bytes()  # no re-encoding
    assert frames[0].media_type == "image/png"
    assert frames[1].to_rgb().shape == (300, 201, 3)
    assert frames[0].dpi == pytest.approx(300, abs=1) and frames[0].dpi_declared


def test_files_camera_preview_does_not_advance(tmp_path: Path) -> None:
    _pages(tmp_path / "p", n=2)
    cam = FilesCamera(FilesCameraConfig(folder=tmp_path / "p"))
    preview = cam.preview_frame()
    assert preview.shape[2] == 3 and max(preview.shape[:2]) <= 640
    assert cam.capture().source == "page-00.png"


def test_files_camera_without_declared_dpi_uses_config(tmp_path: Path) -> None:
    _pages(tmp_path / "p", n=1, dpi=None)
    frame = FilesCamera(FilesCameraConfig(folder=tmp_path / "p", dpi=250)).capture()
    assert frame.dpi == 250 and not frame.dpi_declared


def test_files_camera_no_loop_runs_out(tmp_path: Path) -> None:
    _pages(tmp_path / "p", n=1)
    cam = FilesCamera(FilesCameraConfig(folder=tmp_path / "p", loop=False))
    cam.capture()
    with pytest.raises(DeviceMissing, match="no more images"):
        cam.capture()


def test_files_camera_missing_or_empty_folder(tmp_path: Path) -> None:
    with pytest.raises(DeviceMissing, match="does not exist") as info:
        FilesCamera(FilesCameraConfig(folder=tmp_path / "nope")).open()
    assert info.value.remedy
    (tmp_path / "empty").mkdir()
    with pytest.raises(DeviceMissing, match="holds no"):
        FilesCamera(FilesCameraConfig(folder=tmp_path / "empty")).capture()
    with pytest.raises(DeviceMissing, match="no folder"):
        FilesCamera(FilesCameraConfig()).open()


def test_files_camera_corrupt_image_is_a_clear_fault(tmp_path: Path) -> None:
    folder = tmp_path / "p"
    _pages(folder, n=1)
    data = (folder / "page-00.png").read_bytes()
    (folder / "page-01.png").write_bytes(data[: len(data) // 2])
    (folder / "page-02.jpg").write_bytes(b"not an image at all")
    cam = FilesCamera(FilesCameraConfig(folder=folder))
    cam.capture()
    with pytest.raises(BadDeviceInput, match="page-01.png"):
        cam.capture()
    with pytest.raises(BadDeviceInput, match="page-02.jpg"):
        cam.capture()


def test_open_camera_uses_sample_folder_when_none_configured(tmp_path: Path) -> None:
    _pages(tmp_path / "samples", n=1)
    cam = open_camera(FilesCameraConfig(), sample_folder=tmp_path / "samples")
    assert "1 image" in cam.self_check()


def test_opencv_camera_reads_generated_video(tmp_path: Path) -> None:
    video = _video(tmp_path / "doc.avi")
    cam = open_camera(OpenCVCameraConfig(source=str(video), dpi=220))
    assert isinstance(cam, OpenCVCamera)
    frame = cam.capture()
    assert isinstance(frame, CapturedFrame)
    rgb = frame.to_rgb()
    assert rgb.shape == (240, 320, 3)
    red = rgb[200, 300]
    assert red[0] > 150 and red[2] < 80  # BGR was converted to RGB
    assert frame.dpi == 220 and not frame.dpi_declared
    encoded, media = frame.to_encoded()
    assert media == "image/jpeg" and encoded[:3] == b"\xff\xd8\xff"  # camera stills: colour JPEG q90
    with Image.open(io.BytesIO(encoded)) as still:
        assert still.mode == "RGB" and round(still.info["dpi"][0]) == 220
    assert cam.preview_frame().shape == (240, 320, 3)
    cam.close()
    cam.close()


def test_opencv_video_end_and_loop(tmp_path: Path) -> None:
    video = _video(tmp_path / "short.avi", frames=2)
    cam = OpenCVCamera(OpenCVCameraConfig(source=str(video)))
    cam.capture()
    cam.capture()
    with pytest.raises(DeviceMissing, match="no more frames"):
        cam.capture()
    looping = OpenCVCamera(OpenCVCameraConfig(source=str(video), loop=True))
    for _ in range(5):
        looping.capture()


def test_opencv_missing_sources(tmp_path: Path) -> None:
    with pytest.raises(DeviceMissing, match="does not exist"):
        OpenCVCamera(OpenCVCameraConfig(source=str(tmp_path / "none.avi"))).open()
    garbage = tmp_path / "garbage.avi"
    garbage.write_bytes(b"\x00" * 1000)
    with pytest.raises(DeviceMissing):
        OpenCVCamera(OpenCVCameraConfig(source=str(garbage), timeout_s=5)).capture()
    with pytest.raises(DeviceMissing, match="/dev/video7"):
        OpenCVCamera(OpenCVCameraConfig(source=7, timeout_s=5)).open()


def test_picamera2_absent_off_the_pi_is_device_missing() -> None:
    cam = open_camera(Picamera2CameraConfig())
    assert isinstance(cam, Picamera2Camera)
    with pytest.raises(DeviceMissing, match="picamera2") as info:
        cam.open()
    assert "python3-picamera2" in (info.value.remedy or "")


FAKE_PICAMERA2 = Path(__file__).parent / "fake_picamera2"


@pytest.fixture
def fake_picamera2(monkeypatch: pytest.MonkeyPatch) -> object:
    import sys

    monkeypatch.syspath_prepend(str(FAKE_PICAMERA2))
    monkeypatch.delitem(sys.modules, "picamera2", raising=False)
    import picamera2

    monkeypatch.setattr(picamera2.Picamera2, "mode", "ok")
    yield picamera2.Picamera2
    sys.modules.pop("picamera2", None)


def test_picamera2_driver_on_a_stand_in_library(fake_picamera2: type) -> None:
    cam = Picamera2Camera(Picamera2CameraConfig(width=64, height=48, preview_width=32, preview_height=24, dpi=280))
    frame = cam.capture()
    rgb = frame.to_rgb()
    assert rgb.shape == (48, 64, 3) and tuple(rgb[0, 0]) == (0, 0, 255)  # BGR888 memory order -> RGB
    assert frame.dpi == 280
    preview = cam.preview_frame()
    assert preview.shape == (24, 32, 3) and abs(int(preview[0, 0, 0]) - 200) < 40
    assert "preview 32x24" in cam.self_check()
    cam.close()
    cam.close()
    assert fake_picamera2.opened == 0  # type: ignore[attr-defined]


def test_picamera2_autofocus_is_set_explicitly(fake_picamera2: type, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(fake_picamera2, "controls_set", [])
    monkeypatch.setattr(fake_picamera2, "focus_cycles", 0)
    small = {"width": 16, "height": 12, "preview_width": 8, "preview_height": 6}
    cam = Picamera2Camera(Picamera2CameraConfig(**small))  # default: continuous autofocus
    cam.open()
    assert fake_picamera2.controls_set == [{"AfMode": 2}]  # type: ignore[attr-defined]
    cam.capture()
    assert fake_picamera2.focus_cycles == 0  # type: ignore[attr-defined]
    cam.close()
    cam = Picamera2Camera(Picamera2CameraConfig(autofocus="auto", **small))
    cam.capture()
    cam.capture()
    assert fake_picamera2.controls_set[-1] == {"AfMode": 1}  # type: ignore[attr-defined]
    assert fake_picamera2.focus_cycles == 2  # type: ignore[attr-defined]  # one focus cycle per still
    cam.close()
    cam = Picamera2Camera(Picamera2CameraConfig(autofocus="manual", lens_position=3.3, **small))
    cam.open()
    assert fake_picamera2.controls_set[-1] == {"AfMode": 0, "LensPosition": 3.3}  # type: ignore[attr-defined]
    cam.close()
    monkeypatch.setattr(fake_picamera2, "has_af", False)  # a module without autofocus: nothing set, no error
    before = len(fake_picamera2.controls_set)  # type: ignore[attr-defined]
    cam = Picamera2Camera(Picamera2CameraConfig(autofocus="auto", **small))
    assert cam.capture().to_rgb().shape == (12, 16, 3)
    assert len(fake_picamera2.controls_set) == before  # type: ignore[attr-defined]
    cam.close()


def test_picamera2_no_camera_and_hung_capture(fake_picamera2: type) -> None:
    fake_picamera2.mode = "no-camera"  # type: ignore[attr-defined]
    with pytest.raises(DeviceMissing, match="no Pi camera"):
        Picamera2Camera(Picamera2CameraConfig()).open()
    fake_picamera2.mode = "hang"  # type: ignore[attr-defined]
    cam = Picamera2Camera(Picamera2CameraConfig(width=8, height=8, preview_width=8, preview_height=8, timeout_s=0.3))
    from firmware.errors import DeviceTimeout

    with pytest.raises(DeviceTimeout, match="main stream"):
        cam.capture()
    cam.close()
