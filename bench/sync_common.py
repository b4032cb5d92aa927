"""Shared lab for the sync tests and benchmarks: signed PDFs, a real device Store, gateways, checks.

Everything is real: the spine's SQLite Store on the device side, Mosquitto 2 with mutual TLS and
the per-device ACL, PostgreSQL, gateway replicas (threads or ``sohoa-gateway`` processes).
"""

from __future__ import annotations

import datetime as dt
import io
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pikepdf
import psycopg
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from PIL import Image
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign import signers

from province_gateway.filestore import GatewayFileStore as GatewayFiles
from province_gateway.mqtt import GatewayTls
from province_gateway.service import GatewayReplica, GatewaySettings
from province_gateway.verify import SignaturePolicy
from service.domain.fields import FieldSource, FieldValue, Metadata
from service.paths import Paths
from service.store.store import Store
from service.store.types import NewDocument, PageRecord, StoredDocument
from service.sync.config import SyncConfig
from service.sync.link import TlsFiles
from tests.support.mosquitto import Broker, Identity, LabPki, enrol_lab_device
from tests.support.postgres import Postgres
from tests.support.tcpproxy import FaultProxy

REPO = Path(__file__).resolve().parents[1]
PROVINCE = "70"
GATEWAY_USER = "gateway-70"


def make_signer(folder: Path) -> signers.SimpleSigner:
    """A self-signed EC signing identity (stands in for the office's token)."""
    folder.mkdir(parents=True, exist_ok=True)
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "UBND xa Thu Nghiem (test)")])
    now = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(hours=1))
            .not_valid_after(now + dt.timedelta(days=2)).sign(key, hashes.SHA256()))
    (folder / "signer.key").write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                          serialization.NoEncryption()))
    (folder / "signer.crt").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    signer = signers.SimpleSigner.load(str(folder / "signer.key"), str(folder / "signer.crt"))
    assert signer is not None
    return signer


def make_pdf(i: int, pad: int = 0) -> bytes:
    """A small one-page PDF, unique per ``i``; ``pad`` adds incompressible bytes to reach a size."""
    pdf = pikepdf.new()
    pdf.add_blank_page(page_size=(200, 200))
    text = f"BT /F1 12 Tf 20 100 Td (So hoa {i}) Tj ET".encode()
    pdf.pages[0].Contents = pikepdf.Stream(pdf, text)
    if pad:
        pdf.Root.Padding = pikepdf.Stream(pdf, os.urandom(pad))
    buf = io.BytesIO()
    pdf.save(buf, compress_streams=False)
    return buf.getvalue()


def sign_pdf(data: bytes, signer: signers.SimpleSigner) -> bytes:
    """PAdES-style approval signature over the whole file (pyHanko)."""
    out = signers.sign_pdf(IncrementalPdfFileWriter(io.BytesIO(data)),
                           signers.PdfSignatureMetadata(field_name="Sig1"), signer=signer)
    return out.getvalue()


_PAGE: bytes | None = None


def page_png() -> bytes:
    """A tiny page image for the store's page record."""
    global _PAGE
    if _PAGE is None:
        buf = io.BytesIO()
        Image.new("L", (64, 90), 250).save(buf, "PNG")
        _PAGE = buf.getvalue()
    return _PAGE


def add_document(store: Store, pdf: bytes, i: int, *, due: bool = True) -> StoredDocument:
    """Store a document with this PDF through the spine's Store API (enqueues an outbox row; held, not
    due, when ``due`` is False: a version that is not final)."""
    pdf_sha = store.files.put(pdf)
    page_sha = store.files.put(page_png())
    m = FieldSource.MANUAL
    meta = Metadata(document_type_code="KQ.G15.000031",
                    document_name=FieldValue("Giấy chứng nhận quyền sử dụng đất", m),
                    number_symbol=FieldValue(f"{i}/GCN-UBND", m), issue_date=FieldValue("2024-03-15", m),
                    issuing_agency=FieldValue("UBND xã Thử Nghiệm", m), owner_id=FieldValue("001099012345", m),
                    owner_name=FieldValue("Nguyễn Văn A", m))
    new = NewDocument(result_code=f"KQ.G15.000031-70-{i:06d}", metadata=meta, pdf_sha256=pdf_sha,
                      pages=(PageRecord(1, page_sha, "image/png", 64, 90, 300.0, "grey", "front", False, None),))
    return store.add_document(new, actor="bench", due=due)


def sync_config(port: int, **over: object) -> SyncConfig:
    """A SyncConfig for the lab (short time-outs so faults are recovered quickly)."""
    base: dict[str, object] = dict(enabled=True, broker_host="127.0.0.1", broker_port=port, chunk_size=4096,
                                   response_timeout_s=4.0, backoff_initial_s=0.2, backoff_max_s=3.0,
                                   idle_poll_s=0.2, keepalive_s=5, window=8, telemetry_interval_s=5.0)
    base.update(over)
    return SyncConfig.model_validate(base)


def device_tls(pki: LabPki, ident: Identity) -> TlsFiles:
    """TLS files of a device identity."""
    return TlsFiles(pki.ca_file, ident.cert, ident.key)


def write_device_home(paths: Paths, pki: LabPki, ident: Identity, port: int, **sync_over: object) -> None:
    """A service home whose config.yaml points the worker at the broker with the device's identity."""
    import yaml

    paths.ensure()
    cfg = sync_config(port, **sync_over).model_dump()
    cfg.update(ca_file=str(pki.ca_file), cert_file=str(ident.cert), key_file=str(ident.key))
    doc = {"identity": {"device_id": ident.name, "province_code": PROVINCE}, "sync": cfg}
    paths.config.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")


@dataclass
class ThreadGateway:
    """A gateway replica running in a thread (tests)."""

    replica: GatewayReplica
    thread: threading.Thread

    def close(self) -> None:
        """Stop and join."""
        self.replica.stop.set()
        self.thread.join(15)


def lab_device(pki: LabPki, broker: Broker, name: str, dsn: str | None = None, *, province: str = PROVINCE,
               office: str = "office-1") -> Identity:
    """A device of the lab, enrolled in the broker (and in the gateway registry of ``dsn``)."""
    return enrol_lab_device(pki, broker, name, province=province, office=office, dsn=dsn)


def lab_gateway(pki: LabPki, broker: Broker, name: str) -> Identity:
    """One more gateway identity (each replica needs its own: the broker's client id is the identity)."""
    ident = pki.issue(name)
    broker.add_gateway(name)
    return ident


def gateway_settings(pki: LabPki, gw: Identity, port: int, dsn: str, files: Path, replica_id: str,
                     **over: object) -> GatewaySettings:
    """Settings of a replica (signatures required; the lab's self-signed signer via the DEVELOPMENT flag)."""
    base: dict[str, object] = dict(broker_host="127.0.0.1", broker_port=port,
                                   tls=GatewayTls(pki.ca_file, gw.cert, gw.key), dsn=dsn, files_root=files,
                                   replica_id=replica_id, dev_trust_any=True,
                                   signatures=SignaturePolicy.REQUIRE)
    base.update(over)
    return GatewaySettings(**base)  # type: ignore[arg-type]


def start_thread_gateway(settings: GatewaySettings) -> ThreadGateway:
    """Run a replica in a daemon thread."""
    replica = GatewayReplica(settings)
    t = threading.Thread(target=replica.run, daemon=True, name=settings.replica_id)
    t.start()
    if not replica.ready.wait(20):
        replica.stop.set()
        raise RuntimeError("gateway replica did not subscribe within 20 s")
    return ThreadGateway(replica, t)


def gateway_process(pki: LabPki, gw: Identity, port: int, dsn: str, files: Path, replica_id: str,
                    log: Path, *extra: str) -> subprocess.Popen[bytes]:
    """Run ``sohoa-gateway`` as a separate process (so it can be SIGKILLed)."""
    cmd = [sys.executable, "-m", "province_gateway", "--broker-port", str(port), "--ca", str(pki.ca_file),
           "--cert", str(gw.cert), "--key", str(gw.key), "--dsn", dsn, "--files", str(files),
           "--replica-id", replica_id, "--dev-trust-any", *extra]
    return subprocess.Popen(cmd, cwd=REPO, stdout=subprocess.DEVNULL, stderr=open(log, "ab"))  # noqa: SIM115


def worker_process(home: Path, log: Path) -> subprocess.Popen[bytes]:
    """Run ``sohoa sync run`` for a device home as a separate process."""
    env = {**os.environ, "SOHOA_HOME": str(home)}
    return subprocess.Popen([sys.executable, "-m", "service.sync", "run"], cwd=REPO, env=env,
                            stdout=subprocess.DEVNULL, stderr=open(log, "ab"))  # noqa: SIM115


@dataclass(frozen=True)
class Comparison:
    """Device outbox versus gateway database and file store."""

    versions: int
    lost: int
    duplicated: int
    undelivered: int
    bad_files: int


def compare(store: Store, dsn: str, files_root: Path) -> Comparison:
    """Every device version that is to be sent (not superseded) must be in PostgreSQL once, with an intact
    file; nothing extra."""
    device = {(r[0], r[1]) for r in store.conn.execute(
        "SELECT document_id, pdf_sha256 FROM outbox WHERE state != 'superseded'")}
    undelivered = store.count_undelivered()
    files = GatewayFiles(files_root)
    with psycopg.connect(dsn) as conn:
        rows = conn.execute("SELECT document_id, sha256 FROM gw_document").fetchall()
        stored_events = conn.execute("SELECT document_id, sha256, count(*) FROM gw_event WHERE event='stored'"
                                     " GROUP BY 1, 2").fetchall()
    gateway = {(str(a), str(b)) for a, b in rows}
    bad = sum(1 for _, sha in gateway if not files.has(sha))
    lost = len(device - gateway) + sum(1 for key in device & gateway if not files.has(key[1]))
    duplicated = (len(rows) - len(gateway)) + len(gateway - device) + sum(int(n) - 1 for _, _, n in stored_events)
    return Comparison(len(device), lost, duplicated, int(undelivered), bad)


def wait_until(pred: object, timeout: float, step: float = 0.2) -> bool:
    """Poll ``pred()`` until true or ``timeout`` seconds (bounded)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred():  # type: ignore[operator]
            return True
        time.sleep(step)
    return bool(pred())  # type: ignore[operator]


@dataclass
class SyncLab:
    """One benchmark's province: a CA, a broker, PostgreSQL and a fault proxy in front of the broker."""

    root: Path
    pki: LabPki
    broker: Broker
    pg: Postgres
    proxy: FaultProxy


@contextmanager
def sync_lab(prefix: str, *, seed: int) -> Iterator[SyncLab]:
    """Start the lab in a fresh temporary folder; stop everything and delete the folder afterwards."""
    import shutil
    import tempfile

    root = Path(tempfile.mkdtemp(prefix=prefix))
    pki = LabPki(root / "pki")
    broker = Broker(pki, gateway_user=GATEWAY_USER).start()
    pg = Postgres().start()
    proxy = FaultProxy(broker.port, seed=seed)
    try:
        yield SyncLab(root, pki, broker, pg, proxy)
    finally:
        proxy.close()
        broker.stop()
        pg.stop()
        shutil.rmtree(root, ignore_errors=True)
