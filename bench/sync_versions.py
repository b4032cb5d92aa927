"""Bytes sent per dossier before and after "one version out" (issue 12), over the 256 kbit/s link.

A dossier of N papers is digitized through the real CLI (``sohoa digitize … --no-ocr``) and signed
on the development SoftHSM tokens (``sohoa token init-dev``; ``sohoa sign CODE --role officer``,
and for the last paper, standing for the procedure's result, ``--role agency`` too). The same
home is then synced twice through the throttled fault proxy (256 kbit/s each way, like
``bench/sync_throughput.py``) to a real Mosquitto + PostgreSQL + gateway:

* **before**: the old queue, rebuilt by making every version's outbox row queued and due again
  (unsigned → officer-signed → agency-signed: what the box sent before issue 12; the gateway
  refuses the unsigned ones with ``signature-missing`` after their full upload);
* **after**: the outbox as the store keeps it now (only each document's final version is due).
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import shutil
import sqlite3
import time
import uuid
from pathlib import Path

from bench.sync_common import (
    GATEWAY_USER,
    PROVINCE,
    device_tls,
    gateway_settings,
    lab_device,
    start_thread_gateway,
    sync_config,
    sync_lab,
)
from service.cli.main import main as sohoa_main
from service.paths import get_paths
from service.store.store import Store
from service.store.sync_state import SyncProgress
from service.sync.store_source import StoreOutbox
from service.sync.worker import SyncWorker
from tests.spine.helpers import page_image
from tests.support.mosquitto import Broker, LabPki
from tests.support.postgres import Postgres
from tests.support.tcpproxy import FaultProxy

LINK_BPS = 256_000 // 8  # 256 kbit/s in bytes per second
OWNER = "036088001234"
DOC_TYPE = "KQ.G15.000031"  # one catalogued type; the store suffixes the codes


def _cli(home: Path, *argv: str) -> str:
    """Run one ``sohoa`` command in-process for ``home``; its stdout (raises on a non-zero exit)."""
    old = {k: os.environ.get(k) for k in ("SOHOA_HOME", "SOHOA_PIN")}
    os.environ.update(SOHOA_HOME=str(home), SOHOA_PIN="123456")
    out = io.StringIO()
    try:
        with contextlib.redirect_stdout(out):
            code = sohoa_main(list(argv))
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    if code != 0:
        raise RuntimeError(f"sohoa {argv[0]} exited {code}")
    return out.getvalue()


def _digitize_dossier(home: Path, n: int, pages: int) -> None:
    """N papers of one owner, digitized and signed as the desk does (the last one as a result)."""
    _cli(home, "token", "init-dev")
    images = home.parent / f"{home.name}-pages"
    images.mkdir(parents=True, exist_ok=True)
    for i in range(n):
        files = []
        for p in range(pages):
            f = images / f"d{i}-p{p}.jpg"
            f.write_bytes(page_image(seed=17 * i + p, size=(1240, 1754)))
            files.append(str(f))
        out = _cli(home, "digitize", *files, "--owner", OWNER, "--doc-type", DOC_TYPE,
                   "--no-ocr", "--field", f"document_name=Giấy tờ {i + 1}", "--json")
        code = json.loads(out)["result_code"]
        _cli(home, "sign", code, "--role", "officer")
        if i == n - 1:
            _cli(home, "sign", code, "--role", "agency")


def _old_queue(home: Path) -> None:
    """Make every version due again: the outbox the box kept before issue 12 (bench-side SQL)."""
    conn = sqlite3.connect(str(get_paths(home).database))
    with conn:
        conn.execute("UPDATE outbox SET state = 'queued', attempts = 0, "
                     "next_attempt_at = '2000-01-01T00:00:00+00:00'")
    conn.close()


def _sync(name: str, home: Path, *, pki: LabPki, broker: Broker, pg: Postgres, proxy: FaultProxy,
          root: Path) -> str:
    dsn = pg.fresh_database(f"sv_{uuid.uuid4().hex[:8]}")
    dev = lab_device(pki, broker, f"dev-sv-{uuid.uuid4().hex[:6]}", dsn)
    g = start_thread_gateway(gateway_settings(pki, pki.issue(GATEWAY_USER), broker.port, dsn, root / f"gw-{name}",
                                              f"gw-{name}", session_expiry_s=0))
    paths = get_paths(home)
    store = Store.open(paths)
    try:
        due = store.pending_outbox()
        versions = len(due)
        pdf_bytes = sum(store.files.path_for(r.pdf_sha256).stat().st_size for r in due)
        worker = SyncWorker(sync_config(proxy.port, chunk_size=16_384, response_timeout_s=20.0, window=16,
                                        max_inflight=16, telemetry_interval_s=3600),
                            device_id=dev.name, province=PROVINCE, source=StoreOutbox(store),
                            progress=SyncProgress(paths.database), tls=device_tls(pki, dev))
        wire_before = proxy.bytes_forwarded
        started = time.monotonic()
        stats = worker.run("127.0.0.1", proxy.port, max_seconds=600, until_empty=True)
        elapsed = time.monotonic() - started
        wire = proxy.bytes_forwarded - wire_before
        counts = store.outbox_counts()
    finally:
        g.close()
        store.close()
    return (f"| {name} | {versions} | {pdf_bytes / 1000:.0f} kB | {stats.payload_bytes / 1000:.0f} kB | "
            f"{wire / 1000:.0f} kB | {elapsed:.1f} | {stats.delivered} | {stats.rejected} | "
            f"{counts.get('failed', 0)} |")


def run(quick: bool) -> str:
    """Digitize one dossier, sync it the old way and the new way; returns a markdown table."""
    n, pages = (3, 1) if quick else (6, 2)
    rows = [f"one dossier: {n} papers × {pages} page(s) (1240×1754 px JPEG), officer-signed, the last one "
            "(the result) officer + agency; link 256 kbit/s each way", "",
            "| queue | versions sent | PDF bytes | payload bytes sent | wire bytes | seconds | delivered | refused "
            "| left failed |", "|---|---|---|---|---|---|---|---|---|"]
    with sync_lab("sohoa-bench-sv-", seed=5) as lab:
        lab.proxy.throttle(LINK_BPS)
        root, pki, broker, pg, proxy = lab.root, lab.pki, lab.broker, lab.pg, lab.proxy
        after = root / "home-after"
        _digitize_dossier(after, n, pages)
        before = root / "home-before"
        shutil.copytree(after, before)
        _old_queue(before)
        rows.append(_sync("before (every version)", before, pki=pki, broker=broker, pg=pg, proxy=proxy, root=root))
        rows.append(_sync("after (final versions)", after, pki=pki, broker=broker, pg=pg, proxy=proxy, root=root))
    rows.append("")
    rows.append("payload = manifests + chunk bytes the worker published; wire = TLS bytes both ways through the "
                "proxy; refused = versions the gateway rejected (signature-missing) after their upload.")
    return "\n".join(rows)
