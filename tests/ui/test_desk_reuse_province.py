"""The desk's reuse step asks the real province gateway (Mosquitto + PostgreSQL) under the dossier
received at the procedure step: refused while the province does not know that dossier, answered once
it does, the saved answer when the link is down; each state said in Vietnamese."""

from __future__ import annotations

import re
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from bench.sync_common import gateway_settings, start_thread_gateway, write_device_home
from province_gateway.db import register_dossier
from service.paths import get_paths
from service.usecases.kiosk_desk import DraftStore
from tests.support.mosquitto import Broker, LabPki
from tests.sync import conftest as lab
from tests.sync import test_reuse_find as reuse_find
from tests.sync.conftest import OFFICES, Idents
from tests.sync.test_reuse_find import MARRIAGE, OWNER, _upload_from_office_b
from tests.ui.desk_client import Desk, desk_app

# the sync room's lab: one PKI, PostgreSQL and signer per session, a fresh gateway database per test
pki, idents, pg, dsn, signer = lab.pki, lab.idents, lab.pg, lab.dsn, lab.signer
own_broker = reuse_find.own_broker  # a broker of this test only: it is stopped to cut the link
_STATE = re.compile(r'data-testid="reuse-province" data-state="([^"]+)">([^<]+)')


def _province(desk: Desk, draft_id: str) -> tuple[str, str, str]:
    page = desk.client.get(f"/officer/d/{draft_id}/reuse").get_data(as_text=True)
    m = _STATE.search(page)
    assert m is not None, page
    return m.group(1), " ".join(m.group(2).split()), page


def test_the_reuse_step_asks_the_province_under_the_received_dossier(
        sohoa_home: Path, tmp_path: Path, pki: LabPki, idents: Idents, own_broker: Broker, dsn: str,
        signer: Any) -> None:
    gw = start_thread_gateway(gateway_settings(pki, idents.gw, own_broker.port, dsn, tmp_path / "gw-files",
                                               f"gw-{uuid.uuid4().hex[:8]}", session_expiry_s=0))
    try:
        with ThreadPoolExecutor(1) as pool:  # pyHanko runs its own event loop; a Chromium test's may be running
            codes = pool.submit(_upload_from_office_b, tmp_path, pki, idents, own_broker.port, signer).result()
        write_device_home(get_paths(sohoa_home), pki, idents.a, own_broker.port)
        with desk_app() as app:
            desk = Desk(app.test_client())
            draft_id = desk.new(OWNER)
            desk.procedure(draft_id, "1.001193", ["TK", "GKH"])
            code = DraftStore(get_paths().home / "kiosk" / "drafts").get(draft_id).dossier_code
            assert code  # received before the reuse step

            # the province's one-stop-shop system does not know the dossier yet: refused, said so
            state, text, page = _province(desk, draft_id)
            assert state == "refused" and "từ chối tra cứu" in text and codes[MARRIAGE] not in page
            register_dossier(dsn, OFFICES[idents.a.name], code, OWNER, "1.001193")
            state, text, page = _province(desk, draft_id)
            assert state == "answered" and "Đã tra cứu kho dữ liệu tỉnh" in text
            assert f'data-source="province" data-code="{codes[MARRIAGE]}"' in page  # the marriage certificate
            assert codes["KQ.G15.000031"] not in page  # the birth certificate is no expected type here
            # the officer picks the province's paper: kept on the draft for the finalize
            desk.post(f"/officer/d/{draft_id}/reuse", reuse_TK="", reuse_GKH=codes[MARRIAGE])
            comp = DraftStore(get_paths().home / "kiosk" / "drafts").get(draft_id).component("GKH")
            assert comp.reuse_code == codes[MARRIAGE]
    finally:
        gw.close()
    own_broker.stop()  # the link is down: the saved answer, with its age
    with desk_app() as app:
        desk = Desk(app.test_client())
        state, text, page = _province(desk, draft_id)
        assert state == "offline" and "Không kết nối được kho dữ liệu tỉnh" in text
        assert f'data-source="cache" data-code="{codes[MARRIAGE]}"' in page and "cập nhật lúc" in page
