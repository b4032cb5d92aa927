"""Unit tests of the kiosk's own parts: i18n, catalogue import, drafts, desk rules, receipt PDF, sessions."""

from __future__ import annotations

import datetime as dt
import io
import json
import subprocess
import time
from pathlib import Path

import pytest
import zxingcpp
from PIL import Image

from kiosk_ui.i18n import catalogue as messages
from kiosk_ui.i18n import missing_keys, translate
from kiosk_ui.security import SessionRegistry
from service.desk.drafts import Draft, DraftStore
from service.errors import InputError, NotFoundError, ValidationError
from service.procedures import catalogue as procedure_catalogue
from service.procedures.catalogue import Component, Procedure
from service.receipts.render import Receipt, ReceiptLine, qr_payload, render_receipt
from service.usecases import kiosk_desk

SAMPLE = Path(__file__).resolve().parents[2] / "kiosk_ui" / "data" / "catalogue.sample.json"
VN = dt.timezone(dt.timedelta(hours=7))


def _page(dpi: int = 200, size: tuple[int, int] = (1654, 2339)) -> bytes:
    img = Image.new("RGB", size, "white")
    for y in range(200, 1200, 40):
        img.paste((20, 20, 120), (150, y, 1400, y + 12))
    buf = io.BytesIO()
    img.save(buf, format="PNG", dpi=(dpi, dpi))
    return buf.getvalue()


def test_every_message_has_both_languages() -> None:
    assert missing_keys() == []
    assert len(messages()) > 150
    assert translate("capture.counter", "vi", n=1, d=2) == "Đã chụp 1 / 2 trang"
    assert translate("capture.counter", "en", n=1, d=2) == "1 of 2 pages captured"
    assert translate("capture.counter", "en", n=1) == "1 of  pages captured"  # a missing parameter never crashes
    for key, entry in messages().items():  # every message is a well-formed format string
        for lang in ("vi", "en"):
            assert "{" not in entry[lang].format_map(_Params()), (key, lang)


class _Params(dict):  # type: ignore[type-arg]
    """Fills any ``{name}`` so a leftover brace means a malformed message."""

    def __missing__(self, key: str) -> str:
        return "x"


def test_templates_use_only_known_message_keys() -> None:
    import re

    root = Path(__file__).resolve().parents[2] / "kiosk_ui"
    used = set()
    for f in [*root.rglob("*.html"), *root.rglob("*.py")]:
        used |= set(re.findall(r"\bt\(['\"]([a-z_]+\.[a-z_.0-9]+)['\"]\s*[,)]", f.read_text(encoding="utf-8")))
    assert sorted(used - set(messages())) == []


def test_sample_catalogue_parses_and_round_trips(tmp_path: Path) -> None:
    cat = procedure_catalogue.parse_catalogue(SAMPLE.read_bytes(), SAMPLE.name)
    proc = cat.procedure("1.001193")
    assert proc.name == "Đăng ký khai sinh" and proc.component("TK").required
    active = tmp_path / "catalogue.json"
    raw = json.dumps(procedure_catalogue.to_json(cat)).encode()
    again = procedure_catalogue.import_catalogue(raw, "x.json", active)
    assert again == cat
    with pytest.raises(NotFoundError):
        cat.procedure("9.999999")


@pytest.mark.parametrize(("raw", "name", "needle"), [
    (b"\xff\xfe\x00garbage", "c.json", "not UTF-8"),
    (b'{"fields": [', "c.json", "line 1"),
    (b'{"fields": []}', "c.json", "no fields"),
    (b'{"fields": [{"code": "A", "name": "A", "procedures": [{"code": "1", "name": "P", "components": []}]}]}',
     "c.json", "non-empty 'components'"),
    ("field_code,field_name,procedure_code,procedure_name,return_days,component_code,component_name,pages,required\n"
     "HT,Hộ tịch,1.1,P,abc,TK,Tờ khai,1,1\n".encode(), "c.csv", "whole number"),
    (b"a,b\n1,2\n", "c.csv", "missing columns"),
])
def test_bad_catalogue_is_refused_and_keeps_the_old_one(tmp_path: Path, raw: bytes, name: str, needle: str) -> None:
    active = tmp_path / "catalogue.json"
    procedure_catalogue.import_catalogue(SAMPLE.read_bytes(), "sample.json", active)
    before = active.read_bytes()
    with pytest.raises(InputError) as err:
        procedure_catalogue.import_catalogue(raw, name, active)
    assert needle in err.value.message
    assert active.read_bytes() == before


def _draft_with_component(tmp_path: Path) -> tuple[DraftStore, Draft]:
    store = DraftStore(tmp_path / "drafts")
    d = store.create("officer", "officer:test")
    proc = Procedure("1.001193", "Đăng ký khai sinh", 1, (Component("TK", "Tờ khai", 2, True),))
    kiosk_desk.set_procedure(store, d, proc, ["TK"], {"TK": "2"})
    return store, d


def test_capture_rules_in_drafts(tmp_path: Path) -> None:
    store, d = _draft_with_component(tmp_path)
    assert store.add_page(d, "TK", _page()).accepted
    fb = store.add_page(d, "TK", _page(dpi=100, size=(800, 1100)))
    assert not fb.accepted and "dpi" in fb.message and fb.remedy
    fb = store.add_page(d, "TK", b"not an image at all")
    assert not fb.accepted
    fb = store.add_page(d, "TK", _page()[:3000])  # truncated PNG
    assert not fb.accepted
    assert len(d.components[0].pages) == 1  # refusals lost nothing, added nothing
    dup = store.add_page(d, "TK", _page())
    assert not dup.accepted and dup.kind == "duplicate"  # the very same image again: refused
    assert store.add_page(d, "TK", _page(dpi=300), sticky=True).accepted
    assert not store.add_page(d, "TK", _page(dpi=301), sticky=True).accepted
    reloaded = store.get(d.id)
    comp = reloaded.components[0]
    assert comp.content_pages == 1 and comp.pages[1].sticky_of == comp.pages[0].sha256
    store.delete_page(reloaded, "TK", 0)  # the sticky re-capture goes with its page
    assert store.get(d.id).components[0].pages == []


def test_owner_rules(tmp_path: Path) -> None:
    store, d = _draft_with_component(tmp_path)
    assert kiosk_desk.check_owner("036088001234").ok
    bad = kiosk_desk.check_owner("0360880012")
    assert not bad.ok and bad.message_key == "owner.invalid"
    tax = kiosk_desk.check_owner("0100109106")
    assert tax.ok and tax.message_key == "owner.ok_tax_code"
    assert not kiosk_desk.check_owner("0100109107").ok  # wrong check digit
    with pytest.raises(ValidationError):
        kiosk_desk.set_owner(store, d, "", "Nguyễn Văn A", "")
    kiosk_desk.set_owner(store, d, "", "Nguyễn  Văn A", "09/8/2022")
    assert d.owner_birth_date == "2022-08-09" and d.owner_name == "Nguyễn Văn A"


def test_working_days() -> None:
    assert kiosk_desk.add_working_days(dt.date(2026, 11, 20), 1) == dt.date(2026, 11, 23)  # Friday -> Monday
    assert kiosk_desk.add_working_days(dt.date(2026, 11, 23), 0) == dt.date(2026, 11, 23)


def test_receipt_pdf_has_vietnamese_text_and_top_left_qr(tmp_path: Path) -> None:
    now = dt.datetime(2026, 11, 23, 9, 5, tzinfo=VN)
    lines = (ReceiptLine("Tờ khai đăng ký khai sinh", 1, False, "036088001234.1.001193.TK.01"),
             ReceiptLine("Giấy chứng sinh", 1, True, "036088001234.1.001193.GCS.02"))
    r = Receipt("000.00.70.H99-261123-0007", "1.001193", "Đăng ký khai sinh", "036088001234", "Trần Thị Ví Dụ",
                "UBND xã Thử Nghiệm", "Hệ thống số hóa một cửa sohoa-edge", "Cán bộ Thử Nghiệm", now, now,
                dt.date(2026, 11, 24), lines)
    path = tmp_path / "r.pdf"
    path.write_bytes(render_receipt(r))
    text = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True, check=True).stdout
    for s in ("GIẤY TIẾP NHẬN HỒ SƠ VÀ HẸN TRẢ KẾT QUẢ", "Trần Thị Ví Dụ", "ngày 24/11/2026", "tái sử dụng",
              "09 giờ 05 phút"):
        assert s in text, s
    fonts = subprocess.run(["pdffonts", str(path)], capture_output=True, text=True, check=True).stdout
    rows = [ln.split() for ln in fonts.splitlines()[2:] if ln.strip()]
    assert rows and all("LiberationSerif" in r[0] and r[-5] == "yes" for r in rows), fonts  # all embedded
    subprocess.run(["pdftoppm", "-r", "120", "-png", "-singlefile", str(path), str(tmp_path / "r")], check=True)
    (found,) = zxingcpp.read_barcodes(Image.open(tmp_path / "r.png"))
    data = json.loads(found.text)
    assert data == json.loads(qr_payload(r))
    assert data["ngay_hen_tra"] == "2026-11-24" and data["thoi_gian_xuat_ban"] == "2026-11-23T09:05:00+07:00"
    assert found.position.top_left.x < 200 and found.position.top_left.y < 200


def test_session_registry_idle_expiry_calls_back() -> None:
    gone: list[str] = []
    reg = SessionRegistry({"citizen": 1, "officer": 60}, 3600, on_expire=lambda s: gone.append(s.role))
    c = reg.open("citizen", "kiosk", "Công dân")
    o = reg.open("officer", "u1", "Cán bộ")
    time.sleep(1.2)
    assert reg.sweep() == 1 and gone == ["citizen"]
    assert reg.touch(c.sid) == (None, False)
    s, expired = reg.touch(o.sid)
    assert s is not None and not expired
    assert reg.close(o.sid) is not None and reg.count() == 0
    c2 = reg.open("citizen", "kiosk", "Công dân")
    time.sleep(0.6)
    assert reg.touch(c2.sid, refresh=False)[0] is not None  # a background poll does not count as activity
    time.sleep(0.6)
    assert reg.touch(c2.sid) == (None, True)


def test_review_rows_highlight_low_confidence_and_flags(tmp_path: Path) -> None:
    store, d = _draft_with_component(tmp_path)
    comp = d.components[0]
    comp.fields = {"number_symbol": {"value": "152/GAN", "confidence": 0.6, "source": "ocr"},
                   "issue_date": {"value": "2024-03-05", "confidence": 1.0, "source": "ocr"},
                   "owner_name": {"value": "Nguyễn Văn A", "confidence": 0.5, "source": "manual"}}
    comp.flags = [{"field": "issue_date", "kind": "invalid", "message": "x"}]
    rows = {r.name: r for r in kiosk_desk.review_rows(d, 0.8)}
    assert rows["number_symbol"].low and rows["issue_date"].low
    assert not rows["owner_name"].low and not rows["summary"].low


def test_ui_reaches_the_service_only_through_use_cases() -> None:
    import ast

    allowed = ("service.usecases", "service.errors", "service.paths", "service.config", "service.configbase")
    root = Path(__file__).resolve().parents[2] / "kiosk_ui"
    bad = []
    for f in root.rglob("*.py"):
        for node in ast.walk(ast.parse(f.read_text(encoding="utf-8"))):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
                [node.module or ""] if isinstance(node, ast.ImportFrom) else []
            for name in names:
                if name in ("sqlite3", "pkcs11") or name.startswith(("firmware", "sqlite3")) or (
                        name.startswith("service") and not name.startswith(allowed)):
                    bad.append(f"{f.name}: {name}")
    assert bad == []


def test_views_reach_the_app_helpers_through_context_not_through_the_app() -> None:
    # kiosk_ui/app.py imports the blueprints; a view importing kiosk_ui.app back closes a circle.
    import ast

    root = Path(__file__).resolve().parents[2] / "kiosk_ui"
    bad = []
    for f in root.rglob("*.py"):
        if f.name in ("app.py", "serve.py"):  # the factory itself, and the server that builds it
            continue
        for node in ast.walk(ast.parse(f.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and (node.module == "kiosk_ui.app" or (
                    node.module == "kiosk_ui" and any(a.name == "app" for a in node.names))):
                bad.append(f.name)
    assert bad == []
    views = (root / "blueprints" / "officer.py").read_text(encoding="utf-8")
    assert "backend().drafts" not in views and "backend().camera" not in views
