"""Throughput benchmark: documents/minute and payload share of link capacity.

Scenarios: loopback (device → broker direct), and through the fault proxy throttled to
256 kbit/s each way with "loss" (2 % of blocks delayed 200 ms, like a retransmission), with
the worker's bandwidth cap off and at half the link.
"""

from __future__ import annotations

import time
import uuid
from pathlib import Path

from bench.sync_common import (
    GATEWAY_USER,
    PROVINCE,
    add_document,
    compare,
    device_tls,
    gateway_settings,
    lab_device,
    make_pdf,
    make_signer,
    sign_pdf,
    start_thread_gateway,
    sync_config,
    sync_lab,
)
from service.paths import get_paths
from service.store.store import Store
from service.store.sync_state import SyncProgress
from service.sync.store_source import StoreOutbox
from service.sync.worker import SyncWorker
from tests.support.mosquitto import Broker, LabPki
from tests.support.postgres import Postgres
from tests.support.tcpproxy import FaultProxy

LINK_BPS = 256_000 // 8  # 256 kbit/s in bytes per second


def _scenario(name: str, *, root: Path, pki: LabPki, broker: Broker, pg: Postgres, signer: object, docs: int,
              pad: int, port: int, link_bps: int | None, cap: int, chunk: int, proxy: FaultProxy | None = None) -> str:
    dsn = pg.fresh_database(f"tp_{uuid.uuid4().hex[:8]}")
    dev = lab_device(pki, broker, f"dev-tp-{uuid.uuid4().hex[:6]}", dsn)
    gw = pki.issue(GATEWAY_USER)
    files = root / f"files-{name}"
    g = start_thread_gateway(gateway_settings(pki, gw, broker.port, dsn, files, f"gw-{name}", session_expiry_s=0))
    paths = get_paths(root / f"home-{name}")
    store = Store.open(paths)
    payload = 0
    for i in range(docs):
        pdf = sign_pdf(make_pdf(i, pad=pad), signer)  # type: ignore[arg-type]
        payload += len(pdf)
        add_document(store, pdf, i)
    worker = SyncWorker(sync_config(port, bandwidth_bytes_per_s=cap, chunk_size=chunk, response_timeout_s=20.0,
                                    window=16, max_inflight=16, telemetry_interval_s=3600),
                        device_id=dev.name, province=PROVINCE, source=StoreOutbox(store),
                        progress=SyncProgress(paths.database), tls=device_tls(pki, dev))
    wire_before = proxy.bytes_forwarded if proxy else 0
    started = time.monotonic()
    stats = worker.run("127.0.0.1", port, max_seconds=180, until_empty=True)
    elapsed = time.monotonic() - started
    result = compare(store, dsn, files)
    g.close()
    store.close()
    rate = payload / elapsed
    share = f"{100 * rate / link_bps:.0f} %" if link_bps else "n/a"
    overhead = f"{(proxy.bytes_forwarded - wire_before) / payload:.2f}" if proxy else "n/a"
    cap_s = f"{cap / 1000:.0f} kB/s" if cap else "off"
    return (f"| {name} | {docs} × {payload / docs / 1000:.1f} kB | {cap_s} | {stats.delivered} | {elapsed:.1f} | "
            f"{60 * stats.delivered / elapsed:.0f} | {rate / 1000:.1f} kB/s | {share} | {overhead} | {result.lost} |")


def run(quick: bool) -> str:
    """Run the scenarios; returns a markdown table."""
    rows = ["| link | documents | worker cap | delivered | seconds | docs/min | payload rate | share of link "
            "| wire bytes / payload | lost |", "|---|---|---|---|---|---|---|---|---|---|"]
    with sync_lab("sohoa-bench-tp-", seed=3) as lab:
        root, pki, broker, pg, proxy = lab.root, lab.pki, lab.broker, lab.pg, lab.proxy
        signer = make_signer(root / "signer")
        n_fast = 40 if quick else 120
        rows.append(_scenario("loopback", root=root, pki=pki, broker=broker, pg=pg, signer=signer, docs=n_fast,
                              pad=20_000, port=broker.port, link_bps=None, cap=0, chunk=65_536))
        proxy.throttle(LINK_BPS)
        proxy.loss, proxy.loss_delay_s = 0.02, 0.2
        n_slow = 6 if quick else 16
        rows.append(_scenario("256 kbit/s + loss", root=root, pki=pki, broker=broker, pg=pg, signer=signer,
                              docs=n_slow, pad=12_000, port=proxy.port, link_bps=LINK_BPS, cap=0, chunk=16_384,
                              proxy=proxy))
        rows.append(_scenario("256 kbit/s + loss, cap ½", root=root, pki=pki, broker=broker, pg=pg, signer=signer,
                              docs=max(4, n_slow // 2), pad=12_000, port=proxy.port, link_bps=LINK_BPS,
                              cap=LINK_BPS // 2, chunk=4096, proxy=proxy))
    rows.append("")
    rows.append("payload = PDF bytes (signed, incompressible padding); share = payload rate / 32 000 B/s; wire bytes ="
                " TLS bytes both ways through the proxy (manifests, chunks, acks, PUBACKs, status, telemetry).")
    return "\n".join(rows)
