"""Citizen self-service in Chromium: scan own papers, hand in, privacy, idle timeout."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import expect

from tests.support.chromium import screenshot


def test_citizen_scans_and_hands_in(page: Any, kiosk: Any, browser: Any) -> None:
    base = kiosk()
    page.goto(f"{base}/citizen/")
    screenshot(page, "31-citizen-start")
    page.get_by_test_id("citizen-scan").click()
    page.wait_for_url(f"{base}/citizen/scan")
    page.get_by_test_id("pick-1.000894-XNTTHN").check()
    screenshot(page, "32-citizen-pick-paper")
    page.get_by_test_id("citizen-pick-next").click()
    page.wait_for_url("**/citizen/capture/XNTTHN")
    with page.expect_navigation():
        page.get_by_test_id("capture").click()
    expect(page.get_by_test_id("counter")).to_contain_text("1 / 1")
    screenshot(page, "33-citizen-capture")
    page_img = page.get_by_test_id("page-item").locator("img").get_attribute("src")

    # Another browser (another citizen) sees nothing of this one's papers.
    other = browser.new_context()
    op = other.new_page()
    resp = op.goto(base + page_img)
    assert resp is not None and resp.status in (302, 200) and "/citizen/" in op.url and "page" not in op.url
    op.goto(f"{base}/citizen/")
    op.get_by_test_id("citizen-lookup").click()
    resp = op.goto(base + page_img)
    assert resp is not None and resp.status == 404
    other.close()

    page.get_by_test_id("citizen-submit").click()
    ticket = page.get_by_test_id("ticket").inner_text().strip()
    assert len(ticket) == 6
    screenshot(page, "34-citizen-ticket")
    # The session ended with the hand-in: the capture page is gone for this browser.
    page.goto(f"{base}/citizen/scan")
    assert page.url.rstrip("/").endswith("/citizen") or "/citizen/?" in page.url

    # The desk sees the handed-in papers under the ticket number and takes them over.
    page.goto(f"{base}/login")
    page.get_by_test_id("username").fill("canbo")
    page.get_by_test_id("password").fill("canbo-dev")
    page.get_by_test_id("password-login").click()
    page.wait_for_url(f"{base}/officer/")
    assert ticket in page.content()
    screenshot(page, "35-desk-sees-citizen-ticket")
    page.get_by_role("button", name="Tiếp nhận", exact=True).click()
    page.wait_for_url("**/owner")


def test_citizen_lookup_unknown_code(page: Any, kiosk: Any) -> None:
    base = kiosk()
    page.goto(f"{base}/citizen/")
    page.get_by_test_id("citizen-lookup").click()
    page.get_by_test_id("lookup-code").fill("000.00.70.H99-991231-0001")
    page.get_by_test_id("lookup-submit").click()
    expect(page.get_by_test_id("lookup-none")).to_be_visible()
    page.get_by_test_id("lookup-code").fill('{"ma_ho_so": 12, "broken"')
    page.get_by_test_id("lookup-submit").click()
    expect(page.get_by_test_id("lookup-none")).to_be_visible()


def test_citizen_idle_timeout_clears_the_session(page: Any, kiosk: Any) -> None:
    base = kiosk(citizen_idle_timeout_s=4)  # longer than a capture on a loaded machine takes
    page.goto(f"{base}/citizen/")
    page.get_by_test_id("citizen-scan").click()
    page.wait_for_url(f"{base}/citizen/scan")
    page.get_by_test_id("pick-1.000894-XNTTHN").check()
    page.get_by_test_id("citizen-pick-next").click()
    page.get_by_test_id("capture").click()
    capture_url = page.url
    # No touch for longer than the idle limit: the page returns to the start screen by itself.
    page.get_by_test_id("citizen-ended").wait_for(state="visible", timeout=15_000)
    screenshot(page, "36-citizen-idle-ended")
    page.goto(capture_url)
    assert "/capture/" not in page.url  # session gone, draft discarded
    from service.paths import get_paths

    drafts = list((get_paths().home / "kiosk" / "drafts").glob("*/draft.json"))
    assert drafts == []


def test_citizen_lookup_with_the_camera(page: Any, kiosk: Any, sohoa_home: Any) -> None:
    import io
    import json

    import segno
    from PIL import Image

    folder = sohoa_home / "camera"
    folder.mkdir()
    receipt = Image.new("RGB", (1654, 2339), "white")
    png = io.BytesIO()
    segno.make(json.dumps({"ma_ho_so": "000.00.70.H99-991231-0042"}), error="m").save(png, kind="png", scale=10)
    receipt.paste(Image.open(png).convert("RGB"), (120, 120))
    receipt.save(folder / "01-receipt.png", dpi=(200, 200))
    Image.new("RGB", (1654, 2339), "white").save(folder / "02-blank.png", dpi=(200, 200))
    (sohoa_home / "config.yaml").write_text(f"devices:\n  camera:\n    type: files\n    folder: {folder}\n",
                                            encoding="utf-8")
    base = kiosk()
    page.goto(f"{base}/citizen/")
    page.get_by_test_id("citizen-lookup").click()
    page.get_by_test_id("lookup-camera").click()
    expect(page.get_by_test_id("lookup-none")).to_be_visible()  # the QR was read; no such dossier here
    page.get_by_test_id("lookup-camera").click()
    expect(page.get_by_test_id("lookup-no-qr")).to_be_visible()  # a page without a QR: says what to do
    screenshot(page, "37-citizen-lookup-no-qr")
