"""Capture sources at the kiosk: scanner faults in Vietnamese, live preview quality (endpoint), upload splitting."""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PIL import Image, ImageFilter

from firmware.config import FilesCameraConfig, SaneScannerConfig
from kiosk_ui.i18n import translate
from service.capture.config import CaptureConfig
from service.desk.camera import DeskCamera
from service.desk.drafts import DraftStore
from service.desk.scanner import DeskScanner
from service.desk.upload import set_jpeg_dpi, split_upload
from service.errors import InputError
from service.usecases import kiosk_capture
from tests.support.sane import sane_options, sane_test_backend

_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def text_page(dpi: int = 200) -> Image.Image:
    """An A4 page of dark text-like strokes at ``dpi``."""
    w, h = round(8.27 * dpi), round(11.69 * dpi)
    img = Image.new("RGB", (w, h), (250, 250, 246))
    step = max(4, dpi // 20)
    for y in range(int(h * 0.12), int(h * 0.85), step * 3):
        for x in range(int(w * 0.1), int(w * 0.88), step * 2):
            if (x // step + y // step) % 7:
                img.paste((25, 25, 40), (x, y, x + step + step // 2, y + step * 2))
    return img


def encoded(img: Image.Image, fmt: str = "PNG", dpi: int = 200) -> bytes:
    buf = io.BytesIO()
    img.save(buf, fmt, dpi=(dpi, dpi), **({"quality": 90} if fmt == "JPEG" else {}))
    return buf.getvalue()


@pytest.mark.parametrize(("fault", "kind", "needle"), [
    ("SANE_STATUS_JAMMED", "jam", "gỡ tờ bị kẹt"),
    ("SANE_STATUS_NO_DOCS", "feeder-empty", "Đặt giấy"),
    ("SANE_STATUS_COVER_OPEN", "cover-open", "Đóng nắp"),
])
def test_scanner_faults_come_back_typed_and_are_worded_in_vietnamese(fault: str, kind: str, needle: str) -> None:
    sane_test_backend()
    cfg = SaneScannerConfig(device="test:0", timeout_s=10, options=sane_options(read_return_value=fault))
    batch = DeskScanner(cfg).scan(duplex=False, dpi=50)
    assert batch.fault is not None and batch.fault.kind == kind and batch.pages == ()
    vi = translate(f"scanner.{kind}", "vi")
    assert needle in vi and vi != f"scanner.{kind}"
    assert translate(f"scanner.{kind}", "en") != vi


def test_a_scanner_that_is_not_configured_says_so() -> None:
    with pytest.raises(kiosk_capture.ScannerFault) as info:
        DeskScanner(None).scan(duplex=True, dpi=300)
    assert info.value.kind == "absent" and "máy quét" in translate("scanner.absent", "vi")


def test_duplex_sane_scan_marks_blank_backs_and_does_not_count_them(tmp_path: Path) -> None:
    sane_test_backend()
    cfg = SaneScannerConfig(device="test:0", duplex_source="Automatic Document Feeder", timeout_s=30,
                            options=sane_options(test_picture="Solid white", br_x=150.0, br_y=200.0))
    store = DraftStore(tmp_path / "drafts", CaptureConfig(scan_dpi=200))
    draft = store.create("officer", "u1")
    from service.desk.drafts import DraftComponent

    draft.components.append(DraftComponent("TK", "Tờ khai", 5))
    out = kiosk_capture.from_scanner(store, DeskScanner(cfg), draft, "TK", duplex=True)
    assert out.fault is None and len(out.pages) == 10 and all(fb.accepted for fb in out.pages)
    comp = store.get(draft.id).component("TK")
    assert [p.side for p in comp.pages] == ["front", "back"] * 5
    assert all(p.source == "scanner" and p.blank for p in comp.pages)
    assert comp.content_pages == 5  # the five blank backs are kept, marked, not counted
    data, media = store.page_bytes(draft, comp.pages[0].sha256)
    assert media == "image/jpeg" and data.startswith(b"\xff\xd8")  # raw scanner pixels stored as JPEG once


def _camera_on(folder: Path, *pages: Image.Image) -> DeskCamera:
    folder.mkdir(parents=True, exist_ok=True)
    for i, img in enumerate(pages):
        img.save(folder / f"{i:02d}.png", dpi=(200, 200))
    return DeskCamera(FilesCameraConfig(folder=folder, dpi=200), folder)


def test_preview_quality_names_blur_with_its_instruction_and_passes_a_sharp_frame(tmp_path: Path) -> None:
    store = DraftStore(tmp_path / "drafts")
    sharp = text_page()
    cam = _camera_on(tmp_path / "sharp", sharp)
    q = kiosk_capture.preview_quality(store, cam)
    assert q.ok and q.problems == ()
    cam.close()
    cam = _camera_on(tmp_path / "blur", sharp.filter(ImageFilter.GaussianBlur(10)))
    q = kiosk_capture.preview_quality(store, cam)
    assert not q.ok
    blur = next(p for p in q.problems if p.kind == "blur")
    assert blur.severity == "blocking" and blur.message.startswith("Giữ máy chắc tay")
    cam.close()
    # Resolution is judged for the still the camera would take: a 100 dpi camera is too coarse.
    low = DeskCamera(FilesCameraConfig(folder=tmp_path / "sharp", dpi=100), tmp_path / "sharp")
    assert "lowres" in [p.kind for p in kiosk_capture.preview_quality(store, low).problems]
    low.close()


@pytest.fixture
def app(sohoa_home: Path) -> Iterator[Any]:
    from kiosk_ui.app import create_app

    cam = tmp = sohoa_home / "camera"
    tmp.mkdir()
    text_page().filter(ImageFilter.GaussianBlur(10)).save(cam / "01-blurred.png", dpi=(200, 200))
    (sohoa_home / "config.yaml").write_text(f"devices:\n  camera:\n    type: files\n    folder: {cam}\n",
                                            encoding="utf-8")
    application = create_app({"secret_key": "test-secret-key-" + "x" * 32, "dev_accounts": True})
    application.config["TESTING"] = True
    yield application
    application.extensions["kiosk_backend"].close()


def test_preview_quality_endpoint_returns_the_problems_in_vietnamese(app: Any) -> None:
    client = app.test_client()
    assert client.get("/officer/camera/quality.json").status_code in (302, 401)  # officers only
    csrf = _CSRF.search(client.get("/login").get_data(as_text=True)).group(1)  # type: ignore[union-attr]
    client.post("/login/password", data={"csrf_token": csrf, "username": "canbo", "password": "canbo-dev"})
    resp = client.get("/officer/camera/quality.json")
    assert resp.status_code == 200 and resp.headers["Cache-Control"] == "no-store"
    body = resp.get_json()
    assert body["ok"] is False and not body["offline"]
    kinds = {p["kind"]: p for p in body["problems"]}
    assert kinds["blur"]["severity"] == "blocking" and "Giữ máy chắc tay" in kinds["blur"]["message"]


def test_upload_splits_a_pdf_keeping_its_jpegs_and_refuses_oversize_and_corrupt() -> None:
    import img2pdf

    cfg = CaptureConfig(upload_max_bytes=4 * 1024 * 1024)
    jpeg = encoded(text_page(), "JPEG")
    pdf = img2pdf.convert([jpeg, jpeg], layout_fun=img2pdf.get_fixed_dpi_layout_fun((200, 200)))
    pages = split_upload(pdf, cfg)
    assert len(pages) == 2
    assert pages[0][20:] == set_jpeg_dpi(jpeg, 200)[20:]  # the scan's JPEG data, not re-encoded
    with Image.open(io.BytesIO(pages[0])) as img:
        assert round(img.info["dpi"][0]) == 200
    assert split_upload(jpeg, cfg) == [jpeg]
    with pytest.raises(InputError, match="byte limit"):
        split_upload(b"\xff\xd8" + b"\x00" * (4 * 1024 * 1024), cfg)
    with pytest.raises(InputError, match="corrupt"):
        split_upload(b"%PDF-1.7\n" + b"garbage" * 50, cfg)


def test_sticky_note_capture_belongs_to_the_page_the_officer_names(tmp_path: Path) -> None:
    from service.desk.drafts import DraftComponent

    store = DraftStore(tmp_path / "drafts")
    draft = store.create("officer", "u1")
    draft.components.append(DraftComponent("TK", "Tờ khai", 2))
    first, second = text_page(), text_page().rotate(180)
    assert store.add_page(draft, "TK", encoded(first)).accepted
    assert store.add_page(draft, "TK", encoded(second)).accepted
    note = first.copy()
    note.paste((250, 230, 90), (300, 300, 700, 650))  # a yellow sticky note on page 1
    fb = store.add_page(draft, "TK", encoded(note), sticky=True, sticky_index=0)
    assert fb.accepted
    comp = store.get(draft.id).component("TK")
    assert comp.pages[2].sticky_of == comp.pages[0].sha256 and comp.content_pages == 2  # page 1, not the last
    again = store.add_page(draft, "TK", encoded(note.rotate(1, fillcolor="white")), sticky=True, sticky_index=0)
    assert not again.accepted and again.kind == "sticky"  # one note capture per page


def _desk_capture(page: Any, base: str) -> None:
    page.goto(f"{base}/login")
    page.get_by_test_id("username").fill("canbo")
    page.get_by_test_id("password").fill("canbo-dev")
    page.get_by_test_id("password-login").click()
    page.get_by_test_id("new-dossier").click()
    page.get_by_test_id("owner-id").fill("036088001234")
    page.get_by_test_id("owner-next").click()
    page.get_by_test_id("proc-1.000894").click()
    page.get_by_test_id("comp-XNTTHN").uncheck()
    page.get_by_test_id("procedure-next").click()
    page.get_by_test_id("reuse-next").click()
    page.wait_for_url("**/capture/TK")


def _press(page: Any, locator: Any) -> None:
    with page.expect_navigation():
        locator.click()


def _flash(page: Any) -> str:
    return " | ".join(page.locator(".flash").all_inner_texts())


def test_scanner_upload_and_quality_refusal_in_chromium(page: Any, kiosk: Any, sohoa_home: Path,
                                                         tmp_path: Path) -> None:
    import img2pdf
    from playwright.sync_api import expect

    from tests.support.chromium import screenshot

    sane_dir = sane_test_backend()
    assert sane_dir.is_dir()
    cam = sohoa_home / "camera"
    cam.mkdir()
    text_page().filter(ImageFilter.GaussianBlur(10)).save(cam / "01-blurred.png", dpi=(200, 200))
    (sohoa_home / "config.yaml").write_text(
        "devices:\n"
        f"  camera:\n    type: files\n    folder: {cam}\n"
        "  scanner:\n    type: sane\n    device: 'test:0'\n    duplex_source: Automatic Document Feeder\n"
        "    timeout_s: 30\n    options:\n      read-return-value: Default\n      read-delay: false\n"
        "      read-limit: false\n      test-picture: Solid white\n      br-x: 150.0\n      br-y: 200.0\n"
        "capture:\n  scan_dpi: 200\n  upload_max_bytes: 3000000\n", encoding="utf-8")
    base = kiosk()
    _desk_capture(page, base)

    # The simulated camera says so, and its preview is checked live: the blurred frame is named.
    badge = page.get_by_test_id("camera-badge")
    assert "MÔ PHỎNG" in badge.inner_text() and "TRỰC TIẾP" not in badge.inner_text()
    expect(page.get_by_test_id("preview-qc")).to_contain_text("Giữ máy chắc tay", timeout=20_000)
    screenshot(page, "40-capture-preview-qc")

    # Scanner, duplex: 5 sheets with blank backs; the backs are marked and not counted.
    page.get_by_test_id("source-scanner").click()
    page.get_by_test_id("scan-duplex").check()
    _press(page, page.get_by_test_id("scan"))
    assert "Đã nhận 5 trang; 5 mặt sau trống" in _flash(page)
    assert "5 / 1" in page.get_by_test_id("counter").inner_text()
    items = page.get_by_test_id("page-item")
    assert items.count() == 10
    assert page.locator("[data-testid=page-item][data-side=back][data-counted='0']").count() == 5
    assert page.get_by_test_id("blank-back").count() == 5
    assert "mặt sau trống · không tính" in page.get_by_test_id("blank-back").first.inner_text()
    screenshot(page, "41-capture-scanner-duplex")
    for _ in range(10):  # start over for the uploads
        page.once("dialog", lambda d: d.accept())
        _press(page, page.get_by_test_id("delete-page").first)
    assert "0 / 1" in page.get_by_test_id("counter").inner_text()

    # Upload: an image, then a PDF of two scans.
    page.get_by_test_id("source-upload").click()
    one = tmp_path / "trang-1.jpg"
    one.write_bytes(encoded(text_page(), "JPEG"))
    page.get_by_test_id("upload-file").set_input_files(str(one))
    _press(page, page.get_by_test_id("upload"))
    assert "Đạt chất lượng" in _flash(page) and "1 / 1" in page.get_by_test_id("counter").inner_text()
    pdf = tmp_path / "ban-quet.pdf"
    pdf.write_bytes(img2pdf.convert([encoded(text_page().rotate(180), "JPEG"), encoded(text_page(220), "JPEG")],
                                    layout_fun=img2pdf.get_fixed_dpi_layout_fun((200, 200))))
    page.get_by_test_id("source-upload").click()
    page.get_by_test_id("upload-file").set_input_files(str(pdf))
    _press(page, page.get_by_test_id("upload"))
    assert "Đã nhận 2 trang" in _flash(page) and "3 / 1" in page.get_by_test_id("counter").inner_text()
    assert "Tải tệp lên" in page.get_by_test_id("page-item").nth(2).inner_text()

    # A blurred page is refused with its Vietnamese instruction; nothing is added.
    blurred = tmp_path / "mo.jpg"
    blurred.write_bytes(encoded(text_page().filter(ImageFilter.GaussianBlur(10)), "JPEG"))
    page.get_by_test_id("upload-file").set_input_files(str(blurred))
    _press(page, page.get_by_test_id("upload"))
    assert "Không đạt chất lượng" in _flash(page) and "Giữ máy chắc tay, chụp lại" in _flash(page)
    screenshot(page, "42-capture-upload-refused-blur")
    # Too large, and corrupt: refused in Vietnamese, nothing added.
    big = tmp_path / "qua-lon.png"
    import numpy as np

    Image.fromarray(np.random.default_rng(1).integers(0, 255, (1100, 1100, 3), dtype=np.uint8)).save(big)
    assert big.stat().st_size > 3_000_000
    page.get_by_test_id("upload-file").set_input_files(str(big))
    _press(page, page.get_by_test_id("upload"))
    assert "tệp quá lớn" in _flash(page)
    bad = tmp_path / "hong.pdf"
    bad.write_bytes(b"%PDF-1.7\n" + b"garbage " * 100)
    page.get_by_test_id("upload-file").set_input_files(str(bad))
    _press(page, page.get_by_test_id("upload"))
    assert "tệp bị hỏng" in _flash(page)
    assert page.get_by_test_id("page-item").count() == 3 and "3 / 1" in page.get_by_test_id("counter").inner_text()

    # A thumbnail opens large.
    page.get_by_test_id("enlarge").first.click()
    viewer = page.get_by_test_id("page-viewer")
    expect(viewer).to_be_visible()
    expect(page.get_by_test_id("viewer-image")).to_have_js_property("naturalWidth", 1654)
    screenshot(page, "43-capture-page-viewer")
    page.get_by_test_id("viewer-close").click()
    expect(viewer).to_be_hidden()


def test_a_kiosk_blank_back_is_not_counted_when_the_document_is_assembled() -> None:
    from service.capture.rules import RawPage, assemble, check_finalizable
    from service.capture.types import Side

    white = encoded(Image.new("RGB", (1654, 2339), "white"))
    raw = [RawPage(encoded(text_page()), "page 1", "camera"), RawPage(white, "page 2", "camera")]
    cap = assemble(raw, config=CaptureConfig(), sides=[Side.FRONT, Side.BACK], declared_pages=1)
    check_finalizable(cap)  # one page declared, one counted: the blank back is kept but not counted
    assert cap.content_pages == 1 and cap.pages[1].blank and cap.pages[1].side is Side.BACK
    from service.errors import ValidationError

    with pytest.raises(ValidationError, match="sides"):
        assemble(raw, config=CaptureConfig(), sides=[Side.FRONT])
