"""The desk's reuse step in Chromium: per component only papers of its expected types, local ones
with their first page, the province's saved answer with its age when the province cannot be reached."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import yaml
from playwright.sync_api import expect

from province_gateway.local.broker import free_port
from service.paths import get_paths
from service.store.store import Store
from tests.support.chromium import screenshot
from tests.support.papers import add_paper
from tests.ui.test_officer_flow import OWNER, _login_card, _owner_step

MARRIAGE = "KQ.G15.000035"  # the catalogue's expected type of component GKH of procedure 1.001193


def _paper(store: Store, i: int, doc_type: str, name: str, owner: str = OWNER) -> str:
    return add_paper(store, i, doc_type, name, owner, issued=f"2015-09-0{i}")


def test_reuse_step_offers_only_matching_types_with_preview_and_cache_age(page: Any, kiosk: Any, dev_token: str,
                                                                         sohoa_home: Path) -> None:
    paths = get_paths(sohoa_home).ensure()
    # the station is linked to a province whose broker is down (nothing listens on the port)
    paths.config.write_text(yaml.safe_dump({"sync": {"enabled": True, "tls": False, "broker_port": free_port()}}))
    answered = dt.datetime.now(dt.UTC) - dt.timedelta(hours=2)
    with Store.open(paths) as store:
        marriage = _paper(store, 1, MARRIAGE, "Giấy chứng nhận kết hôn")
        birth = _paper(store, 2, "KQ.G15.000031", "Giấy khai sinh")
        form = _paper(store, 3, "1.001193.TK.01", "Tờ khai đăng ký khai sinh")
        other = _paper(store, 4, MARRIAGE, "Giấy chứng nhận kết hôn", owner="001099012345")
        hit = {"MaKetQua": f"{OWNER}.{MARRIAGE}.09", "TenGiayTo": "Giấy chứng nhận kết hôn (tỉnh)", "SoKyHieu": "12/KH",
               "CoQuanChuQuan": "UBND tỉnh", "Nguon": "kho-tinh", "MaLoaiGiayTo": MARRIAGE, "NgayBanHanh": "2012-05-04",
               "DanhSachTepDinhKem": [{"TenTep": "kh.pdf", "DuongDan": "sohoa://70/files/ab"}]}
        store.cache_reuse_answer(OWNER, MARRIAGE, json.dumps([hit]), answered.isoformat(timespec="microseconds"))

    base = kiosk()
    _login_card(page, base, dev_token)
    page.get_by_test_id("new-dossier").click()
    _owner_step(page)
    page.get_by_test_id("proc-1.001193").click()
    page.get_by_test_id("comp-GKH").check()  # the parents' marriage certificate (optional component)
    page.get_by_test_id("procedure-next").click()
    page.wait_for_url("**/reuse")

    assert page.get_by_test_id("reuse-province").get_attribute("data-state") in ("skipped", "offline")
    gkh = page.get_by_test_id("reuse-comp-GKH")
    items = gkh.locator(".reuse-item")
    expect(items).to_have_count(2)
    assert [items.nth(i).get_attribute("data-code") for i in range(2)] == [marriage, f"{OWNER}.{MARRIAGE}.09"]
    assert [items.nth(i).get_attribute("data-source") for i in range(2)] == ["local", "cache"]
    thumb = items.nth(0).get_by_test_id("reuse-thumb")
    expect(thumb).to_have_js_property("complete", True)
    assert thumb.evaluate("img => img.naturalWidth") == 64  # the paper's first page image
    assert items.nth(0).get_by_test_id("reuse-date").inner_text() == "01/09/2015"
    local_at = answered.astimezone(dt.timezone(dt.timedelta(hours=7)))
    assert items.nth(1).get_by_test_id("reuse-age").inner_text() == f"cập nhật lúc {local_at:%d/%m/%Y %H:%M}"
    assert "12/KH" in items.nth(1).inner_text() and "UBND tỉnh" in items.nth(1).inner_text()

    tk = page.get_by_test_id("reuse-comp-TK").locator(".reuse-item")
    expect(tk).to_have_count(1)
    assert tk.first.get_attribute("data-code") == form  # the form only; not the certificates
    expect(page.get_by_test_id("reuse-none-GCS")).to_be_visible()
    assert birth not in page.content() and other not in page.content()
    screenshot(page, "30-reuse-by-type")

    pdf = page.request.get(f"{base}/officer/reuse/d/{page.url.split('/d/')[1].split('/')[0]}/{marriage}/pdf")
    assert pdf.status == 200 and pdf.headers["content-type"] == "application/pdf" and pdf.body().startswith(b"%PDF")
    draft_id = page.url.split("/d/")[1].split("/")[0]
    assert page.request.get(f"{base}/officer/reuse/d/{draft_id}/{other}/page").status == 404  # another owner's

    # a paper that was not offered (another owner's) is refused with a Vietnamese message; nothing changes
    token = page.evaluate("() => document.body.dataset.csrf")
    forged = page.request.post(f"{base}/officer/d/{draft_id}/reuse", form={"csrf_token": token, "reuse_GKH": other})
    assert forged.status == 200 and "không còn trong danh sách đề xuất" in forged.text()

    page.get_by_test_id("reuse-GKH-1").check()
    page.get_by_test_id("reuse-next").click()
    page.wait_for_url("**/capture/TK")
    page.goto(f"{base}/officer/d/{draft_id}/reuse")
    expect(page.get_by_test_id("reuse-GKH-1")).to_be_checked()
    expect(page.get_by_test_id("reuse-TK-new")).to_be_checked()
