"""One MQTT connection per box: look-ups (kiosk reuse step, ``sohoa reuse find``, ``sohoa sync lookup``)
while the sync worker delivers never disconnect it; they go through the worker's own link.

Real Mosquitto (client id = certificate identity) and PostgreSQL. Before the fix, 4 look-ups during a
delivery cost the worker 5 link failures and 35 re-queued rows, and one look-up went unanswered.
"""

from __future__ import annotations

import json
import re
import signal
import socket
import threading
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
    wait_until,
    worker_process,
    write_device_home,
)
from province_gateway.db import register_dossier
from service.cli.main import main as sohoa_main
from service.config import load_config
from service.paths import get_paths
from service.store.store import Store
from service.sync import protocol as p
from service.sync.device import ask_province, serving
from service.sync.link import MqttLink, publish_properties
from service.sync.lookup_ipc import LinkLock, LookupServer, ask_worker, socket_path
from service.usecases import reuse
from tests.support.mosquitto import Broker, LabPki

from .conftest import OFFICES, Idents
from .test_delivery import OWNER, make_worker

DOSSIER, PROCEDURE, DOC_TYPE = "HS-LOOKUP-1", "1.001193", "KQ.G15.000031"  # add_document's type


def _connects(broker: Broker, device: str, since: int) -> int:
    """How many times the broker accepted a connection of ``device`` after log offset ``since``."""
    log = (broker.dir / "mosquitto.log").read_text(errors="replace")[since:]
    return len(re.findall(rf"New client connected from \S+ as {re.escape(device)} ", log))


def _log_size(broker: Broker) -> int:
    return len((broker.dir / "mosquitto.log").read_text(errors="replace"))


def _query() -> p.ReuseQuery:
    return p.ReuseQuery(PROCEDURE, (), owner_id=OWNER, dossier_code=DOSSIER, document_types=(DOC_TYPE,))


def test_lookups_while_the_worker_delivers_never_disconnect_it(  # type: ignore[no-untyped-def]
        sohoa_home: Path, tmp_path: Path, pki: LabPki, idents: Idents, broker: Broker, gateway: ThreadGateway,
        dsn: str, gw_files: Path, signer, capsys: pytest.CaptureFixture[str]) -> None:
    paths = get_paths(sohoa_home)
    write_device_home(paths, pki, idents.a, broker.port, bandwidth_bytes_per_s=40_000)
    register_dossier(dsn, OFFICES[idents.a.name], DOSSIER, OWNER, PROCEDURE)
    with Store.open(paths) as store:
        for i in range(10):
            add_document(store, sign_pdf(make_pdf(i, pad=24_000), signer), i)
    since = _log_size(broker)
    proc = worker_process(sohoa_home, tmp_path / "worker.log")  # `python -m service.sync run`, as systemd does
    try:
        assert wait_until(lambda: socket_path(sohoa_home).exists(), 20), (tmp_path / "worker.log").read_text()
        with Store.open(paths) as store:
            assert wait_until(lambda: store.conn.execute(
                "SELECT count(*) FROM outbox WHERE state='sending'").fetchone()[0] > 0, 20)
            assert store.count_undelivered() > 0  # the look-ups below run while documents are in flight

        cfg = load_config(paths.config)
        outcomes: list[str] = []
        errors: list[BaseException] = []

        def kiosk_step() -> None:  # the desk's reuse step (service/usecases/reuse.py)
            try:
                outcomes.append(reuse.find_reuse(OWNER, (DOC_TYPE,), dossier_id=DOSSIER, procedure_code=PROCEDURE,
                                                 paths=paths, config=cfg).province)
            except BaseException as exc:  # noqa: BLE001 - reported by the assertion below
                errors.append(exc)

        for _ in range(2):  # two rounds of three concurrent desk look-ups
            threads = [threading.Thread(target=kiosk_step) for _ in range(3)]
            for t in threads:
                t.start()
            for t in threads:
                t.join(30)
        rc = sohoa_main(["reuse", "find", "--owner", OWNER, "--doc-type", DOC_TYPE, "--dossier", DOSSIER, "--json"])
        assert rc in (0, 7) and "province: " in capsys.readouterr().err
        rc = sohoa_main(["sync", "lookup", "--procedure", PROCEDURE, "--result", "KQ.G15.000031-70-000000",
                         "--owner", OWNER, "--dossier", DOSSIER, "--timeout", "8"])
        answer = json.loads(capsys.readouterr().out)
        assert rc in (0, 7) and answer["errorCode"] in (0, 1)
        assert errors == [] and len(outcomes) == 6
        assert set(outcomes) <= {reuse.ANSWERED, reuse.NOT_FOUND}, outcomes  # every look-up answered by the province

        with Store.open(paths) as store:
            assert wait_until(lambda: store.count_undelivered() == 0, 90)
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(30)
    log = (tmp_path / "worker.log").read_text(errors="replace")
    assert "link down" not in log, log
    with Store.open(paths) as store, store.sync_progress() as progress:
        state = progress.state()
        assert state.get("connects") == "1" and state.get("link_failures", "0") == "0", state
        result = compare(store, dsn, gw_files)
    assert (result.versions, result.lost, result.duplicated, result.undelivered) == (10, 0, 0, 0)
    assert _connects(broker, idents.a.name, since) == 1  # the look-ups opened no connection of their own
    assert not socket_path(sohoa_home).exists()  # removed on a clean stop
    with psycopg.connect(dsn) as conn:
        logged = conn.execute("SELECT device_id, outcome FROM gw_lookup").fetchall()
    assert len(logged) == 8 and {d for d, _ in logged} == {idents.a.name}
    assert {o for _, o in logged} <= {"answered", "not-found"}


def test_without_a_worker_a_lookup_connects_itself_and_keeps_the_acks_queued_for_the_worker(  # type: ignore[no-untyped-def]
        sohoa_home: Path, pki: LabPki, idents: Idents, broker: Broker, gateway: ThreadGateway, dsn: str,
        signer) -> None:
    paths = get_paths(sohoa_home)
    write_device_home(paths, pki, idents.a, broker.port)
    register_dossier(dsn, OFFICES[idents.a.name], DOSSIER, OWNER, PROCEDURE)
    cfg = load_config(paths.config)
    stale = socket.socket(socket.AF_UNIX)  # a worker killed with -9 leaves its socket file behind
    stale.bind(str(socket_path(sohoa_home)))
    stale.close()
    assert ask_province(paths, cfg, _query(), 8).error_code in (p.FOUND, p.NOT_FOUND)

    # while the box is offline, the gateway's `stored` ack waits in the device's persistent session
    with Store.open(paths) as store:
        doc = add_document(store, sign_pdf(make_pdf(1), signer), 1)
        assert store.count_undelivered() == 1
    ack = p.Ack(doc.id, doc.pdf_sha256, p.AckStatus.STORED, receipt="gw-receipt-1")
    gw = MqttLink(client_id=idents.spy.name, host="127.0.0.1", port=broker.port, tls=device_tls(pki, idents.spy),
                  on_message=lambda m: None)
    gw.connect()
    try:
        gw.wait_published(gw.publish(p.topic(PROVINCE, idents.a.name, p.Kind.ACK), ack.encode(),
                                     properties=publish_properties(content_type=p.CT_JSON)), 10)
    finally:
        gw.close()
    # the direct look-up takes over that session: it must not swallow the ack
    assert ask_province(paths, cfg, _query(), 8).error_code in (p.FOUND, p.NOT_FOUND)
    with Store.open(paths) as store:
        assert store.count_undelivered() == 0


def _raw(path: Path, data: bytes) -> dict[str, object]:
    with socket.socket(socket.AF_UNIX) as s:
        s.settimeout(15)
        s.connect(str(path))
        s.sendall(data)
        buf = b""
        while not buf.endswith(b"\n"):
            part = s.recv(65536)
            if not part:
                break
            buf += part
    return json.loads(buf)  # type: ignore[no-any-return]


def test_the_worker_socket_serves_reuse_lookups_only(
        sohoa_home: Path, pki: LabPki, idents: Idents, broker: Broker, gateway: ThreadGateway, dsn: str,
        store: Store) -> None:
    paths = get_paths(sohoa_home)
    write_device_home(paths, pki, idents.a, broker.port)
    register_dossier(dsn, OFFICES[idents.a.name], DOSSIER, OWNER, PROCEDURE)
    worker = make_worker(store, pki, idents, broker.port)
    done = threading.Event()

    def run() -> None:
        with serving(paths, worker):
            worker.run("127.0.0.1", broker.port, max_seconds=60)
        done.set()

    t = threading.Thread(target=run, daemon=True)
    t.start()
    sock = socket_path(sohoa_home)
    try:
        assert wait_until(lambda: worker._link is not None and worker._link.up, 20)
        manifest = {"schema": "sohoa.manifest/1", "GiayToId": "x1", "MaThietBi": idents.a.name}
        bad = [b"not json\n", json.dumps({"timeout_s": 5, "query": manifest}).encode() + b"\n",
               json.dumps({"query": json.loads(_query().encode())}).encode() + b"\n",  # no timeout
               json.dumps({"timeout_s": 1e9, "query": json.loads(_query().encode())}).encode() + b"\n",
               b'{"timeout_s": 5, "query": "' + b"A" * 70_000 + b'"}\n']
        for data in bad:
            body = _raw(sock, data)
            assert body["error"] == "bad-request", body  # refused, nothing published
        good = _raw(sock, json.dumps({"timeout_s": 8, "query": json.loads(_query().encode())}).encode() + b"\n")
        assert p.ReuseAnswer.decode(json.dumps(good["answer"]).encode()).error_code in (p.FOUND, p.NOT_FOUND)
        with psycopg.connect(dsn) as conn:
            assert conn.execute("SELECT count(*) FROM gw_lookup").fetchone() == (1,)
            assert conn.execute("SELECT count(*) FROM gw_event WHERE device_id=%s AND event != 'telemetry'",
                                (idents.a.name,)).fetchone() == (0,)
        # a second worker of the same home would take the link over at the broker: the lock refuses it
        other = LinkLock(sohoa_home)
        assert not other.acquire(0.3)
    finally:
        worker.stop.set()
        t.join(30)
    assert done.is_set() and worker.stats.link_failures == 0 and not sock.exists()
    assert LinkLock(sohoa_home).acquire(0.3)  # released with the worker


def test_a_second_connection_of_the_box_takes_the_worker_over_whatever_client_id_it_asks(
        sohoa_home: Path, pki: LabPki, idents: Idents, broker: Broker, store: Store) -> None:
    """Why look-ups go through the worker: the broker sets the client id to the certificate identity
    (``use_username_as_clientid``), so ``<device>/lookup`` is renamed to ``<device>`` and kicks the worker.
    A separate look-up client id would need a second certificate identity per box."""
    worker = make_worker(store, pki, idents, broker.port)
    link = worker.connect("127.0.0.1", broker.port)
    second = MqttLink(client_id=f"{idents.a.name}/lookup", host="127.0.0.1", port=broker.port,
                      tls=device_tls(pki, idents.a), on_message=lambda m: None)
    try:
        second.connect()
        assert second.client_id != idents.a.name  # what the client asked for ...
        assert wait_until(lambda: not link.up, 10)  # ... and still the worker's session was taken over
    finally:
        second.close()
        link.close()


def test_the_socket_works_under_a_home_longer_than_a_unix_socket_path(tmp_path: Path) -> None:
    home = tmp_path / ("h" * 120)  # sun_path holds 108 bytes; the server and the client go through /proc/self/fd
    home.mkdir()
    asked: list[p.ReuseQuery] = []

    def handler(query: p.ReuseQuery, timeout_s: float) -> p.ReuseAnswer:
        asked.append(query)
        return p.ReuseAnswer((), (p.ReuseSource.PROVINCE,), p.NOT_FOUND, "không tìm thấy")

    server = LookupServer(socket_path(home), handler).start()
    try:
        assert socket_path(home).stat().st_mode & 0o077 == 0  # only the station's user
        answer = ask_worker(socket_path(home), _query(), 5)
        assert answer is not None and answer.error_code == p.NOT_FOUND and asked == [_query()]
    finally:
        server.close()
    assert ask_worker(socket_path(home), _query(), 5) is None  # no worker: the caller connects itself
