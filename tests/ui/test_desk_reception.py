"""Reception at the desk (Flask test client): the dossier is received when the officer confirms owner and
procedure, the draft keeps its code, finalize attaches to it, a discarded draft withdraws it with a reason,
and a reused paper is recorded in the dossier so the monthly report counts it."""

from __future__ import annotations

import io
from pathlib import Path

from PIL import Image

from service.paths import get_paths
from service.store.store import Store
from service.usecases import dossier
from service.usecases.kiosk_desk import DraftStore
from service.usecases.kiosk_flow import DISCARD_REASON, PROCEDURE_CHANGED
from service.usecases.kiosk_records import recent_audit
from tests.ui.desk_client import Desk, desk_app

OWNER = "036088001234"
MARRIAGE = "KQ.G15.000035"  # the expected type of component GKH of procedure 1.001193


def _drafts() -> DraftStore:
    return DraftStore(get_paths().home / "kiosk" / "drafts")


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
