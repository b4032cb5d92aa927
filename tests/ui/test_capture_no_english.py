"""No English on the capture page (Flask test client): a camera that fails (files camera on an empty
folder, the picamera2 stand-in without a camera or hanging), a scanner jam (SANE test backend), a
corrupt upload, a quality refusal and a duplicate page all flash their catalogue wording in Vietnamese."""

from __future__ import annotations

import io
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from PIL import Image, ImageFilter

from tests.support.sane import sane_options, sane_test_backend
from tests.ui.desk_client import Desk, desk_app, flashes, visible_text
from tests.ui.test_capture_sources import encoded, text_page
from tests.ui.test_desk_dossier_walk import _KEY, _WORD

FAKE_PICAMERA2 = Path(__file__).resolve().parents[1] / "firmware" / "fake_picamera2"
OWNER = "036088001234"


def _english(text: str) -> list[str]:
    return _WORD.findall(text) + _KEY.findall(text)


def _devices(home: Path, **devices: Any) -> None:
    (home / "config.yaml").write_text(yaml.safe_dump({"devices": devices}), encoding="utf-8")


@pytest.fixture
def capture_page(sohoa_home: Path) -> Iterator[Any]:
    """``open()`` starts the desk on this home's config and returns ``(desk, capture URL)``."""
    apps: list[Any] = []

    def open_() -> tuple[Desk, str]:
        ctx = desk_app()
        apps.append(ctx)
        desk = Desk(ctx.__enter__().test_client())
        draft_id = desk.new(OWNER)
        desk.procedure(draft_id, "1.000894", ["TK"])
        return desk, f"/officer/d/{draft_id}/capture/TK"

    yield open_
    for ctx in apps:
        ctx.__exit__(None, None, None)


def _press(desk: Desk, url: str, **form: Any) -> tuple[str, str]:
    """Press a capture button; returns the flashes and the visible text of the capture page after it."""
    resp = desk.post(url, **form)
    assert resp.status_code == 302, resp.get_data(as_text=True)
    html = desk.client.get(url).get_data(as_text=True)
    return flashes(html), visible_text(html)


def test_camera_failures_are_worded_by_the_catalogue(capture_page: Any, sohoa_home: Path,
                                                     monkeypatch: pytest.MonkeyPatch,
                                                     request: pytest.FixtureRequest) -> None:
    empty = sohoa_home / "no-images"
    empty.mkdir()
    _devices(sohoa_home, camera={"type": "files", "folder": str(empty)})
    desk, url = capture_page()
    shown, text = _press(desk, url, action="capture")
    assert shown.startswith("Lỗi camera: Thư mục ảnh của camera mô phỏng không có ảnh nào"), shown
    assert "holds no" not in text and _english(text) == [], text
    with desk.client.session_transaction() as s:  # the scan is not blind: the same failure in English
        s["lang"] = "en"
    shown, text = _press(desk, url, action="capture")
    assert shown.startswith("Camera problem:") and "holds no PNG/JPEG/TIFF files" in shown and _english(text)

    monkeypatch.syspath_prepend(str(FAKE_PICAMERA2))
    monkeypatch.delitem(sys.modules, "picamera2", raising=False)
    import picamera2  # the stand-in: "no-camera" raises as an unplugged ribbon does, "hang" never returns

    # monkeypatch restores only what existed before: the stand-in would stay imported for later tests
    request.addfinalizer(lambda: sys.modules.pop("picamera2", None))
    monkeypatch.setattr(picamera2.Picamera2, "mode", "no-camera")
    small = {"type": "picamera2", "width": 64, "height": 48, "preview_width": 32, "preview_height": 24,
             "timeout_s": 1}
    _devices(sohoa_home, camera=small)
    desk, url = capture_page()
    shown, text = _press(desk, url, action="capture")
    assert shown.startswith("Lỗi camera: Không tìm thấy camera: kiểm tra cáp dẹt"), shown
    assert "list index" not in text and _english(text) == [], text
    monkeypatch.setattr(picamera2.Picamera2, "mode", "hang")
    desk, url = capture_page()
    shown, text = _press(desk, url, action="capture")
    assert shown.startswith("Lỗi camera: Thiết bị không phản hồi kịp"), shown
    assert _english(text) == [], text


def test_a_scanner_jam_an_upload_refusal_and_a_duplicate_page_are_vietnamese(capture_page: Any, sohoa_home: Path,
                                                                             tmp_path: Path) -> None:
    sane_test_backend()
    _devices(sohoa_home, scanner={"type": "sane", "device": "test:0", "timeout_s": 30,
                                  "options": sane_options(read_return_value="SANE_STATUS_JAMMED")})
    desk, url = capture_page()
    shown, text = _press(desk, url, action="scan")
    assert "Kẹt giấy trong khay nạp" in shown and _english(text) == [], text

    corrupt = io.BytesIO(b"%PDF-1.7\n" + b"garbage " * 100)
    shown, text = _press(desk, url, action="upload", file=(corrupt, "hong.pdf"))
    assert "tệp bị hỏng" in shown and _english(text) == [], text
    blurred = encoded(text_page().filter(ImageFilter.GaussianBlur(10)), "JPEG")
    shown, text = _press(desk, url, action="upload", file=(io.BytesIO(blurred), "mo.jpg"))
    assert "Không đạt chất lượng" in shown and "Giữ máy chắc tay, chụp lại (ảnh bị mờ)" in shown, shown
    assert _english(text) == [], text
    small = io.BytesIO()
    Image.new("RGB", (600, 850), "white").save(small, "PNG", dpi=(72, 72))
    shown, text = _press(desk, url, action="upload", file=(io.BytesIO(small.getvalue()), "nho.png"))
    assert "Không đạt chất lượng" in shown and _english(text) == [], text
    page = encoded(text_page(), "JPEG")
    _press(desk, url, action="upload", file=(io.BytesIO(page), "trang.jpg"))
    shown, text = _press(desk, url, action="upload", file=(io.BytesIO(page), "trang.jpg"))
    assert "giống hệt một trang đã chụp" in shown and _english(text) == [], text
    shown, text = _press(desk, url, action="upload")
    assert "Chưa chọn tệp" in shown and _english(text) == [], text
    assert "1 / 1" in text  # only the one good page was added


def test_every_quality_instruction_and_unknown_feedback_goes_through_the_catalogue(sohoa_home: Path) -> None:
    from service.capture.quality import INSTRUCTIONS

    with desk_app() as app, app.test_request_context("/officer/"):
        from flask import g, session

        from kiosk_ui.capture_views import feedback_text

        g.settings = app.config["KIOSK"]
        for kind, vi in INSTRUCTIONS.items():
            assert feedback_text(vi) == vi, kind  # a catalogue entry matches each instruction
        lowres = f"{INSTRUCTIONS['lowres']}: 72 dpi, cần ít nhất 200 dpi"
        assert feedback_text(lowres) == lowres
        unknown = "the sensor overheated while the frame was read"
        assert _english(feedback_text(unknown)) == [] and "chụp hoặc quét lại" in feedback_text(unknown)
        session["lang"] = "en"
        assert feedback_text(INSTRUCTIONS["blur"]).startswith("Hold the camera steady")
        assert feedback_text(unknown) == unknown
