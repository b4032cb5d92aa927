"""Technician page and self-test; supervisor catalogue import (bad file refused, good one active)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from playwright.sync_api import expect

from tests.support.chromium import screenshot


def _login(page: Any, base: str, user: str, password: str, landing: str) -> None:
    page.goto(f"{base}/login")
    page.get_by_test_id("username").fill(user)
    page.get_by_test_id("password").fill(password)
    page.get_by_test_id("password-login").click()
    page.wait_for_url(f"{base}{landing}")


def test_technician_page_and_self_test(page: Any, kiosk: Any, dev_token: str) -> None:
    base = kiosk()
    _login(page, base, "kythuat", "kythuat-dev", "/technician/")
    content = page.content()
    for text in ("Thiết bị", "Hàng đợi đồng bộ", "Dung lượng trống", "Mô hình và phiên bản", "Lỗi gần đây",
                 "camera", "token officer", "onnxruntime", "rec-asternet"):
        assert text in content, text
    assert page.get_by_test_id("queue-depth").inner_text().strip() == "0"
    screenshot(page, "40-technician")
    page.get_by_test_id("lang-switch").click()
    assert "Run self-test" in page.content() and "Sync queue" in page.content()
    screenshot(page, "40b-technician-en")
    page.get_by_test_id("lang-switch").click()
    page.get_by_test_id("selftest").click()
    results = page.get_by_test_id("job-results")
    results.wait_for(state="visible", timeout=120_000)
    text = results.inner_text()
    assert "camera: OK" in text and "store: OK" in text and "token officer: OK" in text
    page.wait_for_timeout(500)  # let the progress bar finish its animation before the screenshot
    screenshot(page, "41-technician-selftest")
    # Officer pages are closed to the technician.
    resp = page.goto(f"{base}/officer/")
    assert resp is not None and resp.status == 403


def test_supervisor_imports_catalogue(page: Any, kiosk: Any, tmp_path: Path) -> None:
    base = kiosk()
    _login(page, base, "giamsat", "giamsat-dev", "/officer/")
    page.goto(f"{base}/officer/catalogue")
    bad = tmp_path / "bad.csv"
    bad.write_text("field_code,field_name\nHT,Hộ tịch\n", encoding="utf-8")
    page.get_by_test_id("catalogue-file").set_input_files(str(bad))
    page.get_by_test_id("catalogue-import").click()
    expect(page.locator(".flash.error")).to_contain_text("missing columns")
    assert "Đăng ký khai sinh" in page.content()  # the old catalogue is kept
    screenshot(page, "42-catalogue-refused")
    good = tmp_path / "catalogue.csv"
    good.write_text(
        "field_code,field_name,procedure_code,procedure_name,return_days,component_code,component_name,pages,required\n"
        "DD,Đất đai,1.004227,Đăng ký biến động quyền sử dụng đất,10,DDK,Đơn đăng ký biến động,1,1\n"
        "DD,Đất đai,1.004227,Đăng ký biến động quyền sử dụng đất,10,GCN,Giấy chứng nhận đã cấp,4,1\n",
        encoding="utf-8")
    page.get_by_test_id("catalogue-file").set_input_files(str(good))
    page.get_by_test_id("catalogue-import").click()
    expect(page.locator(".flash.ok")).to_contain_text("1 thủ tục")
    assert "Đăng ký biến động quyền sử dụng đất" in page.content()
    assert "Đăng ký khai sinh" not in page.content()
    screenshot(page, "43-catalogue-imported")


def test_officer_cannot_import_catalogue(page: Any, kiosk: Any) -> None:
    base = kiosk()
    _login(page, base, "canbo", "canbo-dev", "/officer/")
    resp = page.goto(f"{base}/officer/catalogue")
    assert resp is not None and resp.status == 403
