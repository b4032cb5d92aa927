"""Fault benchmark: documents through a proxy that drops/stalls/cuts, a SIGKILLed broker, a
SIGKILLed worker, SIGKILLed gateway replicas (two, each with its own certificate) and a chaos
client that duplicates and reorders manifests, chunks and acks; then PostgreSQL + file store vs
the device.

Last line: ``sync-faults: docs=N faults=F lost=L duplicated=D`` (goal N ≥ 200, F ≥ 1000, L = D = 0).
"""

from __future__ import annotations

import random
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

from bench.sync_chaos import Replayer, allow_chaos
from bench.sync_common import (
    GATEWAY_USER,
    PROVINCE,
    add_document,
    compare,
    gateway_process,
    lab_device,
    lab_gateway,
    make_pdf,
    make_signer,
    sign_pdf,
    worker_process,
    write_device_home,
)
from service.paths import get_paths
from service.store.store import Store
from tests.support.mosquitto import Broker, LabPki
from tests.support.postgres import Postgres
from tests.support.tcpproxy import FaultProxy

DEVICE = "dev-bench-0001"


def _kill(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            _kill(proc)


def _undelivered(store: Store) -> int:
    return store.count_undelivered()


def _half_sent(store: Store) -> int:
    """Transfers with some but not all chunks acknowledged by the broker (a kill now cuts a file)."""
    row = store.conn.execute("SELECT count(*) FROM sync_progress WHERE next_seq > 0 AND next_seq < chunk_count")
    return int(row.fetchone()[0])


def run(quick: bool) -> str:
    """Run the fault benchmark; returns the table (its last line is the summary)."""
    docs_n = 200 if not quick else 60
    fault_target = 1000 if not quick else 150
    chaos_s = 200 if not quick else 60  # planned length of the chaos phase (the bandwidth cap spans it)
    rng = random.Random(20231123)
    root = Path(tempfile.mkdtemp(prefix="sohoa-bench-faults-"))
    pki = LabPki(root / "pki")
    broker = Broker(pki, gateway_user=GATEWAY_USER).start()
    pg = Postgres().start()
    proxy = FaultProxy(broker.port, seed=7)
    dsn = pg.fresh_database("province")
    dev = lab_device(pki, broker, DEVICE, dsn)
    gw_ids = {name: lab_gateway(pki, broker, f"{GATEWAY_USER}-{name}") for name in ("gw-a", "gw-b")}
    allow_chaos(broker, PROVINCE, DEVICE)
    files = root / "gw-files"
    home = root / "device"
    paths = get_paths(home)
    store = Store.open(paths)
    signer = make_signer(root / "signer")
    made = time.monotonic()
    total_bytes = 0
    for i in range(docs_n):
        pad = rng.choice([0, 0, 2_000, 8_000, 30_000, 60_000])
        pdf = sign_pdf(make_pdf(i, pad=pad), signer)
        total_bytes += len(pdf)
        add_document(store, pdf, i)
    made = time.monotonic() - made
    # The cap stretches a clean transfer over the planned chaos phase, so faults hit live transfers.
    cap = max(8_000, int(total_bytes / chaos_s))
    write_device_home(paths, pki, dev, proxy.port, bandwidth_bytes_per_s=cap, response_timeout_s=3.0,
                      backoff_max_s=2.0, window=8, max_inflight=8)

    def start_gateway(name: str) -> subprocess.Popen[bytes]:
        return gateway_process(pki, gw_ids[name], broker.port, dsn, files, name, root / f"{name}.log")

    gws = {name: start_gateway(name) for name in sorted(gw_ids)}
    worker = worker_process(home, root / "worker.log")
    # message-level faults: about 2 in 5 faults are duplicated or reordered copies
    chaos = Replayer(pki, broker.port, PROVINCE, DEVICE, p_dup=0.12, p_reorder=0.12, budget=fault_target * 2 // 5)
    faults: dict[str, int] = {}
    mid_file = 0  # worker kills that cut a half-sent file
    started = time.monotonic()
    limit = 2 * chaos_s + 120

    def fault(kind: str) -> None:
        faults[kind] = faults.get(kind, 0) + 1

    def total() -> int:
        return sum(faults.values()) + sum(chaos.counts.values())

    try:
        while total() < fault_target and time.monotonic() - started < limit:
            time.sleep(rng.uniform(0.1, 0.4))
            if _undelivered(store) == 0:
                break  # faults must hit live transfers: stop once all is delivered
            pick = rng.choices(["drop", "cut", "stall", "broker", "worker", "gateway"], [4, 4, 3, 1, 1, 1])[0]
            if pick == "drop":
                proxy.drop(refuse_s=rng.uniform(0, 0.5))
            elif pick == "cut":
                proxy.cut(after_bytes=rng.randint(50, 5000))
            elif pick == "stall":
                proxy.stall(rng.uniform(0.3, 2.0))
            elif pick == "broker":
                broker.kill()
                time.sleep(rng.uniform(0.2, 1.0))
                broker.start()
            elif pick == "worker":
                for _ in range(30):  # wait (≤ 3 s) for a file to be half sent, then kill mid-transfer
                    if _half_sent(store):
                        mid_file += 1
                        break
                    time.sleep(0.1)
                _kill(worker)
                worker = worker_process(home, root / "worker.log")
            else:
                name = rng.choice(sorted(gws))
                _kill(gws[name])
                time.sleep(rng.uniform(0.2, 1.0))
                gws[name] = start_gateway(name)
            fault(pick)
        chaos_took = time.monotonic() - started
        chaos.close()
        # drain: the same worker settings without the bandwidth cap (a clean restart, not a fault)
        _stop(worker)
        write_device_home(paths, pki, dev, proxy.port, response_timeout_s=3.0, backoff_max_s=2.0, window=8,
                          max_inflight=8)
        worker = worker_process(home, root / "worker.log")
        drain_deadline = time.monotonic() + (300 if not quick else 150)
        while _undelivered(store) and time.monotonic() < drain_deadline:
            time.sleep(0.5)
        total_s = time.monotonic() - started
        result = compare(store, dsn, files)
    finally:
        chaos.close()
        _stop(worker)
        for proc in gws.values():
            _stop(proc)
        proxy.close()
        broker.stop()
        pg.stop()
        store.close()
    for kind, n in chaos.counts.items():
        faults[kind] = n
    faults_n = sum(faults.values())
    rows = [
        "| measure | value |", "|---|---|",
        f"| documents (signed PDFs, device Store) | {docs_n} |",
        f"| payload | {total_bytes / 1e6:.2f} MB |",
        f"| generation time | {made:.1f} s |",
        f"| worker bandwidth cap (chaos phase; lifted to drain) | {cap / 1000:.0f} kB/s |",
        *[f"| fault: {k} | {v} |" for k, v in sorted(faults.items())],
        f"| worker kills with a half-sent file | {mid_file} |",
        f"| chaos phase | {chaos_took:.1f} s |",
        f"| until all acked | {total_s:.1f} s |",
        f"| undelivered on device | {result.undelivered} |",
        f"| gateway files failing their hash | {result.bad_files} |",
        f"| lost / duplicated | {result.lost} / {result.duplicated} |",
    ]
    if result.lost == 0 and result.duplicated == 0 and result.undelivered == 0:
        shutil.rmtree(root, ignore_errors=True)
    else:
        rows.append(f"| logs kept in | {root} |")
    rows.append(f"sync-faults: docs={docs_n} faults={faults_n} lost={result.lost} duplicated={result.duplicated}")
    return "\n".join(rows)
