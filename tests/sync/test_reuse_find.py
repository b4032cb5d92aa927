"""``sohoa reuse find`` against a real Mosquitto + PostgreSQL gateway: by owner and document type,
authorised per office, every look-up logged, the cache answering offline with its age, expiry."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from bench.sync_common import (
    GATEWAY_USER,
    PROVINCE,
    device_tls,
    gateway_settings,
    make_pdf,
    sign_pdf,
    start_thread_gateway,
    sync_config,
    write_device_home,
)
from province_gateway.db import register_dossier
from service.cli.main import main as sohoa_main
from service.config import load_config
from service.errors import NotFoundError
from service.paths import get_paths
from service.store.store import Store
from service.store.sync_state import SyncProgress
from service.sync.store_source import StoreOutbox
from service.sync.worker import SyncWorker
from service.usecases import dossier as dossier_uc
from service.usecases import reuse
from tests.support.mosquitto import Broker, LabPki
from tests.support.papers import add_paper

from .conftest import OFFICES, Idents

OWNER = "001099012345"
MARRIAGE, BIRTH = "KQ.G15.000035", "KQ.G15.000031"


@pytest.fixture
def own_broker(pki: LabPki, idents: Idents) -> Iterator[Broker]:
    """A broker of this test only: it is stopped to cut the link."""
    b = Broker(pki, gateway_user=GATEWAY_USER, max_packet_size=2 * 1024 * 1024)
    for dev in (idents.a, idents.b):
        b.enrol(dev.name, PROVINCE)
    b.start()
    yield b
    if b.running():
        b.stop()


def _paper(store: Store, signer, i: int, doc_type: str, name: str) -> str:  # type: ignore[no-untyped-def]
    return add_paper(store, i, doc_type, name, OWNER, issued=f"2019-06-0{i + 1}",
                     pdf=sign_pdf(make_pdf(40 + i), signer), agency="UBND phường Thử Nghiệm")


def _upload_from_office_b(tmp_path: Path, pki: LabPki, idents: Idents, port: int, signer) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """Office B digitized the owner's marriage and birth certificates earlier and sent them up."""
    paths = get_paths(tmp_path / "office-b").ensure()
    with Store.open(paths) as store:
        codes = {MARRIAGE: _paper(store, signer, 1, MARRIAGE, "Giấy chứng nhận kết hôn"),
                 BIRTH: _paper(store, signer, 2, BIRTH, "Giấy khai sinh")}
        worker = SyncWorker(sync_config(port), device_id=idents.b.name, province=PROVINCE, source=StoreOutbox(store),
                            progress=SyncProgress(paths.database),
                            tls=device_tls(pki, idents.b))
        worker.run("127.0.0.1", port, max_seconds=30, until_empty=True)
        assert store.count_undelivered() == 0
    write_device_home(paths, pki, idents.b, port)
    return codes


def _find(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, list[dict], str]:  # type: ignore[type-arg]
    rc = sohoa_main(["reuse", "find", "--owner", OWNER, *args, "--json"])
    out = capsys.readouterr()
    return rc, json.loads(out.out), out.err


def test_province_answers_by_owner_and_type_and_the_cache_answers_offline(
        sohoa_home: Path, tmp_path: Path, pki: LabPki, idents: Idents, own_broker: Broker, dsn: str,
        signer, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    gw = start_thread_gateway(gateway_settings(pki, idents.gw, own_broker.port, dsn, tmp_path / "gw-files",
                                               f"gw-{uuid.uuid4().hex[:8]}", session_expiry_s=0))
    try:
        codes = _upload_from_office_b(tmp_path, pki, idents, own_broker.port, signer)
        # office A receives a birth registration dossier for the owner; the province's one-stop-shop knows it
        write_device_home(get_paths(sohoa_home), pki, idents.a, own_broker.port)
        dossier = dossier_uc.open_dossier("1.001193", OWNER).id
        register_dossier(dsn, OFFICES[idents.a.name], dossier, OWNER, "1.001193")

        rc, rows, err = _find(capsys, "--doc-type", MARRIAGE, "--dossier", dossier)
        assert rc == 0 and "province: answered" in err
        assert [(r["source"], r["result_code"], r["document_type"]) for r in rows] == [
            ("province", codes[MARRIAGE], MARRIAGE)]  # only the asked type, though the owner has both
        assert rows[0]["date"] == "2019-06-02" and rows[0]["updated"].startswith("cập nhật lúc ")

        # a look-up the province refuses (not a dossier of this office) forgets that owner's saved answers
        paths = get_paths(sohoa_home)
        with Store.open(paths) as store:
            store.cache_reuse_answer("001099099999", MARRIAGE, "[]", dt.datetime.now(dt.UTC).isoformat())
        rc, rows, err = _find(capsys, "--doc-type", MARRIAGE, "--dossier", "HS-NOT-OURS")
        assert rc == 15 and rows == [] and "province: refused" in err
        with Store.open(paths) as store:
            assert [a.document_type for a in store.cached_reuse_answers(OWNER, (), "")] == []
            assert len(store.cached_reuse_answers("001099099999", (), "")) == 1  # another owner's: kept
        rc, rows, _ = _find(capsys, "--doc-type", MARRIAGE, "--dossier", dossier)
        assert rc == 0 and [r["source"] for r in rows] == ["province"]
        with Store.open(paths) as store:  # the cache is keyed by a digest, not by the identifier
            assert OWNER not in str(store.conn.execute("SELECT owner_digest FROM reuse_cache").fetchall())

        # office B holds no dossier of this owner under that code: refused, and logged
        monkeypatch.setenv("SOHOA_HOME", str(tmp_path / "office-b"))
        rc, rows, err = _find(capsys, "--doc-type", MARRIAGE, "--dossier", dossier)
        assert rc == 15 and "province: refused" in err
        assert [r["source"] for r in rows] == ["local"]  # its own store still answers (Art. 25.3: first)
        monkeypatch.setenv("SOHOA_HOME", str(sohoa_home))
        with psycopg.connect(dsn) as conn:
            logged = conn.execute("SELECT device_id, outcome, document_types, hits FROM gw_lookup"
                                  " ORDER BY id").fetchall()
        a, b = idents.a.name, idents.b.name
        assert logged == [(a, "answered", [MARRIAGE], 1), (a, "not-authorised", [MARRIAGE], 0),
                          (a, "answered", [MARRIAGE], 1), (b, "not-authorised", [MARRIAGE], 0)]
    finally:
        gw.close()

    own_broker.stop()  # the link is down: the cached answer is offered, with its age
    rc, rows, err = _find(capsys, "--doc-type", MARRIAGE, "--dossier", dossier)
    assert rc == 0 and "province: offline" in err
    assert [(r["source"], r["result_code"]) for r in rows] == [("cache", codes[MARRIAGE])]
    assert rows[0]["cache_age_s"] >= 0 and rows[0]["updated"].startswith("cập nhật lúc ")
    rc, rows, _ = _find(capsys, "--doc-type", MARRIAGE, "--offline")
    assert [r["source"] for r in rows] == ["cache"]
    rc, rows, _ = _find(capsys, "--doc-type", BIRTH, "--offline")  # never asked for that type
    assert rc == 7 and rows == []

    # the answer expires after sync.reuse_cache_max_age_h (72 h by default) and is dropped
    later = dt.datetime.now(dt.UTC) + dt.timedelta(hours=73)
    found = reuse.find_reuse(OWNER, (MARRIAGE,), dossier_id=dossier, offline=True, paths=paths,
                             config=load_config(paths.config), now=later)
    assert found.candidates == () and found.province == reuse.SKIPPED
    with Store.open(paths) as store:
        assert store.conn.execute("SELECT count(*) FROM reuse_cache").fetchone()[0] == 0


def test_local_papers_first_filtered_by_type_with_a_preview(sohoa_home: Path, signer,
                                                            capsys: pytest.CaptureFixture[str]) -> None:  # type: ignore[no-untyped-def]
    paths = get_paths(sohoa_home).ensure()
    with Store.open(paths) as store:
        marriage = _paper(store, signer, 1, MARRIAGE, "Giấy chứng nhận kết hôn")
        _paper(store, signer, 2, BIRTH, "Giấy khai sinh")
    rc, rows, err = _find(capsys, "--doc-type", MARRIAGE)
    assert rc == 0 and "province: disabled" in err  # sync is off on this box: the own store only
    assert [(r["source"], r["result_code"]) for r in rows] == [("local", marriage)]
    assert rows[0]["preview"] == {"page": True, "pdf": True, "pdf_link": None}
    rc, rows, _ = _find(capsys)
    assert len(rows) == 2  # no type: every paper of the owner
    image, media = reuse.open_preview(marriage, "page", owner_id=OWNER, paths=paths)
    assert media == "image/png" and image.startswith(b"\x89PNG")
    with pytest.raises(NotFoundError):
        reuse.open_preview(marriage, "page", owner_id="001099099999", paths=paths)  # not that owner's paper


@pytest.mark.parametrize("args,field", [(["--owner", "12ab"], "owner"),
                                        (["--owner", OWNER, "--doc-type", "KQ G15"], "doc-type"),
                                        (["--owner", OWNER, "--doc-type", ""], "doc-type")])
def test_bad_input_is_refused_with_a_clear_error(args: list[str], field: str,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    assert sohoa_main(["reuse", "find", *args]) == 5
    assert f"{field}:" in capsys.readouterr().err
