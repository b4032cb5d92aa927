"""Security and bad input: ACL isolation, identity cross-check, malformed/forged/replayed/oversized
messages, and resume after a dropped link or a worker restart."""

from __future__ import annotations

import hashlib
import os
import queue
import threading
import time
from pathlib import Path

import paho.mqtt.client as mqtt
import psycopg

from bench.sync_common import (
    PROVINCE,
    ThreadGateway,
    add_document,
    compare,
    device_tls,
    make_pdf,
    sign_pdf,
    wait_until,
)
from service.paths import get_paths
from service.store.store import Store
from service.store.sync_state import SyncProgress
from service.sync import protocol as p
from service.sync.link import MqttLink, TlsFiles, publish_properties
from service.sync.store_source import StoreOutbox
from service.sync.worker import SyncWorker
from tests.support.mosquitto import Broker, Identity, LabPki
from tests.support.tcpproxy import FaultProxy

from .conftest import Idents
from .test_delivery import make_worker


class Client:
    """A raw MQTT 5 client with a certificate, collecting what it receives."""

    def __init__(self, pki: LabPki, ident: Identity, port: int, client_id: str) -> None:
        self.got: queue.Queue[mqtt.MQTTMessage] = queue.Queue()
        self.link = MqttLink(client_id=client_id, host="127.0.0.1", port=port,
                             tls=TlsFiles(pki.ca_file, ident.cert, ident.key), on_message=self.got.put)
        self.subacks: queue.Queue[list[str]] = queue.Queue()
        self.link.client.on_subscribe = lambda _c, _u, _mid, codes, _p: self.subacks.put([str(c) for c in codes])
        self.link.connect()

    def suback(self, topic: str) -> str:
        """Subscribe and return the broker's answer ("Granted QoS 1" or "Not authorized")."""
        self.link.subscribe(topic)
        return self.subacks.get(timeout=10)[0]

    def send(self, topic: str, payload: bytes, **props: object) -> None:
        info = self.link.publish(topic, payload, properties=publish_properties(**props))  # type: ignore[arg-type]
        self.link.wait_published(info, 10)

    def wait_for(self, pred, timeout: float = 10.0) -> mqtt.MQTTMessage | None:  # type: ignore[no-untyped-def]
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                msg = self.got.get(timeout=0.2)
            except queue.Empty:
                continue
            if pred(msg):
                return msg
        return None


def events(dsn: str) -> list[str]:
    with psycopg.connect(dsn) as conn:
        return [r[0] for r in conn.execute("SELECT reason FROM gw_event WHERE event='rejected' ORDER BY id")]


def test_manifest_claiming_another_device_is_refused(pki: LabPki, idents: Idents, broker: Broker,
                                                     gateway: ThreadGateway, dsn: str) -> None:
    a = Client(pki, idents.a, broker.port, "dev-a-0001-raw")
    a.link.subscribe(p.device_subscription(PROVINCE, idents.a.name))
    try:
        ref = p.FileRef("x.pdf", "application/pdf", 2000, "ab" * 32, 1024)
        forged = p.Manifest("doc-forged", idents.b.name, PROVINCE, "GCN", ref, "20240101000000")
        a.send(p.topic(PROVINCE, idents.a.name, p.Kind.MANIFEST), forged.encode(), content_type=p.CT_JSON)
        msg = a.wait_for(lambda m: m.topic.endswith("/down/ack"))
        assert msg is not None
        ack = p.Ack.decode(msg.payload)
        assert ack.status is p.AckStatus.REJECTED and ack.reason == "identity-mismatch"
        with psycopg.connect(dsn) as conn:
            assert conn.execute("SELECT count(*) FROM gw_transfer").fetchone()[0] == 0
        assert "manifest:identity-mismatch" in events(dsn)
    finally:
        a.link.close()


def test_malformed_wrong_hash_replayed_and_oversized_lose_no_good_data(
        pki: LabPki, idents: Idents, broker: Broker, gateway: ThreadGateway, dsn: str, gw_files: Path,
        signer) -> None:  # type: ignore[no-untyped-def]
    a = Client(pki, idents.a, broker.port, "dev-a-0001-raw")
    a.link.subscribe(p.device_subscription(PROVINCE, idents.a.name))
    mtopic = p.topic(PROVINCE, idents.a.name, p.Kind.MANIFEST)
    ctopic = p.topic(PROVINCE, idents.a.name, p.Kind.CHUNK)
    pdf = sign_pdf(make_pdf(42, pad=3000), signer)
    sha = hashlib.sha256(pdf).hexdigest()
    ref = p.FileRef("g.pdf", "application/pdf", len(pdf), sha, 1024)
    m = p.Manifest("doc-good", idents.a.name, PROVINCE, "GCN", ref, "20240101000000")

    def chunk(seq: int, data: bytes | None = None, claimed: str | None = None) -> None:
        part = pdf[seq * 1024:(seq + 1) * 1024] if data is None else data
        hdr = p.ChunkHeader("doc-good", sha, seq, claimed or hashlib.sha256(part).hexdigest())
        a.send(ctopic, part, user=hdr.to_properties(), content_type=p.CT_CHUNK)

    def answer(status: p.AckStatus) -> p.Ack:
        msg = a.wait_for(lambda x: x.topic.endswith("/down/ack") and p.Ack.decode(x.payload).status is status)
        assert msg is not None, status
        return p.Ack.decode(msg.payload)

    try:
        a.send(mtopic, b"{not json")
        a.send(mtopic, b'{"schema": "sohoa.manifest/1", "GiayToId": 5}')
        a.send(mtopic, m.encode(), correlation=b"c1")
        assert answer(p.AckStatus.NEED).need == tuple(range(ref.chunks))
        chunk(0)
        chunk(1, claimed="00" * 32)  # wrong hash
        chunk(0)  # replay
        chunk(2, data=os.urandom(1_200_000))  # oversized for the gateway (broker allows 2 MiB)
        chunk(3, data=b"short")  # right hash of the wrong length
        a.send(mtopic, m.encode(), correlation=b"c2")
        assert answer(p.AckStatus.NEED).need == tuple(range(1, ref.chunks))  # chunk 0 was kept
        for seq in range(1, ref.chunks):
            chunk(seq)
        stored = answer(p.AckStatus.STORED)
        assert stored.receipt and stored.sha256 == sha
        chunk(0)  # replay after the document is complete
        a.send(mtopic, m.encode(), correlation=b"c3")
        assert answer(p.AckStatus.STORED).receipt == stored.receipt
        reasons = events(dsn)
        for expected in ("manifest:not-json", "manifest:missing-field", "chunk:chunk-hash-mismatch", "chunk:oversized",
                         "chunk:chunk-length"):
            assert expected in reasons, reasons
        with psycopg.connect(dsn) as conn:
            assert conn.execute("SELECT count(*) FROM gw_document").fetchone()[0] == 1
            assert conn.execute("SELECT count(*) FROM gw_event WHERE event='stored'").fetchone()[0] == 1
            assert conn.execute("SELECT count(*) FROM gw_chunk").fetchone()[0] == 0
        assert (gw_files / sha[:2] / sha[2:4] / sha).read_bytes() == pdf
        assert gateway.thread.is_alive()
    finally:
        a.link.close()


def test_resume_after_dropped_link_sends_only_missing_chunks(store: Store, pki: LabPki, idents: Idents,
                                                             broker: Broker, gateway: ThreadGateway, dsn: str,
                                                             gw_files: Path, signer) -> None:  # type: ignore[no-untyped-def]
    proxy = FaultProxy(broker.port)
    doc = add_document(store, sign_pdf(make_pdf(77, pad=120_000), signer), 77)
    chunks = -(-os.path.getsize(store.files.path_for(doc.pdf_sha256)) // 4096)
    worker = make_worker(store, pki, idents, proxy.port, bandwidth_bytes_per_s=60_000, max_inflight=4)
    t = threading.Thread(target=worker.run, args=("127.0.0.1", proxy.port),
                         kwargs={"max_seconds": 60, "until_empty": True})
    t.start()
    try:
        def held() -> int:
            with psycopg.connect(dsn) as conn:
                return int(conn.execute("SELECT count(*) FROM gw_chunk").fetchone()[0])
        assert wait_until(lambda: held() >= chunks // 3, 30, 0.1)
        proxy.drop(refuse_s=1.0)
        t.join(60)
    finally:
        worker.stop.set()
        t.join(10)
        proxy.close()
    assert worker.stats.link_failures >= 1
    assert store.outbox_for(doc.id)[0].state == "delivered"
    assert worker.stats.chunks < chunks + 2 * 4, (worker.stats.chunks, chunks)  # resumed, not restarted
    assert compare(store, dsn, gw_files).lost == 0


def test_restarted_worker_resumes_a_half_sent_file(store: Store, pki: LabPki, idents: Idents, broker: Broker,
                                                   gateway: ThreadGateway, dsn: str,
                                                   signer) -> None:  # type: ignore[no-untyped-def]
    doc = add_document(store, sign_pdf(make_pdf(78, pad=100_000), signer), 78)
    chunks = -(-os.path.getsize(store.files.path_for(doc.pdf_sha256)) // 4096)
    first = make_worker(store, pki, idents, broker.port, bandwidth_bytes_per_s=50_000, max_inflight=4)
    t = threading.Thread(target=first.run, args=("127.0.0.1", broker.port), kwargs={"max_seconds": 30})
    t.start()
    assert wait_until(lambda: (first.progress.get(1) or p_none()).next_seq >= chunks // 3, 20, 0.05)
    first.stop.set()  # "reboot": the process stops mid-file
    t.join(15)
    saved = SyncProgress(get_paths().database).get(1)
    assert saved is not None and 0 < saved.next_seq < chunks
    second = SyncWorker(first.cfg, device_id=idents.a.name, province=PROVINCE, source=StoreOutbox(store),
                        progress=SyncProgress(get_paths().database), tls=device_tls(pki, idents.a))
    second.run("127.0.0.1", broker.port, max_seconds=30, until_empty=True)
    assert store.outbox_for(doc.id)[0].state == "delivered"
    assert first.stats.chunks + second.stats.chunks < chunks + 2 * 4


def p_none():  # type: ignore[no-untyped-def]
    class _P:
        next_seq = 0
    return _P()


def test_two_replicas_share_the_load_and_survive_a_broker_sigkill(store: Store, pki: LabPki, idents: Idents,
                                                                  broker: Broker, gw_settings, dsn: str,
                                                                  gw_files: Path, signer) -> None:  # type: ignore[no-untyped-def]
    from dataclasses import replace

    from bench.sync_common import lab_gateway, start_thread_gateway
    from province_gateway.mqtt import GatewayTls

    second = lab_gateway(pki, broker, "gateway-70-b")
    replicas = [start_thread_gateway(replace(gw_settings, replica_id=f"{gw_settings.replica_id}-1")),
                start_thread_gateway(replace(gw_settings, replica_id=f"{gw_settings.replica_id}-2",
                                             tls=GatewayTls(pki.ca_file, second.cert, second.key)))]
    try:
        for i in range(12):
            add_document(store, sign_pdf(make_pdf(200 + i, pad=8000), signer), 200 + i)
        worker = make_worker(store, pki, idents, broker.port, bandwidth_bytes_per_s=80_000)
        t = threading.Thread(target=worker.run, args=("127.0.0.1", broker.port),
                             kwargs={"max_seconds": 90, "until_empty": True})
        t.start()
        time.sleep(0.8)
        broker.kill()
        time.sleep(0.5)
        broker.start()
        t.join(100)
        assert not t.is_alive()
        result = compare(store, dsn, gw_files)
        assert (result.undelivered, result.lost, result.duplicated) == (0, 0, 0)
        with psycopg.connect(dsn) as conn:
            served = conn.execute("SELECT count(DISTINCT replica) FROM gw_event WHERE event='manifest'").fetchone()[0]
        assert served == 2
    finally:
        for r in replicas:
            r.close()


def test_status_is_retained_and_the_last_will_says_offline(store: Store, pki: LabPki, idents: Idents,
                                                           broker: Broker) -> None:
    proxy = FaultProxy(broker.port)
    worker = make_worker(store, pki, idents, proxy.port)
    status_topic = p.topic(PROVINCE, idents.a.name, p.Kind.STATUS)
    link = worker.connect("127.0.0.1", proxy.port)
    spy = Client(pki, idents.spy, broker.port, "spy-status")
    try:
        spy.link.subscribe(status_topic)
        online = spy.wait_for(lambda m: b'"online"' in m.payload)
        assert online is not None
        proxy.drop()  # the device vanishes without DISCONNECT
        offline = spy.wait_for(lambda m: b'"offline"' in m.payload)
        assert offline is not None
        late = Client(pki, idents.gw, broker.port, "spy-status-late")  # a new monitor sees the retained state
        try:
            late.link.subscribe(status_topic)
            msg = late.wait_for(lambda m: True)
            assert msg is not None and msg.retain and b'"offline"' in msg.payload
        finally:
            late.link.close()
    finally:
        link.close()
        spy.link.close()
        proxy.close()


def test_a_database_outage_on_the_gateway_loses_nothing(store: Store, pki: LabPki, idents: Idents, broker: Broker,
                                                        gateway: ThreadGateway, pg, dsn: str, gw_files: Path,
                                                        signer) -> None:  # type: ignore[no-untyped-def]
    for i in range(4):
        add_document(store, sign_pdf(make_pdf(300 + i, pad=6000), signer), 300 + i)
    pg.halt()
    worker = make_worker(store, pki, idents, broker.port, response_timeout_s=1.5)
    t = threading.Thread(target=worker.run, args=("127.0.0.1", broker.port),
                         kwargs={"max_seconds": 60, "until_empty": True})
    t.start()
    time.sleep(3)
    assert worker.stats.delivered == 0
    pg.start()
    t.join(70)
    assert not t.is_alive()
    result = compare(store, dsn, gw_files)
    assert (result.undelivered, result.lost, result.duplicated) == (0, 0, 0)
    assert gateway.thread.is_alive()


def test_a_certificate_from_another_ca_is_refused_even_with_a_valid_device_name(pki: LabPki, broker: Broker,
                                                                                tmp_path: Path) -> None:
    import pytest

    from service.sync.link import LinkDown

    rogue = LabPki(tmp_path / "rogue").issue("dev-a-0001")
    link = MqttLink(client_id="dev-a-0001", host="127.0.0.1", port=broker.port,
                    tls=TlsFiles(pki.ca_file, rogue.cert, rogue.key), on_message=lambda m: None)
    with pytest.raises(LinkDown):
        link.connect(timeout_s=5)
