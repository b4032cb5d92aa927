"""Citizen self-service in Chromium: several papers per ticket, the idle warning, the on-screen
keypad and the dossier statuses in plain words; no officer tool on a citizen page."""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any

from playwright.sync_api import expect

from service.paths import get_paths
from service.store.store import Store
from service.usecases import dossier as dossier_uc
from tests.support.chromium import screenshot

OWNER = "036088001234"
OFFICER_LINKS = re.compile(r"/(officer|technician|login)\b")


def _begin_scan(page: Any, base: str) -> None:
    page.goto(f"{base}/citizen/")
    page.get_by_test_id("citizen-scan").click()
    page.wait_for_url(f"{base}/citizen/scan")


def _capture(page: Any) -> None:
    with page.expect_navigation():
        page.get_by_test_id("capture").click()


def _no_officer_tools(page: Any, *, capture: bool = True) -> None:
    hrefs = page.eval_on_selector_all("a[href], form[action]", "els => els.map(e => e.href || e.action)")
    assert not [h for h in hrefs if OFFICER_LINKS.search(h)], hrefs
    if not capture:
        return
    for testid in ("capture-sticky", "who"):
        loc = page.get_by_test_id(testid)
        assert loc.count() == 0 or not loc.first.is_visible(), testid
    assert not page.locator(".page-meta small").first.is_visible()  # dpi and pixel sizes: desk details


def test_several_papers_per_ticket(page: Any, kiosk: Any) -> None:
    base = kiosk()
    _begin_scan(page, base)
    page.get_by_test_id("citizen-pick-next").click()  # nothing ticked
    expect(page.locator(".flash.error")).to_contain_text("ít nhất một giấy tờ")
    page.get_by_test_id("pick-1.001193-TK").check()
    page.get_by_test_id("pick-1.000894-XNTTHN").check()  # two procedures on one ticket: refused, nothing lost
    page.get_by_test_id("citizen-pick-next").click()
    expect(page.locator(".flash.error")).to_contain_text("một thủ tục")
    page.get_by_test_id("pick-1.001193-TK").check()
    page.get_by_test_id("pick-1.001193-GCS").check()
    page.get_by_test_id("citizen-pick-next").click()
    page.wait_for_url("**/citizen/capture/TK")
    _capture(page)
    expect(page.get_by_test_id("ticket-paper-TK")).to_contain_text("1 trang")
    expect(page.get_by_test_id("ticket-paper-GCS")).to_contain_text("chưa chụp")
    _no_officer_tools(page)
    screenshot(page, "40-citizen-ticket-papers")
    page.get_by_test_id("capture-paper-GCS").click()
    page.wait_for_url("**/citizen/capture/GCS")
    _capture(page)

    # one more paper of the same procedure: the papers already captured stay ticked and kept
    page.get_by_test_id("citizen-add-paper").click()
    page.wait_for_url("**/citizen/scan")
    expect(page.get_by_test_id("pick-1.001193-TK")).to_be_checked()
    assert page.get_by_test_id("pick-proc-1.000894").count() == 0  # other procedures are not offered now
    page.get_by_test_id("pick-1.001193-GKH").check()
    page.get_by_test_id("citizen-pick-next").click()
    page.wait_for_url("**/citizen/capture/GKH")
    expect(page.get_by_test_id("ticket-paper-TK")).to_contain_text("1 trang")
    expect(page.get_by_test_id("ticket-paper-GCS")).to_contain_text("1 trang")
    _capture(page)
    page.get_by_test_id("citizen-submit").click()
    expect(page.get_by_test_id("submitted-papers").locator("li")).to_have_count(3)
    assert len(page.get_by_test_id("ticket").inner_text().strip()) == 6
    screenshot(page, "41-citizen-ticket-three-papers")


def test_idle_warning_asks_for_more_time_then_ends_the_session(page: Any, kiosk: Any) -> None:
    base = kiosk(citizen_idle_timeout_s=6)  # the warning shows 2 s before the end
    _begin_scan(page, base)
    page.get_by_test_id("pick-1.000894-XNTTHN").check()
    start = time.monotonic()  # the last touch
    page.get_by_test_id("citizen-pick-next").click()
    page.wait_for_url("**/capture/XNTTHN")
    warning = page.get_by_test_id("idle-warning")
    expect(warning).to_be_visible(timeout=10_000)
    assert time.monotonic() - start >= 3.0  # not before the citizen was idle for a while
    expect(warning).to_contain_text("Bạn cần thêm thời gian?")
    expect(page.get_by_test_id("idle-count")).to_contain_text("giây")
    screenshot(page, "42-citizen-idle-warning")
    page.get_by_test_id("idle-more").click()
    expect(warning).to_be_hidden()
    page.wait_for_timeout(3_000)  # past the original limit: the server was told the citizen is still here
    assert "/capture/XNTTHN" in page.url
    page.reload()
    assert "/capture/XNTTHN" in page.url
    # nobody answers this time: the session ends and the draft is discarded
    expect(page.get_by_test_id("citizen-ended")).to_be_visible(timeout=15_000)
    assert list((get_paths().home / "kiosk" / "drafts").glob("*/draft.json")) == []


def _dossier(status_path: tuple[str, ...], *, components: tuple[str, ...] = ()) -> str:
    rec = dossier_uc.open_dossier("1.001193", OWNER)
    if status_path and status_path[0] == "additional_papers_requested":
        dossier_uc.request_papers(rec.id, "Thiếu bản chính", components)
        return rec.id
    with Store.open(get_paths()) as store:
        before = "received"
        for status in status_path:
            store.set_dossier_status(rec.id, status, expected=before, actor="test")
            before = status
    return rec.id


def test_lookup_with_the_keypad_shows_statuses_a_citizen_understands(page: Any, kiosk: Any,
                                                                     sohoa_home: Path) -> None:
    received = _dossier(())
    papers = _dossier(("additional_papers_requested",), components=("GCS", "GKH"))
    ready = _dossier(("in_progress", "result_ready"))
    returned = _dossier(("in_progress", "result_ready", "returned"))
    base = kiosk()
    page.goto(f"{base}/citizen/")
    page.get_by_test_id("citizen-lookup").click()
    box = page.get_by_test_id("lookup-code")
    assert box.get_attribute("data-qr-fill") == "lookup"  # the serial QR reader fills this field
    _no_officer_tools(page, capture=False)

    page.get_by_test_id("key-unit").click()  # the office's unit code, then the digits on the keypad
    for ch in received.split("-", 1)[1].split("-")[0] + "-" + "9":
        page.get_by_test_id("key-dash" if ch == "-" else f"key-{ch}").click()
    page.get_by_test_id("key-back").click()
    for ch in received.rsplit("-", 1)[1]:
        page.get_by_test_id(f"key-{ch}").click()
    assert box.input_value() == received
    screenshot(page, "43-citizen-keypad")
    with page.expect_navigation():
        page.get_by_test_id("lookup-submit").click()
    expect(page.get_by_test_id("lookup-state")).to_have_text("Đang giải quyết")
    assert re.fullmatch(r"\d\d/\d\d/\d{4}", page.get_by_test_id("lookup-return").inner_text())
    assert OWNER not in page.content()  # no identifier on the citizen's screen

    expected = {papers: "Cần bổ sung", ready: "Đã có kết quả", returned: "Đã trả kết quả"}
    for code, text in expected.items():
        page.get_by_test_id("key-clear").click()
        assert box.input_value() == ""
        box.fill(code)
        with page.expect_navigation():
            page.get_by_test_id("lookup-submit").click()
        expect(page.get_by_test_id("lookup-state")).to_have_text(text)
        if code == papers:
            expect(page.get_by_test_id("lookup-requested").locator("li")).to_have_text(
                ["Giấy chứng sinh", "Giấy chứng nhận kết hôn của cha mẹ"])
            assert "Thiếu bản chính" not in page.content()  # the officer's free-text reason stays at the desk
            screenshot(page, "44-citizen-needs-papers")
        if code == ready:
            expect(page.get_by_test_id("lookup-hint")).to_contain_text("nhận kết quả")

