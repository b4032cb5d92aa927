"""The province view in Chromium: the device that sent telemetry, the document that arrived, look-ups."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from province_gateway.db import register_device
from tests.province_web.lab import (
    DEVICE_A,
    DEVICE_B,
    DOSSIER,
    OFFICE_A,
    OWNER,
    PASSWORDS,
    PROVINCE,
    Ingest,
)
from tests.support.chromium import screenshot


def _login(page: Any, base: str, user: str) -> None:
    page.goto(f"{base}/")
    assert "/login" in page.url
    page.get_by_test_id("username").fill(user)
    page.get_by_test_id("password").fill(PASSWORDS[user])
    page.get_by_test_id("login").click()


def _logout(page: Any) -> None:
    page.get_by_test_id("logout").click()
    page.wait_for_url("**/login")


def test_admin_sees_the_device_that_sent_telemetry_and_the_document_that_arrived(
        page: Any, ingest: Ingest, replica: Callable[..., str]) -> None:
    ingest.telemetry(DEVICE_A, queue=3, disk_free_bytes=12_345_678_901, cpu_temp_c=51.5,
                     last_sync_success_ts=int(time.time()) - 125, oldest_queued_age_s=40,
                     software_version="0.14.0", model_versions="rec-asternet-int8@1a2b3c4d")
    ingest.telemetry(DEVICE_B, documents=1)  # an older device: none of the new keys
    ingest.document(DEVICE_A, "doc-a-1")
    register_device(ingest.dsn, "dev-c-0003", PROVINCE, OFFICE_A)  # enrolled, never heard of
    base = replica()
    _login(page, base, "tinh")
    page.wait_for_url("**/devices")
    row = page.get_by_test_id(f"device-{DEVICE_A}")
    assert OFFICE_A in row.inner_text()
    assert row.get_by_test_id("queue").inner_text() == "3"
    assert row.get_by_test_id("temp").inner_text() == "51,5 °C"
    assert row.get_by_test_id("disk").inner_text() == "12,3 GB"
    assert row.get_by_test_id("software").inner_text() == "0.14.0"
    assert row.get_by_test_id("lag").inner_text().startswith("2 phút")
    assert "/" in row.get_by_test_id("last-seen").inner_text()  # dd/mm/yyyy HH:MM
    old = page.get_by_test_id(f"device-{DEVICE_B}")
    for cell in ("queue", "temp", "disk", "software", "lag"):
        assert old.get_by_test_id(cell).inner_text() == "—", cell
    silent = page.get_by_test_id("device-dev-c-0003")
    assert silent.get_by_test_id("last-seen").inner_text() == "—" and OFFICE_A in silent.inner_text()
    screenshot(page, "province-devices")
    page.get_by_test_id("nav-documents").click()
    today = time.strftime("%Y-%m-%d", time.gmtime(time.time() + 7 * 3600))
    cells = page.get_by_test_id(f"count-{OFFICE_A}-{today}").locator("td").all_inner_texts()
    d, m, y = today[8:], today[5:7], today[:4]
    assert cells == [f"{d}/{m}/{y}", OFFICE_A, "1", "1", "0", "1"], cells
    assert page.get_by_test_id("total").inner_text() == "1"
    page.get_by_test_id("from").fill("31/02/2026")
    page.get_by_test_id("show").click()
    assert "không có trên lịch" in page.get_by_test_id("error").inner_text()
    screenshot(page, "province-documents-bad-date")


def test_officer_of_another_office_is_refused_and_the_refusal_is_logged(
        page: Any, ingest: Ingest, replica: Callable[..., str]) -> None:
    ingest.document(DEVICE_A, "doc-a-1", kind="1", result_code="KQ.70.001", name="Giấy chứng nhận")
    ingest.dossier(OFFICE_A, DOSSIER)
    base = replica()
    _login(page, base, "motcua-b")
    page.wait_for_url("**/lookup")
    page.get_by_test_id("owner").fill(OWNER)
    page.get_by_test_id("dossier").fill(DOSSIER)
    page.get_by_test_id("lookup").click()
    assert "không giữ hồ sơ" in page.get_by_test_id("error").inner_text()
    assert page.get_by_test_id("papers").count() == 0
    screenshot(page, "province-lookup-refused")
    _logout(page)
    _login(page, base, "motcua-a")
    page.get_by_test_id("owner").fill(OWNER)
    page.get_by_test_id("dossier").fill(DOSSIER)
    page.get_by_test_id("lookup").click()
    assert page.get_by_test_id("hits").inner_text() == "1 giấy tờ."
    assert "Giấy chứng nhận" in page.get_by_test_id("papers").inner_text()
    screenshot(page, "province-lookup-answered")
    _logout(page)
    ingest.device_lookup(DEVICE_B)  # office B's box asks over MQTT: refused by the same rule
    _login(page, base, "kiemtoan")
    page.get_by_test_id("nav-lookups").click()
    outcomes = page.get_by_test_id("outcome").all_inner_texts()
    assert outcomes == ["Đã trả lời", "Từ chối: đơn vị không giữ hồ sơ"], outcomes
    device_rows = page.get_by_test_id("device-lookup-row").all_inner_texts()
    assert len(device_rows) == 1 and DEVICE_B in device_rows[0] and "không giữ hồ sơ" in device_rows[0]
    screenshot(page, "province-lookup-log")
    assert OWNER not in page.content()  # the auditor sees the identifier masked
    assert "Cán bộ một cửa" in page.get_by_test_id("lookups").inner_text()
    assert [r[1:] for r in ingest.lookup_rows()] == [
        ("motcua-b", "000.00.70.H02", DOSSIER, OWNER, "page", 0, "not-authorised"),
        ("motcua-a", OFFICE_A, DOSSIER, OWNER, "page", 1, "answered")]
