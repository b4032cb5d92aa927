"""One dossier's whole day at the desk, in Chromium: reception → additional papers (slip) → component
→ result signed by officer and agency → return; page image on the review, checks before the PIN,
and no English on any Vietnamese page of the walk."""

from __future__ import annotations

import json
import re
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import zxingcpp
from PIL import Image
from playwright.sync_api import expect

from tests.support.chromium import ARTIFACTS, screenshot
from tests.ui.test_officer_flow import OWNER, _flash, _login_card, _press

NAME = "Nguyễn Văn Thử"
#: ASCII words of English error texts and UI strings; none may appear on a Vietnamese page.
ENGLISH = ("the", "is", "are", "not", "must", "no", "found", "pages", "page", "declared", "captured", "digits",
           "error", "province", "table", "image", "missing", "invalid", "required", "signature", "dossier",
           "cannot", "already", "result", "empty", "remedy", "check", "date", "owner", "field", "status",
           "received", "returned", "stored", "signed", "search", "submit", "next", "back", "print", "before",
           "after", "of", "and", "with", "without", "reason", "request", "papers", "component")
_WORD = re.compile(r"\b(" + "|".join(ENGLISH) + r")\b", re.IGNORECASE)
_KEY = re.compile(r"\b[a-z]+(?:\.[a-z_]+)+\b")  # an untranslated catalogue key (``dossier.status.x``)
_TEXT_JS = """() => { const b = document.body.cloneNode(true);
  b.querySelectorAll('[data-testid=lang-switch], .mono, script, style, noscript, .hidden').forEach(e => e.remove());
  return b.innerText; }"""


class Walk:
    """Records the visible text of every page of the walk."""

    def __init__(self, page: Any) -> None:
        self.page = page
        self.seen: dict[str, str] = {}

    def look(self, name: str) -> None:
        self.page.wait_for_load_state("load")
        self.seen[f"{name} {self.page.url}"] = self.page.evaluate(_TEXT_JS)
        screenshot(self.page, f"40-walk-{name}")

    def english(self) -> dict[str, list[str]]:
        out = {}
        for where, text in self.seen.items():
            found = _WORD.findall(text) + _KEY.findall(text)
            if found:
                out[where] = found
        return out


def _decode_pdf(pdf: bytes, tmp: Path, name: str) -> tuple[str, dict[str, str]]:
    path = tmp / f"{name}.pdf"
    path.write_bytes(pdf)
    (ARTIFACTS / f"{name}.pdf").write_bytes(pdf)
    text = subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True).stdout
    subprocess.run(["pdftoppm", "-r", "150", "-png", "-singlefile", str(path), str(tmp / name)], check=True)
    img = Image.open(tmp / f"{name}.png")
    codes = zxingcpp.read_barcodes(img)
    assert len(codes) == 1
    pos = codes[0].position
    assert pos.top_left.x < img.width * 0.3 and pos.top_left.y < img.height * 0.2, "QR must sit top-left"
    return text, json.loads(codes[0].text)


def _capture_review_sign(page: Any, walk: Any, component: str, pin: str, name: str, done: str) -> None:
    """Capture one page of ``component``, extract, review (image, checks), confirm the checks, sign."""
    page.wait_for_url(f"**/capture/{component}")
    _press(page, page.get_by_test_id("capture"))
    walk.look(f"{name}-capture")
    page.get_by_test_id("to-review").click()
    page.wait_for_url("**/review", timeout=240_000)
    img = page.get_by_test_id(f"review-page-{component}").first
    expect(img).to_be_visible()
    assert page.evaluate("(i) => i.complete && i.naturalWidth > 0", img.element_handle())  # the page image itself
    walk.look(f"{name}-review")
    if page.locator("[data-testid=check-item][data-level=fix]").count():
        # the paper's birth date contradicts the dossier owner's CCCD: signing is refused until it is fixed
        page.get_by_test_id("review-next").click()
        page.wait_for_url("**/sign")
        page.get_by_test_id("sign-pin").fill(pin)
        _press(page, page.get_by_test_id("sign-submit"))
        assert page.url.endswith("/review") and "Sửa các giá trị" in _flash(page)
        walk.look(f"{name}-fix-refused")
        page.get_by_test_id(f"field-{component}-owner_birth_date").locator("input").fill("14/02/1988")
    page.get_by_test_id("review-next").click()
    page.wait_for_url("**/sign")
    assert page.locator("[data-testid=check-item][data-level=fix]").count() == 0
    page.get_by_test_id("sign-pin").fill(pin)
    if page.get_by_test_id("check-ack").count():
        page.get_by_test_id("check-ack").check()
    walk.look(f"{name}-sign")
    page.get_by_test_id("sign-submit").click()
    page.wait_for_url(done, timeout=240_000)


def test_one_dossier_from_reception_to_return(page: Any, kiosk: Any, dev_token: str, tmp_path: Path) -> None:
    from service.paths import get_paths
    from service.signing.verify import load_trust_roots, verify_pdf
    from service.usecases import dossier

    base = kiosk()
    walk = Walk(page)
    _login_card(page, base, dev_token)
    walk.look("desk")

    # Reception: the owner typed (birth year 1989 while the CCCD encodes 1988), one component.
    page.get_by_test_id("new-dossier").click()
    # the serial QR reader fills the ID card's QR field (the whole CCCD payload), not the bare identifier
    assert page.get_by_test_id("qr-payload").get_attribute("data-qr-fill") == "owner"
    assert page.get_by_test_id("owner-id").get_attribute("data-qr-fill") is None
    page.get_by_test_id("owner-id").fill("999088001234")  # province 999: refused live, in Vietnamese
    expect(page.get_by_test_id("id-feedback")).to_contain_text("Mã tỉnh 999 không có trong bảng 63 tỉnh")
    walk.look("owner-invalid")
    page.get_by_test_id("owner-id").fill(OWNER)
    page.get_by_test_id("owner-name").fill(NAME)
    page.get_by_test_id("owner-birth").fill("14/02/1989")
    page.get_by_test_id("owner-next").click()
    page.get_by_test_id("proc-1.001193").click()
    page.get_by_test_id("comp-GCS").uncheck()
    page.get_by_test_id("comp-GKH").uncheck()
    walk.look("procedure")
    page.get_by_test_id("procedure-next").click()
    walk.look("reuse")
    page.get_by_test_id("reuse-next").click()
    page.wait_for_url("**/capture/TK")
    _press(page, page.get_by_test_id("capture"))
    page.get_by_test_id("to-review").click()
    page.wait_for_url("**/review", timeout=240_000)

    # Review: the page image beside the fields, zoom buttons and click to enlarge; checks before the PIN.
    viewer = page.get_by_test_id("viewer-TK")
    img = page.get_by_test_id("review-page-TK").first
    expect(img).to_be_visible()
    assert page.evaluate("(i) => i.complete && i.naturalWidth > 0", img.element_handle())
    box_img, box_field = img.bounding_box(), page.get_by_test_id("field-TK-document_name").bounding_box()
    assert box_img["x"] + box_img["width"] <= box_field["x"] + 1  # beside the fields, on the left
    width = box_img["width"]
    page.get_by_test_id("zoom-in-TK").click()
    page.get_by_test_id("zoom-in-TK").click()
    assert viewer.get_attribute("data-zoom-level") == "1.5"
    assert img.bounding_box()["width"] > width * 1.4
    img.click()
    expect(viewer).to_have_class(re.compile("enlarged"))
    screenshot(page, "41-review-enlarged")
    page.keyboard.press("Escape")
    expect(viewer).not_to_have_class(re.compile("enlarged"))
    checks = page.get_by_test_id("check-item").all_inner_texts()
    assert any("năm sinh 1988" in c and "14/02/1989" in c for c in checks), checks
    walk.look("review")
    page.get_by_test_id("review-next").click()
    page.wait_for_url("**/sign")
    assert page.get_by_test_id("check-item").count() >= 1
    page.get_by_test_id("sign-pin").fill(dev_token)
    _press(page, page.get_by_test_id("sign-submit"))  # the checks are not confirmed: refused before the PIN
    assert "Xác nhận đã kiểm tra" in _flash(page) and page.url.endswith("/sign")
    walk.look("sign-refused")
    page.get_by_test_id("check-ack").check()
    page.get_by_test_id("sign-pin").fill(dev_token)
    page.get_by_test_id("sign-submit").click()
    page.wait_for_url("**/receipt", timeout=240_000)
    walk.look("receipt")
    code = page.get_by_test_id("dossier-code").inner_text().strip()
    shown = dossier.show(code, paths=get_paths())
    assert shown["owner"] == OWNER and shown["status"] == "in_progress"
    assert [d["kind"] for d in shown["documents"]] == ["component"]

    # Search on the desk: by name without diacritics, by code, by status; a bad date is refused in Vietnamese.
    page.goto(f"{base}/officer/?name=nguyen+van+thu")
    assert page.get_by_test_id("dossier-row-code").all_inner_texts() == [code]
    walk.look("search")
    page.goto(f"{base}/officer/?status=returned")
    assert page.get_by_test_id("dossier-row").count() == 0
    page.goto(f"{base}/officer/?date_from=31/02/2026")
    assert "không phải là ngày có thật" in _flash(page)
    walk.look("search-bad-date")
    today = page.get_by_test_id("dossier-code").count()  # nothing listed with the refused date
    assert today == 0 and page.get_by_test_id("q-from").input_value() == "31/02/2026"
    page.get_by_test_id("q-from").fill(__import__("datetime").date.today().strftime("%d/%m/%Y"))
    page.get_by_test_id("q-code").fill(code[-6:])
    page.get_by_test_id("q-submit").click()
    page.get_by_test_id("dossier-row").click()
    expect(page.get_by_test_id("dossier-status")).to_have_text("Đang giải quyết")
    walk.look("detail")

    # Returning without a result is refused, in Vietnamese.
    _press(page, page.get_by_test_id("return-step"))
    assert "chưa có kết quả" in _flash(page)
    walk.look("return-refused")

    # Additional papers: a request without reason is refused; then with the list and a reason, and its slip.
    page.get_by_test_id("ask-GCS").check()
    _press(page, page.get_by_test_id("papers-submit"))
    assert "lý do" in _flash(page).lower()
    page.get_by_test_id("ask-GCS").check()
    page.get_by_test_id("papers-reason").fill("Thiếu giấy chứng sinh bản chính")
    _press(page, page.get_by_test_id("papers-submit"))
    expect(page.get_by_test_id("dossier-status")).to_have_text("Cần bổ sung")
    walk.look("papers-requested")
    slip = page.request.get(base + page.get_by_test_id("papers-slip").get_attribute("href"))
    assert slip.status == 200 and slip.headers["content-type"] == "application/pdf"
    text, qr = _decode_pdf(slip.body(), tmp_path, "papers-slip")
    assert "PHIẾU YÊU CẦU BỔ SUNG, HOÀN THIỆN HỒ SƠ" in text and "Giấy chứng sinh" in text
    assert "Thiếu giấy chứng sinh bản chính" in text and NAME in text
    assert qr["ma_ho_so"] == code and qr["ma_dinh_danh"] == OWNER

    # The additional paper arrives: reopen, capture it, sign it.
    page.get_by_test_id("reopen").click()
    page.wait_for_url("**/procedure")
    page.get_by_test_id("comp-TK").uncheck()
    page.get_by_test_id("comp-GCS").check()
    page.get_by_test_id("procedure-next").click()
    page.get_by_test_id("reuse-next").click()
    _capture_review_sign(page, walk, "GCS", dev_token, "papers", "**/receipt")
    assert dossier.show(code, paths=get_paths())["status"] == "in_progress"

    # The result: captured, reviewed, signed by the officer, then the agency.
    page.goto(f"{base}/officer/dossiers/{code}")
    page.get_by_test_id("result-step").click()
    page.wait_for_url("**/capture/KQ")
    _capture_review_sign(page, walk, "KQ", dev_token, "result", f"**/officer/dossiers/{code}")
    expect(page.get_by_test_id("dossier-status")).to_have_text("Đã có kết quả")
    walk.look("result-ready")
    shown = dossier.show(code, paths=get_paths())
    assert [d["kind"] for d in shown["documents"]] == ["component", "component", "result"]
    result_pdf = Path(next(d["pdf"] for d in shown["documents"] if d["kind"] == "result")).read_bytes()
    roots = load_trust_roots(get_paths().pki / "dev-trust.pem")
    with ThreadPoolExecutor(1) as pool:  # pyHanko runs its own event loop; Playwright's is running here
        report = pool.submit(verify_pdf, result_pdf, roots).result()
    assert len(report.signatures) == 2 and all(s.valid and s.intact for s in report.signatures)
    assert report.pdfa == "2b"

    # Return, then a second return is refused; the history names every step with its actor and time.
    _press(page, page.get_by_test_id("return-step"))
    assert "Đã ghi nhận trả kết quả" in _flash(page)
    expect(page.get_by_test_id("dossier-status")).to_have_text("Đã trả kết quả")
    walk.look("returned")
    assert page.get_by_test_id("return-step").count() == 0
    history = [r.get_attribute("data-status") for r in page.get_by_test_id("history-row").all()]
    assert history == ["received", "in_progress", "additional_papers_requested", "in_progress", "result_ready",
                       "returned"]
    assert all(re.fullmatch(r"\d\d/\d\d/\d{4} \d\d:\d\d", t) for t in
               page.locator("[data-testid=history-row] td:first-child").all_inner_texts())
    actors = page.get_by_test_id("history-actor").all_inner_texts()
    assert all(a.startswith("Cán bộ") and "card-" in a for a in actors), actors  # the officer's card id
    resp = page.request.post(f"{base}/officer/dossiers/{code}/return",
                             form={"csrf_token": page.locator("body").get_attribute("data-csrf")})
    assert resp.ok and "đã trả kết quả, không thể thay đổi" in resp.text()  # back on the detail, refused
    assert dossier.show(code, paths=get_paths())["status"] == "returned"

    # The receipt can be reprinted from the detail.
    pdf = page.request.get(base + page.get_by_test_id("reprint-receipt").get_attribute("href"))
    assert pdf.status == 200 and b"%PDF" in pdf.body()[:8]

    assert len(walk.seen) >= 20
    assert walk.english() == {}
    # The scan is not blind: the same detail page in English is caught.
    page.get_by_test_id("lang-switch").click()
    english = Walk(page)
    english.look("detail-en")
    assert english.english()
