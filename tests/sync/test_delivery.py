"""End-to-end: device Store → Mosquitto (mutual TLS, ACL) → gateway → PostgreSQL + file store → ack."""

from __future__ import annotations

import json
from pathlib import Path

import psycopg
import pytest

from bench.sync_common import (
    PROVINCE,
    ThreadGateway,
    add_document,
    compare,
    device_tls,
    make_pdf,
    sign_pdf,
    sync_config,
    wait_until,
)
from service.cli.main import main as sohoa_main
from service.paths import get_paths
from service.store.store import Store
from service.store.sync_state import SyncProgress
from service.sync import protocol as p
from service.sync.store_source import StoreOutbox
from service.sync.worker import SyncWorker
from tests.support.mosquitto import Broker, LabPki

from .conftest import Idents

OWNER = "001099012345"  # the owner id add_document gives every lab document


def make_worker(store: Store, pki: LabPki, idents: Idents, port: int, **cfg: object) -> SyncWorker:
    return SyncWorker(sync_config(port, **cfg), device_id=idents.a.name, province=PROVINCE,
                      source=StoreOutbox(store), progress=SyncProgress(get_paths().database),
                      tls=device_tls(pki, idents.a))


def outbox_states(store: Store) -> dict[str, int]:
    return {s: n for s, n in store.conn.execute("SELECT state, count(*) FROM outbox GROUP BY state")}


def test_documents_are_delivered_only_on_the_gateway_ack(store: Store, pki: LabPki, idents: Idents, broker: Broker,
                                                         gateway: ThreadGateway, dsn: str, gw_files: Path,
                                                         signer, tmp_path: Path,  # type: ignore[no-untyped-def]
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOHOA_SYSFS_ROOT", str(tmp_path))  # no thermal zone, whatever this machine has
    docs = [add_document(store, sign_pdf(make_pdf(i, pad=9000 * i), signer), i) for i in range(3)]
    worker = make_worker(store, pki, idents, broker.port)
    stats = worker.run("127.0.0.1", broker.port, max_seconds=60, until_empty=True)
    assert stats.delivered == 3 and stats.rejected == 0
    assert outbox_states(store) == {"delivered": 3}
    result = compare(store, dsn, gw_files)
    assert (result.versions, result.lost, result.duplicated, result.bad_files) == (3, 0, 0, 0)
    with psycopg.connect(dsn) as conn:
        row = conn.execute("SELECT name, result_code, manifest, signature FROM gw_document WHERE document_id=%s",
                           (docs[2].id,)).fetchone()
        device = conn.execute("SELECT state FROM gw_device WHERE device_id=%s", (idents.a.name,)).fetchone()
    assert row is not None
    name, code, manifest, signature = row
    assert name == "Giấy chứng nhận quyền sử dụng đất" and code == docs[2].result_code
    assert manifest["ThongTinMoTa"]["CodeNotation"] == "2/GCN-UBND" and manifest["MaThietBi"] == idents.a.name
    assert signature.startswith("1 intact")
    assert device is not None and device[0] in ("online", "offline")

    def telemetry() -> dict | None:  # type: ignore[type-arg]
        with psycopg.connect(dsn) as conn:
            row = conn.execute("SELECT telemetry FROM gw_device WHERE device_id=%s", (idents.a.name,)).fetchone()
        return row[0] if row else None
    assert wait_until(lambda: (telemetry() or {}).get("chunks", 0) > 0, 10)
    # counters, the audit head and the box's health (no thermal zone in this lab; the queue's age only
    # while something waits)
    keys = set(telemetry() or {})
    assert keys - {"oldest_queued_age_s"} == {"queue", "delivered", "chunks", "bytes", "link_failures", "audit_seq",
                                              "audit_hash", "disk_free_bytes", "last_sync_success_ts",
                                              "software_version", "model_versions"}
    # the delivery is in the device's audit chain and the progress rows are gone
    assert any(e.action == "outbox_delivered" for e in store.audit_entries(docs[0].id))
    assert SyncProgress(get_paths().database).state()["transfers_in_progress"] == "0"


def test_a_new_pdf_version_is_delivered_as_a_second_version(store: Store, pki: LabPki, idents: Idents,
                                                            broker: Broker, gateway: ThreadGateway, dsn: str,
                                                            gw_files: Path, signer) -> None:  # type: ignore[no-untyped-def]
    doc = add_document(store, sign_pdf(make_pdf(1), signer), 1)
    worker = make_worker(store, pki, idents, broker.port)
    worker.run("127.0.0.1", broker.port, max_seconds=30, until_empty=True)
    store.replace_pdf(doc.id, sign_pdf(make_pdf(101), signer), actor="officer")
    worker.run("127.0.0.1", broker.port, max_seconds=30, until_empty=True)
    assert outbox_states(store) == {"delivered": 2}
    with psycopg.connect(dsn) as conn:
        assert conn.execute("SELECT count(*) FROM gw_document WHERE document_id=%s", (doc.id,)).fetchone()[0] == 2
    assert compare(store, dsn, gw_files).lost == 0


def test_unsigned_or_tampered_pdf_is_refused_and_kept_on_the_device(store: Store, pki: LabPki, idents: Idents,
                                                                    broker: Broker, gateway: ThreadGateway, dsn: str,
                                                                    signer) -> None:  # type: ignore[no-untyped-def]
    unsigned = add_document(store, make_pdf(7), 7)
    signed = bytearray(sign_pdf(make_pdf(8), signer))
    at = signed.index(b"So hoa 8")
    signed[at:at + 8] = b"So hoa 9"  # same length, content changed after signing
    tampered = add_document(store, bytes(signed), 8)
    good = add_document(store, sign_pdf(make_pdf(9), signer), 9)
    worker = make_worker(store, pki, idents, broker.port)
    worker.run("127.0.0.1", broker.port, max_seconds=30, until_empty=True)
    rows = {r.document_id: r for d in (unsigned, tampered, good) for r in store.outbox_for(d.id)}
    assert rows[good.id].state == "delivered"
    assert rows[unsigned.id].state == "failed" and "signature-missing" in (rows[unsigned.id].last_error or "")
    assert rows[tampered.id].state == "failed" and "signature-not-intact" in (rows[tampered.id].last_error or "")
    assert store.files.exists(unsigned.pdf_sha256) and store.files.exists(tampered.pdf_sha256)
    with psycopg.connect(dsn) as conn:
        assert conn.execute("SELECT count(*) FROM gw_document").fetchone()[0] == 1


def test_reuse_lookup_follows_art_25_3_order(store: Store, pki: LabPki, idents: Idents, broker: Broker,
                                             gw_settings, dsn: str, tmp_path: Path,
                                             signer) -> None:  # type: ignore[no-untyped-def]
    from dataclasses import replace

    from bench.sync_common import start_thread_gateway
    from province_gateway.service import StaticResolver

    index = tmp_path / "bilateral.json"
    index.write_text(json.dumps([{"MaKetQua": "KQ.G09.000001", "TenGiayTo": "Giấy phép lái xe", "SoKyHieu": "A1",
                                  "CoQuanChuQuan": "Bộ Công an", "SoDinhDanhChuSoHuu": OWNER,
                                  "DanhSachTepDinhKem": [{"TenTep": "gplx.pdf", "DuongDan": "https://x/1"}]}]))
    gw = start_thread_gateway(replace(gw_settings, resolvers=[StaticResolver(p.ReuseSource.BILATERAL, index)]))
    try:
        doc = add_document(store, sign_pdf(make_pdf(3), signer), 3)
        worker = make_worker(store, pki, idents, broker.port)
        worker.run("127.0.0.1", broker.port, max_seconds=30, until_empty=True)
        link = worker.connect("127.0.0.1", broker.port)
        scope = {"owner_id": OWNER, "dossier_code": doc.dossier_id}  # the office stored a paper of this dossier
        try:
            own = worker.lookup(link, p.ReuseQuery("1.000001", ((doc.result_code, None),), **scope))
            assert own.consulted == (p.ReuseSource.PROVINCE,)
            assert [h.result_code for h in own.hits] == [doc.result_code]
            assert own.hits[0].files[0][1].endswith(doc.pdf_sha256)
            other = worker.lookup(link, p.ReuseQuery("1.000001", (("KQ.G09.000001", "A1"),), **scope))
            assert other.consulted == (p.ReuseSource.PROVINCE, p.ReuseSource.BILATERAL)
            assert [(h.name, h.source) for h in other.hits] == [("Giấy phép lái xe", p.ReuseSource.BILATERAL)]
            none = worker.lookup(link, p.ReuseQuery("1.000001", (("KQ.X.1", None),), **scope))
            assert none.hits == () and none.error_code == p.NOT_FOUND
        finally:
            link.close()
    finally:
        gw.close()


def test_retention_releases_nothing_before_the_ack(store: Store, pki: LabPki, idents: Idents, broker: Broker,
                                                   signer) -> None:  # type: ignore[no-untyped-def]
    # no gateway is running: nothing can be acknowledged, so nothing is due for release
    doc = add_document(store, sign_pdf(make_pdf(4), signer), 4)
    worker = make_worker(store, pki, idents, broker.port, retention_days=0, response_timeout_s=1.0)
    worker.run("127.0.0.1", broker.port, max_seconds=3)
    assert worker.progress.due_for_release(0) == []
    assert store.outbox_for(doc.id)[0].state in ("failed", "sending")
    assert store.files.exists(doc.pdf_sha256)


def test_cli_status_and_once(store: Store, pki: LabPki, idents: Idents, broker: Broker, gateway: ThreadGateway,
                             sohoa_home: Path, signer, capsys: pytest.CaptureFixture[str]) -> None:  # type: ignore[no-untyped-def]
    from bench.sync_common import write_device_home

    doc = add_document(store, sign_pdf(make_pdf(5), signer), 5)
    assert sohoa_main(["sync", "once"]) == 6  # sync disabled by default → ConfigError
    write_device_home(get_paths(sohoa_home), pki, idents.a, broker.port)
    assert sohoa_main(["sync", "once", "--timeout", "30"]) == 0
    out = capsys.readouterr().out.strip().splitlines()
    assert json.loads(out[-1])["delivered"] == 1
    assert sohoa_main(["sync", "status"]) == 0
    status = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert status["outbox"] == {"delivered": 1} and status["sync"]["delivered"] == "1"
    scope = ["--owner", OWNER, "--dossier", doc.dossier_id]
    assert sohoa_main(["sync", "lookup", "--procedure", "1.000001", "--result", f"{doc.result_code}:5/GCN-UBND",
                       *scope]) == 0
    found = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert [h["MaKetQua"] for h in found["result"]["DanhSachGiayToKetQua"]] == [doc.result_code]
    assert sohoa_main(["sync", "lookup", "--procedure", "1.000001", "--result", "KQ.NONE", *scope]) == 7
    assert sohoa_main(["sync", "lookup", "--procedure", "1.000001", "--result", doc.result_code,
                       "--owner", OWNER, "--dossier", "HS-NOT-OURS"]) == 15  # no such dossier in this office
