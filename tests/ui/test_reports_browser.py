"""Supervisor's monthly report in Chromium: chart visible, numbers of a known month, XLSX download; officers refused."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from playwright.sync_api import expect

from tests.reports.activity import MONTH, build_known_activity
from tests.reports.test_report_month import check_csv, check_xlsx
from tests.support.chromium import screenshot
from tests.ui.test_technician_browser import _login


def test_supervisor_reads_the_month_and_downloads_it(page: Any, kiosk: Any, sohoa_home: Path, tmp_path: Path) -> None:
    build_known_activity(sohoa_home)
    base = kiosk()
    _login(page, base, "giamsat", "giamsat-dev", "/officer/")
    page.get_by_test_id("nav-reports").click()
    page.wait_for_url(f"{base}/reports/")
    page.get_by_test_id("report-month").fill(MONTH)
    page.get_by_test_id("report-show").click()
    page.wait_for_url(f"{base}/reports/?month={MONTH}")
    expect(page.get_by_test_id("report-period")).to_have_text("Tháng 03/2027 (từ ngày 01/03/2027 đến ngày 31/03/2027)")
    for chart in ("chart-ratios", "chart-office", "chart-officer", "chart-procedure"):
        expect(page.get_by_test_id(chart)).to_be_visible()
    assert page.get_by_test_id("chart-office").locator("rect.chart-bar").count() == 2 * 4  # 2 offices x 4 series
    box = page.get_by_test_id("chart-office").bounding_box()
    assert box is not None and box["width"] > 300 and box["height"] > 80
    for dim in ("office", "officer", "procedure"):
        cells = page.get_by_test_id(f"total-{dim}").locator("td").all_inner_texts()
        assert [c.strip() for c in cells] == ["Tổng cộng", "", "3", "4", "3", "1", "1", "3", "2", "1",
                                              "66,7%", "75,0%", "20,0%"], dim
    rows = page.get_by_test_id("table-procedure").locator("tbody tr").all_inner_texts()
    assert rows[0].split("\t")[:4] == ["1.000894", "Đăng ký kết hôn", "1", "1"]
    officers = page.get_by_test_id("table-officer").locator("tbody tr").all_inner_texts()
    assert [r.split("\t")[0] for r in officers] == ["canbo-a", "canbo-b", "Tổng cộng"]
    content = page.content()
    for english in ("Monthly", "Download", "Show report"):
        assert english not in content
    screenshot(page, "60-reports-month")

    with page.expect_download() as info:
        page.get_by_test_id("download-xlsx").click()
    download = info.value
    assert download.suggested_filename == "bao-cao-so-hoa-2027-03.xlsx"
    saved = tmp_path / download.suggested_filename
    download.save_as(saved)
    check_xlsx(saved)
    for fmt in ("csv", "html"):  # the other two buttons, fetched with the same session
        href = page.get_by_test_id(f"download-{fmt}").get_attribute("href")
        resp = page.request.get(f"{base}{href}")
        assert resp.status == 200 and f'filename="bao-cao-so-hoa-2027-03.{fmt}"' in resp.headers["content-disposition"]
        (tmp_path / f"r.{fmt}").write_bytes(resp.body())
    check_csv(tmp_path / "r.csv")
    html = (tmp_path / "r.html").read_text(encoding="utf-8")
    assert html.count("<svg") == 4 and "<script" not in html and "Tổng cộng" in html

    # a month with nothing in it still shows the page (zeros, undefined ratios as "—")
    page.goto(f"{base}/reports/?month=2027-06")
    cells = page.get_by_test_id("total-office").locator("td").all_inner_texts()
    assert [c.strip() for c in cells][2:] == ["0"] * 8 + ["—"] * 3
    resp = page.goto(f"{base}/reports/?month=2027-13")
    assert resp is not None and resp.status == 400 and "Tháng không hợp lệ" in page.content()


def test_officer_is_refused_the_report(page: Any, kiosk: Any) -> None:
    base = kiosk()
    resp = page.goto(f"{base}/reports/")
    assert resp is not None and page.url.startswith(f"{base}/login")  # not signed in: the login screen
    _login(page, base, "canbo", "canbo-dev", "/officer/")
    assert page.get_by_test_id("nav-reports").count() == 0
    for path in ("/reports/", f"/reports/download.xlsx?month={MONTH}"):
        resp = page.goto(f"{base}{path}")
        assert resp is not None and resp.status == 403, path
