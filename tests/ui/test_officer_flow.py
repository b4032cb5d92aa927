"""The whole officer desk flow in Chromium on the simulated camera and the development token."""

from __future__ import annotations

import io
import json
import logging
import subprocess
from pathlib import Path
from typing import Any

import zxingcpp
from PIL import Image
from playwright.sync_api import expect

from tests.support.chromium import ARTIFACTS, screenshot

OWNER = "036088001234"
THRESHOLD = 0.999  # strict, so OCR values short of certain are highlighted on the review screen
QR_PAYLOAD = "036088001234||Nguyễn Văn Thử|14021988|Nam|Xóm 5, xã Hải Minh, huyện Hải Hậu, tỉnh Nam Định|15032021"


def _login_card(page: Any, base: str, pin: str) -> None:
    page.goto(f"{base}/login")
    page.get_by_test_id("pin").fill(pin)
    page.get_by_test_id("card-login").click()
    page.wait_for_url(f"{base}/officer/")


def _press(page: Any, locator: Any) -> None:
    """Click a button that posts a form and wait for the page it leads to."""
    with page.expect_navigation():
        locator.click()


def _flash(page: Any) -> str:
    return " | ".join(page.locator(".flash").all_inner_texts())


def _owner_step(page: Any) -> None:
    box = page.get_by_test_id("owner-id")
    box.fill("03608800123")  # 11 digits: refused live
    expect(page.get_by_test_id("id-feedback")).to_contain_text("Không hợp lệ")
    screenshot(page, "10-owner-invalid-id")
    box.fill(OWNER)
    expect(page.get_by_test_id("id-feedback")).to_contain_text("Hợp lệ —")
    assert "Nam Định" in page.get_by_test_id("id-feedback").inner_text()
    page.get_by_test_id("owner-name").fill("Nguyễn Văn Thử")
    screenshot(page, "11-owner-valid-id")
    page.get_by_test_id("owner-next").click()


def page_user_id(rows: list[dict[str, str]]) -> str:
    """The card user's id as the audit log names it (``officer:card-…``)."""
    login = next(r for r in rows if r["action"] == "kiosk.login.card")
    return login["actor"].split(":", 1)[1]


def _decode_receipt(pdf: bytes, tmp: Path) -> tuple[str, dict[str, str]]:
    path = tmp / "receipt.pdf"
    path.write_bytes(pdf)
    (ARTIFACTS / "receipt.pdf").write_bytes(pdf)
    text = subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True).stdout
    subprocess.run(["pdftoppm", "-r", "150", "-png", "-singlefile", str(path), str(tmp / "receipt")], check=True)
    img = Image.open(tmp / "receipt.png")
    img.save(ARTIFACTS / "19-receipt-pdf-page.png")
    codes = zxingcpp.read_barcodes(img)
    assert len(codes) == 1 and codes[0].format == zxingcpp.BarcodeFormat.QRCode
    pos = codes[0].position
    assert pos.top_left.x < img.width * 0.3 and pos.top_left.y < img.height * 0.2, "QR must sit top-left"
    return text, json.loads(codes[0].text)


def test_officer_desk_flow(page: Any, kiosk: Any, dev_token: str, tmp_path: Path, browser: Any,
                           caplog: Any) -> None:
    caplog.set_level(logging.DEBUG)
    base = kiosk(low_confidence=THRESHOLD)
    _login_card(page, base, dev_token)
    page.get_by_test_id("new-dossier").click()
    _owner_step(page)

    # Procedure from the bundled catalogue; tick both required components.
    page.get_by_test_id("proc-1.001193").click()
    page.get_by_test_id("comp-GKH").uncheck()
    page.get_by_test_id("pages-GCS").fill("2")
    screenshot(page, "12-procedure")
    page.get_by_test_id("procedure-next").click()

    # Reuse: nothing digitized yet for this owner.
    expect(page.locator("main")).to_contain_text("Không có giấy tờ đã số hóa")
    screenshot(page, "13-reuse-none")
    page.get_by_test_id("reuse-next").click()

    # Capture component 1 (one page).
    page.wait_for_url("**/capture/TK")
    expect(page.get_by_test_id("preview")).to_have_js_property("naturalHeight", 640)  # A4 portrait, long side 640
    _press(page, page.get_by_test_id("capture"))
    assert "Đạt chất lượng" in _flash(page)
    assert "1 / 1" in page.get_by_test_id("counter").inner_text()
    screenshot(page, "14-capture-first-page")
    page.get_by_test_id("next-component").click()

    # Component 2: page, its sticky-note re-capture, a second page, a stray third page; reorder; delete.
    page.wait_for_url("**/capture/GCS")
    _press(page, page.get_by_test_id("capture"))
    _press(page, page.get_by_test_id("capture-sticky"))
    expect(page.locator("body")).to_contain_text("kèm ghi chú")
    _press(page, page.get_by_test_id("capture"))
    _press(page, page.get_by_test_id("capture"))
    assert "3 / 2" in page.get_by_test_id("counter").inner_text()
    _press(page, page.locator("button[value='up:3']"))
    page.on("dialog", lambda d: d.accept())
    _press(page, page.locator("button[value='delete:2']"))
    assert "Đã xóa trang" in _flash(page)
    assert "2 / 2" in page.get_by_test_id("counter").inner_text()
    assert page.get_by_test_id("page-item").count() == 3
    before = page.get_by_test_id("page-item").nth(2).locator("img").get_attribute("src")
    _press(page, page.locator("button[value='retake:2']"))  # retake the last page in place
    assert page.get_by_test_id("page-item").count() == 3
    assert page.get_by_test_id("page-item").nth(2).locator("img").get_attribute("src") != before
    screenshot(page, "15-capture-sticky-reorder")

    # Extraction with progress, then review.
    page.get_by_test_id("to-review").click()
    page.wait_for_url("**/review", timeout=180_000)
    owner_field = page.get_by_test_id("field-TK-owner_id").locator("input")
    assert owner_field.input_value() == OWNER
    screenshot(page, "16-review")
    for field in page.locator("label.field").all():  # every OCR value under the threshold is highlighted
        if field.get_attribute("data-source") == "ocr" and float(field.get_attribute("data-confidence")) < THRESHOLD:
            assert "low" in (field.get_attribute("class") or "")
    # A typed date that is no calendar date is refused with the field named; nothing is saved.
    page.get_by_test_id("field-TK-issue_date").locator("input").fill("31/02/2024")
    page.get_by_test_id("field-GCS-summary").locator("input").fill("Giấy tờ kèm theo hồ sơ khai sinh")
    _press(page, page.get_by_test_id("review-next"))
    assert "Ngày ban hành" in _flash(page) and "không phải là ngày có thật" in _flash(page)  # Vietnamese, field named
    assert page.url.endswith("/review")
    assert page.get_by_test_id("field-TK-issue_date").locator("input").input_value() == "05/03/2024"  # dd/mm/yyyy
    assert page.get_by_test_id("field-GCS-summary").locator("input").input_value() == ""
    page.get_by_test_id("field-GCS-summary").locator("input").fill("Giấy tờ kèm theo hồ sơ khai sinh")
    # The paper's birth date (1995) contradicts the dossier owner's CCCD (1988): shown before the PIN,
    # and signing waits until it is corrected; the other owner read on the paper is confirmed with a tick.
    checks = page.get_by_test_id("check-item")
    assert checks.filter(has_text="036195004321").count() == 1
    assert page.locator("[data-testid=check-item][data-level=fix]").count() == 1
    page.get_by_test_id("field-GCS-owner_birth_date").locator("input").fill("14/02/1988")
    page.get_by_test_id("review-next").click()
    page.wait_for_url("**/sign")
    assert page.locator("[data-testid=check-item][data-level=fix]").count() == 0
    page.get_by_test_id("step-capture").click()  # back to the pages before signing: nothing was lost
    page.wait_for_url("**/capture/TK")
    assert "1 / 1" in page.get_by_test_id("counter").inner_text()
    page.get_by_test_id("next-component").click()
    page.get_by_test_id("to-review").click()  # extracting again keeps reviewed fields of unchanged pages
    page.wait_for_url("**/review")
    assert page.get_by_test_id("field-GCS-summary").locator("input").input_value() == "Giấy tờ kèm theo hồ sơ khai sinh"
    page.get_by_test_id("review-next").click()

    # Sign with the card PIN: first a wrong PIN (nothing stored), then the right one.
    page.wait_for_url("**/sign")
    screenshot(page, "17-sign")
    page.get_by_test_id("check-ack").check()
    page.get_by_test_id("sign-pin").fill("000000")
    page.get_by_test_id("sign-submit").click()
    page.get_by_test_id("job-error").wait_for(state="visible", timeout=60_000)
    assert "Mã PIN không đúng" in page.get_by_test_id("job-error").inner_text()
    screenshot(page, "17b-sign-wrong-pin")
    page.go_back()
    page.get_by_test_id("check-ack").check()
    page.get_by_test_id("sign-pin").fill(dev_token)
    page.get_by_test_id("sign-submit").click()
    page.wait_for_url("**/receipt", timeout=180_000)
    code = page.get_by_test_id("dossier-code").inner_text().strip()
    assert code.startswith("000.00.70.H99-")
    results = page.get_by_test_id("result-code").all_inner_texts()
    assert len(results) == 2 and all(".1.001193." in r for r in results)
    assert all(r.startswith(OWNER) for r in results)  # the dossier's owner, the one the officer entered
    expect(page.locator("body")).to_contain_text("đã ký số")
    screenshot(page, "18-receipt-screen")

    # The receipt PDF: Vietnamese text and a QR at the top-left carrying the §1.8 fields.
    pdf = page.request.get(base + page.get_by_test_id("receipt-pdf").get_attribute("href"))
    assert pdf.status == 200 and pdf.headers["content-type"] == "application/pdf"
    text, qr = _decode_receipt(pdf.body(), tmp_path)
    assert "GIẤY TIẾP NHẬN HỒ SƠ VÀ HẸN TRẢ KẾT QUẢ" in text
    assert "Nguyễn Văn Thử" in text and "Đăng ký khai sinh" in text
    assert qr["ma_ho_so"] == code and qr["ma_tthc"] == "1.001193" and qr["ma_dinh_danh"] == OWNER
    assert qr["ten_giay_to"] == "Giấy tiếp nhận hồ sơ và hẹn trả kết quả"
    assert qr["he_thong"] and qr["thoi_gian_xuat_ban"] and qr["ngay_hen_tra"]

    # A citizen looks the dossier up by scanning that QR: status only, no personal data.
    ctx = browser.new_context(viewport={"width": 1280, "height": 800})
    citizen = ctx.new_page()
    citizen.goto(f"{base}/citizen/")
    citizen.get_by_test_id("citizen-lookup").click()
    citizen.get_by_test_id("lookup-code").fill(json.dumps(qr, ensure_ascii=False))
    citizen.get_by_test_id("lookup-submit").click()
    result = citizen.get_by_test_id("lookup-result").inner_text()
    assert code in result and "Đang giải quyết" in result  # a status the citizen understands
    assert OWNER not in citizen.content() and "Nguyễn Văn Thử" not in citizen.content()
    screenshot(citizen, "30-citizen-lookup")
    ctx.close()

    # The sync worker's acks show up live on the receipt screen (it polls the store/sync state).
    from service.paths import get_paths
    from service.store.store import Store

    with Store.open(get_paths()) as store:
        for item in store.pending_outbox():
            store.mark_sending(item.id, actor="sync")
            store.mark_delivered(item.id, actor="sync")
    expect(page.get_by_test_id("doc-state").first).to_contain_text("đã gửi", timeout=15_000)
    screenshot(page, "18b-receipt-synced")

    # Second dossier for the same owner: the papers just digitized are offered for reuse.
    page.goto(f"{base}/officer/")
    page.get_by_test_id("new-dossier").click()
    page.get_by_test_id("qr-payload").fill("0360880|broken")
    page.get_by_test_id("qr-submit").click()
    assert page.get_by_test_id("owner-error").is_visible()
    page.get_by_test_id("qr-payload").fill(QR_PAYLOAD)  # what the serial QR reader types
    page.get_by_test_id("qr-submit").click()
    page.wait_for_url("**/procedure")
    page.get_by_test_id("proc-1.001193").click()
    page.get_by_test_id("comp-GKH").uncheck()
    page.get_by_test_id("comp-GCS").uncheck()
    page.get_by_test_id("procedure-next").click()
    page.get_by_test_id("reuse-TK-1").check()
    screenshot(page, "20-reuse-offered")
    page.get_by_test_id("reuse-next").click()
    page.wait_for_url("**/review")
    page.get_by_test_id("review-next").click()
    page.get_by_test_id("sign-pin").fill(dev_token)
    page.get_by_test_id("sign-submit").click()
    page.wait_for_url("**/receipt", timeout=120_000)
    assert page.get_by_test_id("result-code").all_inner_texts() == results[:1]

    # A dossier opened and abandoned is discarded from the desk, with its images.
    page.goto(f"{base}/officer/")
    page.get_by_test_id("new-dossier").click()
    page.goto(f"{base}/officer/")
    assert page.get_by_test_id("open-draft").count() == 1
    screenshot(page, "21-desk-with-dossiers")
    page.get_by_test_id("discard-draft").click()
    assert "Đã hủy hồ sơ" in _flash(page) and page.get_by_test_id("open-draft").count() == 0
    kiosk_dir = get_paths().home / "kiosk" / "drafts"
    images = [p for p in kiosk_dir.rglob("*") if p.is_file() and p.name != "draft.json"]
    assert images == []  # finalized dossiers keep no second copy of the page images

    # Every desk action is in the hash-chained audit log, without personal data; logs hold none either.
    from service.usecases.documents import verify_integrity
    from service.usecases.kiosk_records import recent_audit

    rows = recent_audit(get_paths(), limit=1000, prefix=("kiosk.",))
    actions = {r["action"] for r in rows}
    for action in ("kiosk.login.card", "kiosk.dossier.open", "kiosk.owner.typed", "kiosk.owner.qr",
                   "kiosk.dossier.procedure", "kiosk.dossier.reuse", "kiosk.capture.capture", "kiosk.capture.sticky",
                   "kiosk.capture.reorder", "kiosk.capture.delete", "kiosk.extract.start", "kiosk.review.save",
                   "kiosk.sign.start", "kiosk.receipt.print", "kiosk.citizen.lookup"):
        assert action in actions, action
    corrected = [r for r in recent_audit(get_paths(), limit=1000) if r["action"] == "field_corrected"]
    assert corrected and corrected[0]["actor"] == "officer:" + page_user_id(rows)
    assert verify_integrity(paths=get_paths()).ok
    flat = json.dumps(rows, ensure_ascii=False)
    assert OWNER not in flat and "Nguyễn Văn Thử" not in flat
    assert OWNER not in caplog.text and "Nguyễn Văn Thử" not in caplog.text and dev_token not in caplog.text


def test_owner_from_id_card_qr_under_the_camera(page: Any, kiosk: Any, sohoa_home: Path) -> None:
    import segno

    folder = sohoa_home / "camera"
    folder.mkdir()
    card = Image.new("RGB", (1400, 900), (235, 240, 250))  # the front of a chip ID card, QR top-right
    png = io.BytesIO()
    segno.make(QR_PAYLOAD, error="m").save(png, kind="png", scale=8, border=4)
    card.paste(Image.open(png).convert("RGB"), (900, 60))
    card.save(folder / "01-id-card.png", dpi=(300, 300))
    (sohoa_home / "config.yaml").write_text(f"devices:\n  camera:\n    type: files\n    folder: {folder}\n",
                                            encoding="utf-8")
    base = kiosk()
    page.goto(f"{base}/login")
    page.get_by_test_id("username").fill("canbo")
    page.get_by_test_id("password").fill("canbo-dev")
    page.get_by_test_id("password-login").click()
    page.get_by_test_id("new-dossier").click()
    page.get_by_test_id("qr-camera").click()
    page.wait_for_url("**/procedure")
    page.go_back()
    page.reload()
    assert page.get_by_test_id("owner-id").input_value() == OWNER
    assert page.get_by_test_id("owner-name").input_value() == "Nguyễn Văn Thử"
    screenshot(page, "11b-owner-from-camera-qr")


def test_bad_captures_are_refused_and_lose_nothing(page: Any, kiosk: Any, sohoa_home: Path) -> None:
    folder = sohoa_home / "camera"
    folder.mkdir()
    Image.new("RGB", (1654, 2339), "white").save(folder / "01-good.png", dpi=(200, 200))
    small = Image.new("RGB", (600, 850), "white")
    small.paste((30, 30, 120), (50, 50, 550, 120))
    small.save(folder / "02-low-dpi.png", dpi=(72, 72))
    (folder / "03-corrupt.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 64)
    (sohoa_home / "config.yaml").write_text(f"devices:\n  camera:\n    type: files\n    folder: {folder}\n",
                                            encoding="utf-8")
    base = kiosk()
    page.goto(f"{base}/login")
    page.get_by_test_id("username").fill("canbo")
    page.get_by_test_id("password").fill("canbo-dev")
    page.get_by_test_id("password-login").click()
    page.get_by_test_id("new-dossier").click()
    page.get_by_test_id("owner-id").fill(OWNER)
    page.get_by_test_id("owner-next").click()
    page.get_by_test_id("proc-1.000894").click()
    page.get_by_test_id("comp-XNTTHN").uncheck()
    page.get_by_test_id("procedure-next").click()
    page.get_by_test_id("reuse-next").click()
    page.wait_for_url("**/capture/TK")
    _press(page, page.get_by_test_id("capture"))  # a white page: accepted but marked blank
    assert "Trang trắng" in _flash(page)
    _press(page, page.get_by_test_id("capture"))  # 72 dpi: refused with what to do
    assert "Không đạt chất lượng" in _flash(page) and "dpi" in _flash(page)
    screenshot(page, "15b-capture-refused-low-dpi")
    _press(page, page.get_by_test_id("capture"))  # a corrupt file from the device
    assert "Lỗi camera" in _flash(page)
    assert page.get_by_test_id("page-item").count() == 1  # the good page is still there, nothing added
    assert "1 / 1" in page.get_by_test_id("counter").inner_text()
    page.set_viewport_size({"width": 1024, "height": 600})  # a 7" touchscreen
    page.reload()
    capture = page.get_by_test_id("capture").bounding_box()
    assert capture is not None and capture["height"] >= 56 and capture["width"] >= 120  # finger-sized
    screenshot(page, "15c-capture-7inch")


def test_manual_entry_when_ocr_cannot_run(page: Any, kiosk: Any, dev_token: str, sohoa_home: Path) -> None:
    (sohoa_home / "config.yaml").write_text("ocr:\n  manifest: /nonexistent/manifest.json\n", encoding="utf-8")
    base = kiosk()
    _login_card(page, base, dev_token)
    page.get_by_test_id("new-dossier").click()
    page.get_by_test_id("owner-id").fill(OWNER)
    page.get_by_test_id("owner-next").click()
    page.get_by_test_id("proc-1.000894").click()
    page.get_by_test_id("comp-XNTTHN").uncheck()
    page.get_by_test_id("procedure-next").click()
    page.get_by_test_id("reuse-next").click()
    _press(page, page.get_by_test_id("capture"))
    page.get_by_test_id("to-review").click()
    page.get_by_test_id("job-error").wait_for(state="visible", timeout=60_000)
    assert "mô hình OCR" in page.get_by_test_id("job-error").inner_text()
    screenshot(page, "16b-ocr-unavailable")
    page.get_by_test_id("job-retry").click()
    page.wait_for_url("**/review")
    page.get_by_test_id("field-TK-document_name").locator("input").fill("Tờ khai đăng ký kết hôn")
    page.get_by_test_id("field-TK-issue_date").locator("input").fill("ngày 05 tháng 3 năm 2024")
    page.get_by_test_id("review-next").click()
    page.get_by_test_id("sign-pin").fill(dev_token)
    page.get_by_test_id("sign-submit").click()
    page.wait_for_url("**/receipt", timeout=120_000)
    (code,) = page.get_by_test_id("result-code").all_inner_texts()
    assert code.startswith(f"{OWNER}.1.000894.TK.")
    from service.paths import get_paths
    from service.usecases.documents import show_document

    md = show_document(code, paths=get_paths()).document.metadata
    assert md.issue_date is not None and md.issue_date.value == "2024-03-05" and md.issue_date.source == "manual"
