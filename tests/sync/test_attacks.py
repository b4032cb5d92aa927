"""An insider with one valid device certificate, against the real broker and gateway: every attack is
refused while another device's legitimate uploads are still delivered."""

from __future__ import annotations

import hashlib
import threading
import time
from dataclasses import replace
from pathlib import Path

import psycopg

from bench.sync_common import (
    PROVINCE,
    ThreadGateway,
    add_document,
    compare,
    device_tls,
    lab_device,
    make_pdf,
    sign_pdf,
    start_thread_gateway,
    wait_until,
)
from province_gateway.db import register_device, register_dossier
from province_gateway.policy import Limits
from service.paths import get_paths
from service.store.store import Store
from service.store.sync_state import SyncProgress
from service.sync import protocol as p
from service.sync.store_source import StoreOutbox
from service.sync.worker import SyncWorker
from tests.support.mosquitto import Broker, LabPki, revoke_enrolment

from .conftest import Idents
from .test_delivery import OWNER
from .test_faults import Client, events

DENIED = "Not authorized"


class Legit:
    """Device B uploading the store's documents in a thread while an attack runs."""

    def __init__(self, store: Store, pki: LabPki, idents: Idents, port: int, signer, n: int,  # type: ignore[no-untyped-def]
                 base: int, pad: int = 3000, **cfg: object) -> None:
        from bench.sync_common import sync_config

        for i in range(n):
            add_document(store, sign_pdf(make_pdf(base + i, pad=pad), signer), base + i)
        self.worker = SyncWorker(sync_config(port, **cfg), device_id=idents.b.name, province=PROVINCE,
                                 source=StoreOutbox(store), progress=SyncProgress(get_paths().database),
                                 tls=device_tls(pki, idents.b))
        self.thread = threading.Thread(target=self.worker.run, args=("127.0.0.1", port),
                                       kwargs={"max_seconds": 60, "until_empty": True})
        self.thread.start()

    def finish(self, store: Store, dsn: str, files: Path, n: int) -> None:
        """All of B's documents are stored once, intact."""
        self.thread.join(70)
        assert not self.thread.is_alive()
        result = compare(store, dsn, files)
        assert (result.versions, result.undelivered, result.lost, result.duplicated) == (n, 0, 0, 0)


def test_a_device_cannot_subscribe_to_shared_or_foreign_topics(store: Store, pki: LabPki, idents: Idents,
                                                               broker: Broker, gateway: ThreadGateway, dsn: str,
                                                               gw_files: Path, signer) -> None:  # type: ignore[no-untyped-def]
    spy = Client(pki, idents.a, broker.port, "dev-a-0001")
    try:
        for topic in ("$share/gw/sohoa/v1/+/+/up/#", "$share/x/sohoa/v1/70/dev-b-0002/up/#", "sohoa/v1/+/+/up/#",
                      "sohoa/v1/70/dev-b-0002/down/#", "sohoa/v1/+/+/down/#", "#", "$CONTROL/dynamic-security/#",
                      "sohoa/v1/70/dev-a-0001/up/#"):
            assert spy.suback(topic) == DENIED, topic
        assert spy.suback(p.device_subscription(PROVINCE, idents.a.name)) == "Granted QoS 1"
        legit = Legit(store, pki, idents, broker.port, signer, 10, 500)
        legit.finish(store, dsn, gw_files, 10)  # not one manifest of B was stolen by the spy
        assert spy.wait_for(lambda m: idents.b.name in m.topic, timeout=0.5) is None
    finally:
        spy.link.close()


def test_a_device_cannot_take_over_another_devices_client_id(pki: LabPki, idents: Idents, broker: Broker,
                                                             gateway: ThreadGateway) -> None:
    b = Client(pki, idents.b, broker.port, "dev-b-0002")
    b.suback(p.device_subscription(PROVINCE, idents.b.name))
    a = Client(pki, idents.a, broker.port, "dev-b-0002")  # the broker names it by its certificate instead
    try:
        time.sleep(0.5)
        assert b.link.up and a.link.up
        # B's own session still works: a manifest it sends is answered on B's downlink, not A's
        ref = p.FileRef("x.pdf", "application/pdf", 2000, "ab" * 32, 1024)
        m = p.Manifest("doc-b-own", idents.b.name, PROVINCE, "GCN", ref, "20240101000000")
        b.send(p.topic(PROVINCE, idents.b.name, p.Kind.MANIFEST), m.encode(), correlation=b"c1")
        assert b.wait_for(lambda x: x.topic.endswith("/down/ack")) is not None
        assert a.wait_for(lambda x: True, timeout=1.0) is None
    finally:
        a.link.close()
        b.link.close()


def test_the_province_is_bound_to_the_identity(store: Store, pki: LabPki, idents: Idents, broker: Broker,
                                               gateway: ThreadGateway, dsn: str, gw_files: Path,
                                               signer) -> None:  # type: ignore[no-untyped-def]
    a = Client(pki, idents.a, broker.port, "dev-a-0001")
    # a device the broker knows in province 01 while the gateway's registry says 70: the gateway refuses it too
    odd = lab_device(pki, broker, "dev-c-0003", province="01")
    register_device(dsn, odd.name, "70", "office-c")
    c = Client(pki, odd, broker.port, "dev-c-0003")
    legit = Legit(store, pki, idents, broker.port, signer, 4, 600)
    try:
        ref = p.FileRef("x.pdf", "application/pdf", 2000, "cd" * 32, 1024)
        for prov in ("01", "99"):
            forged = p.Manifest(f"doc-forged-{prov}", idents.a.name, prov, "GCN", ref, "20240101000000")
            a.send(p.topic(prov, idents.a.name, p.Kind.MANIFEST), forged.encode())  # PUBACK 135: not delivered
        c_manifest = p.Manifest("doc-c", odd.name, "01", "GCN", ref, "20240101000000")
        c.send(p.topic("01", odd.name, p.Kind.MANIFEST), c_manifest.encode())
        assert wait_until(lambda: "manifest:province-mismatch" in events(dsn), 10)
        legit.finish(store, dsn, gw_files, 4)
        with psycopg.connect(dsn) as conn:
            provinces = {r[0] for r in conn.execute("SELECT DISTINCT province FROM gw_transfer")}
        assert provinces == {PROVINCE}
    finally:
        a.link.close()
        c.link.close()


def test_unenrolled_and_revoked_identities_can_do_nothing(pki: LabPki, idents: Idents, broker: Broker,
                                                          gateway: ThreadGateway, dsn: str) -> None:
    stranger = Client(pki, pki.issue("dev-stranger-9"), broker.port, "x")  # the CA's cert, never enrolled
    try:
        assert stranger.suback(p.device_subscription(PROVINCE, "dev-stranger-9")) == DENIED
    finally:
        stranger.link.close()
    stolen = lab_device(pki, broker, "dev-stolen-8", dsn)
    thief = Client(pki, stolen, broker.port, "dev-stolen-8")
    assert thief.suback(p.device_subscription(PROVINCE, stolen.name)) == "Granted QoS 1"
    revoke_enrolment(broker, stolen.name, dsn=dsn)  # the box was reported stolen: its session is kicked
    assert wait_until(lambda: not thief.link.up, 5)
    thief.link.close()
    again = Client(pki, stolen, broker.port, "dev-stolen-8")
    try:
        assert again.suback(p.device_subscription(PROVINCE, stolen.name)) == DENIED
        ref = p.FileRef("x.pdf", "application/pdf", 2000, "ab" * 32, 1024)
        again.send(p.topic(PROVINCE, stolen.name, p.Kind.MANIFEST),
                   p.Manifest("doc-stolen", stolen.name, PROVINCE, "GCN", ref, "20240101000000").encode())
    finally:
        again.link.close()
    with psycopg.connect(dsn) as conn:
        assert conn.execute("SELECT count(*) FROM gw_transfer").fetchone()[0] == 0


def test_declared_sizes_and_need_answers_are_bounded(store: Store, pki: LabPki, idents: Idents, broker: Broker,
                                                     gw_settings, dsn: str, gw_files: Path,
                                                     signer) -> None:  # type: ignore[no-untyped-def]
    gw = start_thread_gateway(replace(gw_settings, limits=Limits(max_file_bytes=8 * 1024 * 1024, max_chunks=4096,
                                                                 max_need=16)))
    a = Client(pki, idents.a, broker.port, "dev-a-0001")
    a.suback(p.device_subscription(PROVINCE, idents.a.name))
    try:
        huge = p.FileRef("x.pdf", "application/pdf", p.MAX_FILE_BYTES, "ee" * 32, 1024)  # 256 MiB in 1 KiB chunks
        many = p.FileRef("y.pdf", "application/pdf", 5 * 1024 * 1024, "ef" * 32, 1024)  # 5120 chunks
        big = p.FileRef("z.pdf", "application/pdf", 1024 * 1024, "f0" * 32, 1024)  # 1024 chunks: allowed
        answers = {}
        for name, ref in (("huge", huge), ("many", many), ("big", big)):
            a.send(p.topic(PROVINCE, idents.a.name, p.Kind.MANIFEST),
                   p.Manifest(f"doc-{name}", idents.a.name, PROVINCE, "GCN", ref, "20240101000000").encode())
            msg = a.wait_for(lambda x, n=name: f'"doc-{n}"'.encode() in x.payload)
            assert msg is not None
            answers[name] = msg.payload
        assert p.Ack.decode(answers["huge"]).reason == "too-large"
        assert p.Ack.decode(answers["many"]).reason == "too-many-chunks"
        capped = p.Ack.decode(answers["big"])
        assert capped.status is p.AckStatus.NEED and capped.need == tuple(range(16)) and capped.more == 1024 - 16
        assert max(len(v) for v in answers.values()) < 400  # bytes, whatever was declared
        # a real device transfer through a capped `need` list still completes (it asks for the rest)
        legit = Legit(store, pki, idents, broker.port, signer, 2, 700, pad=40_000, chunk_size=1024)
        legit.finish(store, dsn, gw_files, 2)
        assert legit.worker.stats.chunks < 2 * 45  # ~41 chunks each, each sent once
    finally:
        a.link.close()
        gw.close()


def test_per_device_quota_and_expiry_of_incomplete_transfers(store: Store, pki: LabPki, idents: Idents,
                                                              broker: Broker, gw_settings, dsn: str, gw_files: Path,
                                                              signer) -> None:  # type: ignore[no-untyped-def]
    limits = Limits(max_open_transfers=3, transfer_ttl_s=2.0, sweep_interval_s=0.5)
    gw = start_thread_gateway(replace(gw_settings, limits=limits))
    a = Client(pki, idents.a, broker.port, "dev-a-0001")
    a.suback(p.device_subscription(PROVINCE, idents.a.name))
    try:
        legit = Legit(store, pki, idents, broker.port, signer, 4, 800)
        statuses = []
        for i in range(5):
            sha = hashlib.sha256(f"flood {i}".encode()).hexdigest()
            ref = p.FileRef("f.pdf", "application/pdf", 4096, sha, 1024)
            a.send(p.topic(PROVINCE, idents.a.name, p.Kind.MANIFEST),
                   p.Manifest(f"doc-flood-{i}", idents.a.name, PROVINCE, "GCN", ref, "20240101000000").encode())
            msg = a.wait_for(lambda x, i=i: f'"doc-flood-{i}"'.encode() in x.payload)
            assert msg is not None
            statuses.append(p.Ack.decode(msg.payload))
            part = b"x" * 1024
            hdr = p.ChunkHeader(f"doc-flood-{i}", sha, 0, hashlib.sha256(part).hexdigest())
            a.send(p.topic(PROVINCE, idents.a.name, p.Kind.CHUNK), part, user=hdr.to_properties())
        assert [s.status for s in statuses] == [p.AckStatus.NEED] * 3 + [p.AckStatus.LATER] * 2
        assert statuses[-1].reason == "quota-exceeded"
        legit.finish(store, dsn, gw_files, 4)  # B's quota is its own

        def open_rows() -> tuple[int, int]:
            with psycopg.connect(dsn) as conn:
                t = conn.execute("SELECT count(*) FROM gw_transfer WHERE state='receiving'").fetchone()[0]
                c = conn.execute("SELECT count(*) FROM gw_chunk").fetchone()[0]
            return int(t), int(c)
        assert wait_until(lambda: open_rows() == (0, 0), 10)
        with psycopg.connect(dsn) as conn:
            expired = conn.execute("SELECT count(*) FROM gw_event WHERE event='expired'").fetchone()[0]
        assert expired == 3
        assert "manifest:quota-exceeded" in events(dsn)
    finally:
        a.link.close()
        gw.close()


def test_reuse_lookups_are_authorised_scoped_rate_limited_and_logged(
        store: Store, pki: LabPki, idents: Idents, broker: Broker, gw_settings, dsn: str, gw_files: Path,
        signer) -> None:  # type: ignore[no-untyped-def]
    gw = start_thread_gateway(replace(gw_settings, limits=Limits(reuse_per_minute=6, reuse_burst=6)))
    try:
        # B's office stores a paper of a citizen; a second citizen's paper has the same result code
        legit = Legit(store, pki, idents, broker.port, signer, 1, 900)
        legit.finish(store, dsn, gw_files, 1)
        doc = store.get(store.conn.execute("SELECT document_id FROM outbox").fetchone()[0])
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute("INSERT INTO gw_document(document_id, sha256, device_id, province, name, result_code,"
                         " manifest, size, signature, owner_id, office) VALUES ('other', %s, 'dev-b-0002', '70',"
                         " 'GCN', %s, '{}', 1, 'x', '079000000001', 'office-b')", ("11" * 32, doc.result_code))
        a = Client(pki, idents.a, broker.port, "dev-a-0001")
        a.suback(p.device_subscription(PROVINCE, idents.a.name))

        def ask(owner: str | None, dossier: str | None) -> p.ReuseAnswer:
            corr = str(time.monotonic_ns()).encode()
            q = p.ReuseQuery("1.000001", ((doc.result_code, None),), owner_id=owner, dossier_code=dossier)
            a.send(p.topic(PROVINCE, idents.a.name, p.Kind.REUSE_REQ), q.encode(), correlation=corr)
            msg = a.wait_for(lambda m: getattr(m.properties, "CorrelationData", None) == corr)
            assert msg is not None
            return p.ReuseAnswer.decode(msg.payload)

        # A knows the owner's id (it is the prefix of every result code) but holds no dossier for them
        assert ask(OWNER, None).error_code == p.NOT_AUTHORISED
        assert ask(OWNER, doc.dossier_id).error_code == p.NOT_AUTHORISED  # B's dossier, not A's office's
        register_dossier(dsn, "office-a", "HS-A-1", OWNER, "1.000001")  # the one-stop-shop system opened it
        found = ask(OWNER, "HS-A-1")
        assert found.error_code == p.FOUND and [h.result_code for h in found.hits] == [doc.result_code]
        assert all(h.files[0][1].endswith(doc.pdf_sha256) for h in found.hits)  # only this owner's paper
        assert ask("079000000001", "HS-A-1").error_code == p.NOT_AUTHORISED  # the dossier is for someone else
        answers = [ask(OWNER, "HS-A-1").error_code for _ in range(4)]
        assert p.RATE_LIMITED in answers  # 6 per minute per device
        a.link.close()
        with psycopg.connect(dsn) as conn:
            logged = [r[0] for r in conn.execute("SELECT outcome FROM gw_lookup WHERE device_id='dev-a-0001'"
                                                 " ORDER BY id")]
        assert len(logged) == 8 and logged[:4] == ["not-authorised", "not-authorised", "answered", "not-authorised"]
        assert "rate-limited" in logged
        assert "reuse:not-authorised" in events(dsn)
    finally:
        gw.close()


def test_unauthorised_flood_does_not_starve_other_devices(store: Store, pki: LabPki, idents: Idents,
                                                          broker: Broker, gateway: ThreadGateway, dsn: str,
                                                          gw_files: Path, signer) -> None:  # type: ignore[no-untyped-def]
    a = Client(pki, idents.a, broker.port, "dev-a-0001")
    q = p.ReuseQuery("1.000001", (("KQ.X", None),), owner_id=OWNER, dossier_code="HS-1").encode()
    legit = Legit(store, pki, idents, broker.port, signer, 4, 950)
    try:
        started = time.monotonic()
        for _ in range(300):
            a.link.publish(p.topic(PROVINCE, idents.a.name, p.Kind.REUSE_REQ), q)
        legit.finish(store, dsn, gw_files, 4)
        assert time.monotonic() - started < 30
    finally:
        a.link.close()

    def outcomes() -> dict[str, int]:
        with psycopg.connect(dsn) as conn:
            return {str(k): int(v) for k, v in conn.execute("SELECT outcome, count(*) FROM gw_lookup GROUP BY 1")}
    assert wait_until(lambda: sum(outcomes().values()) == 300, 30)  # every look-up has its row
    assert outcomes().get("answered", 0) == 0 and outcomes()["rate-limited"] >= 250


def test_a_device_over_its_quota_delivers_everything_later(store: Store, pki: LabPki, idents: Idents,
                                                           broker: Broker, gw_settings, dsn: str, gw_files: Path,
                                                           signer) -> None:  # type: ignore[no-untyped-def]
    gw = start_thread_gateway(replace(gw_settings, limits=Limits(max_open_transfers=2)))
    try:
        legit = Legit(store, pki, idents, broker.port, signer, 6, 1100, window=6, backoff_initial_s=0.2,
                      backoff_max_s=0.5)
        legit.finish(store, dsn, gw_files, 6)
        assert legit.worker.stats.retried >= 1  # some manifests were answered `later`
        assert "manifest:quota-exceeded" in events(dsn)
    finally:
        gw.close()


def test_a_self_signed_signature_is_not_trusted_in_production_configuration(
        store: Store, pki: LabPki, idents: Idents, broker: Broker, gw_settings, dsn: str, gw_files: Path,
        tmp_path: Path, signer) -> None:  # type: ignore[no-untyped-def]
    from asn1crypto import pem

    from bench.sync_common import make_signer

    roots = tmp_path / "roots.pem"
    roots.write_bytes(pem.armor("CERTIFICATE", signer.signing_cert.dump()))  # the offices' signing CA
    gw = start_thread_gateway(replace(gw_settings, trust_roots=roots, dev_trust_any=False))
    try:
        rogue = add_document(store, sign_pdf(make_pdf(1200), make_signer(tmp_path / "rogue")), 1200)
        legit = Legit(store, pki, idents, broker.port, signer, 2, 1201)
        legit.thread.join(70)
        assert store.outbox_for(rogue.id)[0].state == "failed"
        assert "signer-not-trusted" in (store.outbox_for(rogue.id)[0].last_error or "")
        with psycopg.connect(dsn) as conn:
            stored = {r[0] for r in conn.execute("SELECT document_id FROM gw_document")}
        assert rogue.id not in stored and len(stored) == 2
    finally:
        gw.close()
