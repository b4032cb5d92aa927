"""Reception at the desk (Flask test client): the dossier is received when the officer confirms owner and
procedure, the draft keeps its code, finalize attaches to it, a discarded draft withdraws it with a reason,
and a reused paper is recorded in the dossier so the monthly report counts it."""

from __future__ import annotations

import csv
import datetime as dt
import io
from pathlib import Path
from typing import Any

from PIL import Image

from service.cli.main import main as sohoa_main
from service.paths import Paths, get_paths
from service.store.store import Store
from service.usecases import dossier
from service.usecases.kiosk_desk import DraftStore
from service.usecases.kiosk_flow import DISCARD_REASON, PROCEDURE_CHANGED
from service.usecases.kiosk_records import recent_audit
from tests.support.papers import add_paper
from tests.ui.desk_client import Desk, desk_app

OWNER = "036088001234"
MARRIAGE = "KQ.G15.000035"  # the expected type of component GKH of procedure 1.001193


def _drafts() -> DraftStore:
    return DraftStore(get_paths().home / "kiosk" / "drafts")


def _stored_marriage(home: Path) -> tuple[Paths, str]:
    """The owner's marriage certificate, digitized earlier (component GKH may reuse it)."""
    paths = get_paths(home).ensure()
    with Store.open(paths) as store:
        return paths, add_paper(store, 1, MARRIAGE, "Giấy chứng nhận kết hôn", OWNER, issued="2015-09-01")


def _page_png() -> bytes:
    img = Image.new("RGB", (1654, 2339), (250, 250, 246))
    for y in range(300, 2000, 60):
        img.paste((25, 25, 40), (160, y, 1480, y + 24))
    buf = io.BytesIO()
    img.save(buf, "PNG", dpi=(200, 200))
    return buf.getvalue()


def test_the_dossier_is_received_at_the_procedure_step_and_a_discard_withdraws_it(sohoa_home: Path) -> None:
    with desk_app() as app:
        desk = Desk(app.test_client())
        draft_id = desk.new(OWNER)
        assert _drafts().get(draft_id).dossier_code == ""  # the owner alone receives nothing
        resp = desk.procedure(draft_id, "1.000894", ["TK"])
        assert resp.status_code == 302 and resp.headers["Location"].endswith("/reuse")
        code = _drafts().get(draft_id).dossier_code
        shown = dossier.show(code, paths=get_paths())
        assert shown["status"] == "received" and shown["owner"] == OWNER and shown["procedure"] == "1.000894"
        # confirming again keeps the same dossier; the owner step is closed once it is received
        desk.procedure(draft_id, "1.000894", ["TK", "XNTTHN"])
        assert _drafts().get(draft_id).dossier_code == code
        assert desk.client.get(f"/officer/d/{draft_id}/owner").headers["Location"].endswith("/procedure")
        # another procedure before any paper: the first dossier is withdrawn with the reason, a new one received
        desk.procedure(draft_id, "1.001193", ["TK"])
        second = _drafts().get(draft_id).dossier_code
        assert second != code and dossier.show(second, paths=get_paths())["procedure"] == "1.001193"
        first = dossier.show(code, paths=get_paths())
        assert first["status"] == "withdrawn" and first["history"][-1]["reason"] == PROCEDURE_CHANGED
        # the desk lists the received dossier; discarding its draft withdraws it, audited
        page = desk.client.get("/officer/").get_data(as_text=True)
        assert second in page
        resp = desk.post(f"/officer/d/{draft_id}/discard")
        assert resp.status_code == 302
        flashed = desk.client.get("/officer/").get_data(as_text=True)
        assert f"hồ sơ {second} được ghi là người nộp rút hồ sơ" in flashed
        gone = dossier.show(second, paths=get_paths())
        assert gone["status"] == "withdrawn" and gone["history"][-1]["reason"] == DISCARD_REASON
        assert gone["history"][-1]["actor"].startswith("officer:")
        with Store.open(get_paths()) as store:
            rows = [e for e in store.audit_entries() if e.action == "kiosk.dossier.discard"]
        assert [e.details.get("withdrawn") for e in rows] == [second]
        assert {"kiosk.dossier.received"} <= {r["action"] for r in recent_audit(get_paths(), limit=100)}
        # an owner without an identifier cannot be received: refused in Vietnamese, the officer stays
        fallback = desk.post("/officer/new").headers["Location"].split("/d/")[1].split("/")[0]
        desk.post(f"/officer/d/{fallback}/owner", owner_id="", owner_name="Nguyễn Văn Thử",
                  owner_birth_date="14/02/1988")
        resp = desk.procedure(fallback, "1.000894", ["TK"])
        text = resp.get_data(as_text=True)
        assert resp.status_code == 200 and "Chưa tiếp nhận được hồ sơ" in text and "is empty" not in text
        assert _drafts().get(fallback).dossier_code == ""


def test_a_reopened_dossiers_draft_is_discarded_without_touching_the_dossier(sohoa_home: Path) -> None:
    code = dossier.open_dossier("1.000894", OWNER).id
    with desk_app() as app:
        desk = Desk(app.test_client())
        resp = desk.post(f"/officer/dossiers/{code}/reopen")
        draft_id = resp.headers["Location"].split("/d/")[1].split("/")[0]
        desk.procedure(draft_id, "1.000894", ["XNTTHN"])
        assert _drafts().get(draft_id).dossier_code == code  # no second dossier
        desk.post(f"/officer/d/{draft_id}/discard")
    assert dossier.show(code, paths=get_paths())["status"] == "received"
    assert len(dossier.list_dossiers(paths=get_paths())) == 1


def test_a_reused_and_a_digitized_paper_are_both_counted_in_the_monthly_report(
        sohoa_home: Path, dev_token: str, tmp_path: Path) -> None:
    paths, marriage = _stored_marriage(sohoa_home)
    with desk_app() as app:
        desk = Desk(app.test_client())
        draft_id = desk.new(OWNER)
        desk.procedure(draft_id, "1.001193", ["TK", "GKH"])
        code = _drafts().get(draft_id).dossier_code
        page = desk.client.get(f"/officer/d/{draft_id}/reuse").get_data(as_text=True)
        assert marriage in page
        resp = desk.post(f"/officer/d/{draft_id}/reuse", reuse_TK="", reuse_GKH=marriage)
        assert resp.headers["Location"].endswith("/capture/TK")
        resp = desk.post(f"/officer/d/{draft_id}/capture/TK", action="upload",
                         file=(io.BytesIO(_page_png()), "to-khai.png"))
        assert _drafts().get(draft_id).component("TK").pages, desk.client.get("/officer/").get_data(as_text=True)
        desk.post(f"/officer/d/{draft_id}/review", TK__document_name="Tờ khai đăng ký khai sinh")
        state = desk.sign(draft_id, dev_token)
        assert state["state"] == "ok", state
        assert _drafts().get(draft_id).dossier_code == code  # finalize attached to the dossier received
    shown = dossier.show(code, paths=paths)
    assert shown["status"] == "in_progress" and [d["kind"] for d in shown["documents"]] == ["component"]
    with Store.open(paths) as store:
        assert [c for c, _ in store.dossier_reuses(code)] == ["GKH"]

    out = tmp_path / "r.csv"
    month = dt.datetime.now(dt.timezone(dt.timedelta(hours=7))).strftime("%Y-%m")
    assert sohoa_main(["report", "monthly", "--month", month, "--out", str(out)]) == 0
    rows = list(csv.reader(out.open(encoding="utf-8-sig")))
    header = next(r for r in rows if "Giấy tờ tái sử dụng" in r)
    for row in (next(r for r in rows if r[1] == "1.001193"), next(r for r in rows if r[1] == "officer:canbo")):
        counted = {name: row[header.index(name)] for name in ("Hồ sơ tiếp nhận", "Thành phần hồ sơ đã số hóa",
                                                              "Giấy tờ tái sử dụng", "Tỷ lệ tái sử dụng (%)")}
        assert counted == {"Hồ sơ tiếp nhận": "1", "Thành phần hồ sơ đã số hóa": "1", "Giấy tờ tái sử dụng": "1",
                           "Tỷ lệ tái sử dụng (%)": "50.0"}, rows


def test_a_dossier_whose_every_paper_is_reused_is_still_a_lifecycle_dossier(sohoa_home: Path,
                                                                             dev_token: str) -> None:
    paths, marriage = _stored_marriage(sohoa_home)
    with desk_app() as app:
        desk = Desk(app.test_client())
        draft_id = desk.new(OWNER)
        desk.procedure(draft_id, "1.001193", ["GKH"])
        resp = desk.post(f"/officer/d/{draft_id}/reuse", reuse_GKH=marriage)
        assert resp.headers["Location"].endswith("/review")
        assert desk.sign(draft_id, dev_token)["state"] == "ok"
        again: Any = _drafts().get(draft_id)
    shown = dossier.show(again.dossier_code, paths=paths)
    assert shown["status"] == "in_progress" and shown["documents"] == []
    assert [h["status"] for h in shown["history"]] == ["received", "in_progress"]
    with Store.open(paths) as store:
        assert len(store.dossier_reuses(again.dossier_code)) == 1
