"""The desk's dossier use cases (search, detail, refusals, slip), its checks before the PIN, and the
one message catalogue: no English text of a domain rule or driver reaches a Vietnamese page."""

from __future__ import annotations

import ast
import datetime as dt
import io
import re
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from service.config import load_config
from service.desk.drafts import DraftPage, DraftStore
from service.domain.errors import ExitCode, SohoaError
from service.errors import InputError, NotFoundError, ValidationError
from service.paths import Paths, get_paths
from service.usecases import dossier, kiosk_desk, kiosk_dossier
from service.usecases.kiosk_dossier import DossierQuery

ROOT = Path(__file__).resolve().parents[2]
OWNER = "036088001234"
OTHER = "036195004321"
ENGLISH = re.compile(r"\b(the|is|not|must|no|found|pages?|declared|captured|digits|province|table|image|missing|"
                     r"invalid|required|empty|date|year|before|after|of|and|with|expected|got|format|check|"
                     r"identifier|cannot|or)\b", re.IGNORECASE)


@pytest.fixture
def desk(sohoa_home: Path) -> Iterator[tuple[Paths, Any, DraftStore, Any]]:
    """Paths, config, the kiosk's drafts and the catalogue of this test's home."""
    paths = get_paths().ensure()
    config = load_config(paths.config)
    yield paths, config, DraftStore(paths.home / "kiosk" / "drafts", config.capture), dossier.catalogue(paths)


@pytest.fixture
def vi_request() -> Iterator[None]:
    """A Vietnamese request context of the real kiosk app (the catalogue's language of a page)."""
    from kiosk_ui.app import create_app

    app = create_app({"secret_key": "k" * 48, "dev_accounts": False})
    with app.test_request_context("/officer/"):
        from flask import g

        g.settings = app.config["KIOSK"]
        yield
    app.extensions["kiosk_backend"].close()


def _received(store: DraftStore, code: str, name: str) -> None:
    d = store.create("officer", "officer:t")
    d.dossier_code, d.owner_name, d.state = code, name, "finalized"
    store.save(d)


def test_search_by_name_identifier_code_status_and_dates(desk: Any) -> None:
    paths, config, store, cat = desk
    a = dossier.open_dossier("1.001193", OWNER, paths=paths, config=config).id
    b = dossier.open_dossier("1.000894", OTHER, paths=paths, config=config).id
    _received(store, a, "Nguyễn Văn Thử")
    _received(store, b, "Trần Thị Bình")

    def codes(**q: str) -> list[str]:
        return [r.code for r in kiosk_dossier.search(DossierQuery(**q), store, cat, paths=paths, config=config)]

    assert codes() == [b, a]  # newest first
    assert codes(name="nguyen van") == [a] and codes(name="TRẦN thị") == [b]  # diacritics and case folded
    assert codes(owner_id=OTHER) == [b] and codes(code=a[-4:]) == [a]
    dossier.request_papers(b, "Thiếu bản chính", ("XNTTHN",), paths=paths, config=config)
    assert codes(status="additional_papers_requested") == [b] and codes(status="received") == [a]
    today = dt.datetime.now(kiosk_desk.VN_TZ).date()
    assert codes(date_from=f"{today:%d/%m/%Y}", date_to=f"{today:%d/%m/%Y}") == [b, a]
    tomorrow = today + dt.timedelta(days=1)
    assert codes(date_from=f"{tomorrow:%d/%m/%Y}") == []
    row = kiosk_dossier.search(DossierQuery(code=a), store, cat, paths=paths, config=config)[0]
    assert row.owner_name == "Nguyễn Văn Thử" and row.procedure_name == "Đăng ký khai sinh"
    assert re.fullmatch(r"\d\d/\d\d/\d{4} \d\d:\d\d", row.received)
    for bad in ({"date_from": "31/02/2026"}, {"date_from": "hôm qua"}, {"owner_id": "12345"},
                {"status": "lost"}, {"date_from": f"{tomorrow:%d/%m/%Y}", "date_to": f"{today:%d/%m/%Y}"}):
        with pytest.raises(ValidationError):
            codes(**bad)


def test_detail_history_documents_and_the_slip(desk: Any, tmp_path: Path) -> None:
    paths, config, store, cat = desk
    code = dossier.open_dossier("1.001193", OWNER, actor="officer:card-1", paths=paths, config=config).id
    _received(store, code, "Nguyễn Văn Thử")
    with pytest.raises(NotFoundError):  # no request yet: no slip
        kiosk_dossier.papers_slip_pdf(code, store, cat, paths=paths, config=config, office_name="UBND xã A",
                                      issuing_system="sohoa", officer_name="Cán bộ", printed_at=dt.datetime.now())
    kiosk_dossier.request_papers(code, "Thiếu giấy chứng sinh", ["GCS", "GKH"], "officer:card-1",
                                 paths=paths, config=config)
    det = kiosk_dossier.detail(code, store, cat, paths=paths, config=config)
    assert [h["status"] for h in det.history] == ["received", "additional_papers_requested"]
    assert det.history[1]["actor"] == "officer:card-1" and det.history[1]["reason"] == "Thiếu giấy chứng sinh"
    assert det.history[1]["components"] == ["GCS", "GKH"] and re.fullmatch(r"\d\d/\d\d/\d{4} \d\d:\d\d",
                                                                           det.history[1]["at"])
    assert det.documents == [] and det.receipt_draft is not None and ("GCS", "Giấy chứng sinh") in det.components
    pdf = kiosk_dossier.papers_slip_pdf(code, store, cat, paths=paths, config=config, office_name="UBND xã A",
                                        issuing_system="sohoa", officer_name="Cán bộ Một",
                                        printed_at=dt.datetime.now(kiosk_desk.VN_TZ))
    (tmp_path / "slip.pdf").write_bytes(pdf)
    text = subprocess.run(["pdftotext", "-layout", str(tmp_path / "slip.pdf"), "-"], capture_output=True,
                          text=True, check=True).stdout
    assert "PHIẾU YÊU CẦU BỔ SUNG" in text and "Thiếu giấy chứng sinh" in text and "Giấy khai sinh" not in text
    assert "Giấy chứng sinh" in text and "Nguyễn Văn Thử" in text and code in text
    with pytest.raises(NotFoundError):
        kiosk_dossier.detail("000.00.70.H99-000000-0009", store, cat, paths=paths, config=config)


def test_every_refusal_is_typed_and_has_its_vietnamese_message(desk: Any, vi_request: None) -> None:
    from kiosk_ui.messages import describe

    paths, config, store, cat = desk
    code = dossier.open_dossier("1.001193", OWNER, paths=paths, config=config).id
    cases: list[tuple[Callable[[], object], str]] = [
        (lambda: kiosk_dossier.return_result(code, "o", paths=paths, config=config), "chưa có kết quả"),
        (lambda: kiosk_dossier.request_papers(code, "", ["GCS"], "o", paths=paths, config=config), "lý do"),
        (lambda: kiosk_dossier.request_papers(code, "Thiếu", [], "o", paths=paths, config=config), ""),
        (lambda: kiosk_dossier.request_papers(code, "Thiếu", ["ZZ"], "o", paths=paths, config=config), ""),
    ]
    for call, words in cases:
        with pytest.raises(SohoaError) as err:
            call()
        text = describe(err.value)
        assert words.lower() in text.lower() and not ENGLISH.search(text), text
    kiosk_dossier.request_papers(code, "Thiếu", ["GCS"], "o", paths=paths, config=config)
    with pytest.raises(SohoaError) as err:  # the result waits for the papers asked for
        kiosk_dossier.result_draft(code, store, "o", paths=paths, config=config, cat=cat)
    assert not ENGLISH.search(describe(err.value))
    dossier.withdraw(code, "Người nộp rút hồ sơ", paths=paths, config=config)
    ended: list[Callable[[], object]] = [
        lambda: kiosk_dossier.reopen(code, store, "o", paths=paths, config=config, cat=cat),
        lambda: kiosk_dossier.return_result(code, "o", paths=paths, config=config)]
    for call in ended:
        with pytest.raises(SohoaError) as err:
            call()
        assert "rút" in describe(err.value) or "không thể" in describe(err.value), describe(err.value)
    assert [d.kind for d in store.list()] == []  # a refused reopen leaves no draft behind


def test_checks_before_the_pin(tmp_path: Path) -> None:
    store = DraftStore(tmp_path / "drafts")
    d = store.create("officer", "officer:t")
    from service.procedures.catalogue import Component, Procedure

    proc = Procedure("1.001193", "Đăng ký khai sinh", 1, (Component("TK", "Tờ khai", 1, True),))
    kiosk_desk.set_owner(store, d, OWNER, "Nguyễn Văn Thử", "14/02/1988")
    kiosk_desk.set_procedure(store, d, proc, ["TK"], {"TK": "1"})
    assert kiosk_desk.consistency_checks(d) == []
    comp = d.component("TK")
    comp.pages = [DraftPage("a" * 64, ".png", 10, 10, 200.0), DraftPage("b" * 64, ".png", 10, 10, 200.0)]
    comp.fields = {"owner_id": {"value": OTHER, "source": "ocr", "confidence": 0.9},
                   "owner_birth_date": {"value": "1995-11-03", "source": "ocr", "confidence": 0.9}}
    found = {c.key: c for c in kiosk_desk.consistency_checks(d)}
    assert found["check.owner_differs"].params["found"] == OTHER and found["check.owner_differs"].ack
    assert found["check.pages"].params == {"component": "Tờ khai", "n": "2", "d": "1"}
    assert found["check.birth_century"].level == "fix"  # stored under the dossier owner: 1988 ≠ 1995
    assert found["check.birth_century"].params["birth"] == "03/11/1995"
    assert found["check.birth_century"].params["century"] == "20"
    d.owner_birth_date = "1989-02-14"  # the typed birth date contradicts the CCCD: a warning to confirm
    comp.fields = {}
    comp.pages = comp.pages[:1]
    (only,) = kiosk_desk.consistency_checks(d)
    assert only.key == "check.birth_century" and only.level == "confirm" and only.params["encoded"] == "1988"
    # Review shows and takes dates as dd/mm/yyyy; an unchanged date is no correction.
    assert kiosk_desk.display_value("issue_date", "2024-03-05") == "05/03/2024"
    assert kiosk_desk.display_value("summary", "2024-03-05") == "2024-03-05"


def _literal_reasons() -> list[tuple[type[SohoaError], str, str]]:
    """Every literal message the identifier, date, capture, review and QR rules raise (f-strings with
    their holes filled by a digit)."""
    files = ["service/domain/identifiers.py", "service/domain/dates.py", "service/domain/schema.py",
             "service/domain/dossier.py", "service/capture/rules.py", "service/extract/review.py",
             "service/extract/qr.py", "service/capture/images.py", "service/usecases/kiosk_desk.py",
             "service/usecases/kiosk_flow.py",
             "service/usecases/kiosk_dossier.py", "kiosk_ui/backend.py"]
    kinds = {"ValidationError": ValidationError, "InputError": InputError}
    out = []
    for name in files:
        for node in ast.walk(ast.parse((ROOT / name).read_text(encoding="utf-8"))):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in kinds):
                continue
            arg = node.args[1 if node.func.id == "ValidationError" else 0] if node.args else None
            if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                text = arg.value
            elif isinstance(arg, ast.JoinedStr):
                text = "".join(str(v.value) if isinstance(v, ast.Constant) else "1" for v in arg.values)
            else:
                continue
            out.append((kinds[node.func.id], name, text))
    assert len(out) > 40
    return out


def test_no_english_error_text_reaches_a_vietnamese_page(vi_request: None) -> None:
    from kiosk_ui.messages import describe, reason_of

    issue = {  # the ones seen on the desk, word for word
        ValidationError("owner_id", "province code 999 not in the 63-province table (TT 07/2016/TT-BCA Phụ lục 1); "
                        "could also be a foreign-country code (not covered)"): "Mã tỉnh 999 không có trong bảng 63",
        InputError("no QR code found in the image", remedy="hold the card"): "Không tìm thấy mã QR",
        ValidationError("Giấy chứng sinh", "2 pages captured but 1 declared"): "Giấy chứng sinh: Đã chụp 2 trang",
        ValidationError("pin", "must be 4 to 16 digits"): "Mã PIN phải gồm 4 đến 16 chữ số",
        ValidationError("issue_date", "the date line is unreadable"): "Không đọc được dòng ngày ban hành",
    }
    for exc, expected in issue.items():
        assert expected in describe(exc) and not ENGLISH.search(describe(exc)), describe(exc)
    assert "Mã tỉnh 999" in reason_of("province code 999 not in the 63-province table; more")
    for capture in ("this image is identical to page image 2 already captured",  # the capture feedback's texts
                    "a sticky-note capture needs the page captured first",
                    "page 1: effective resolution 72 dpi is below the 200 dpi minimum"):
        shown = describe(InputError(capture))
        assert not ENGLISH.search(shown) and shown != describe(InputError("x")), shown
    for kind, where, text in _literal_reasons():
        exc = kind("owner_id", text) if kind is ValidationError else kind(text)
        shown = describe(exc)
        assert not ENGLISH.search(shown), f"{where}: {text!r} -> {shown!r}"
    for code in ExitCode:  # any other typed error: a Vietnamese message of its kind
        exc = SohoaError("something went wrong in the engine")
        exc.exit_code = code  # type: ignore[misc]
        assert not ENGLISH.search(describe(exc))


def test_the_real_drivers_errors_are_vietnamese(vi_request: None) -> None:
    from kiosk_ui.messages import describe
    from service.extract.qr import decode_qr_image
    from service.usecases.kiosk_desk import check_owner

    blank = io.BytesIO()
    Image.new("RGB", (400, 300), "white").save(blank, format="PNG")
    with pytest.raises(InputError) as err:
        decode_qr_image(blank.getvalue())
    assert "Không tìm thấy mã QR" in describe(err.value)
    bad = check_owner("999088001234")
    assert not bad.ok and "province code 999" in bad.params["reason"]  # English for logs; the page translates it
