"""Failover of gateway consumers: a SIGKILLed replica's share is served by the other within seconds."""

from __future__ import annotations

import signal
import threading
import time
from pathlib import Path

import psycopg

from bench.sync_common import add_document, compare, gateway_process, lab_gateway, make_pdf, sign_pdf, wait_until
from service.store.store import Store
from tests.support.mosquitto import Broker, LabPki

from .conftest import Idents
from .test_delivery import make_worker

# Bound stated in docs/sync-protocol.md §2: replicas hold no persistent session (expiry 0, keep-alive 5 s),
# so the broker drops a dead replica's share at once; what was in flight to it is re-asked by the device
# after response_timeout_s (4 s here) + back-off (≤ 3 s). Every upload is stored within 30 s of the kill.
BOUND_S = 30.0


def stored(dsn: str) -> int:
    with psycopg.connect(dsn) as conn:
        return int(conn.execute("SELECT count(*) FROM gw_document").fetchone()[0])


def test_sigkill_of_one_replica_moves_its_share_to_the_other(store: Store, pki: LabPki, idents: Idents,
                                                             broker: Broker, dsn: str, gw_files: Path, tmp_path: Path,
                                                             signer) -> None:  # type: ignore[no-untyped-def]
    n = 24
    for i in range(n):
        add_document(store, sign_pdf(make_pdf(1000 + i, pad=12_000), signer), 1000 + i)
    procs = {name: gateway_process(pki, lab_gateway(pki, broker, f"gateway-70-{name}"), broker.port, dsn, gw_files,
                                   name, tmp_path / f"{name}.log") for name in ("r1", "r2")}
    worker = make_worker(store, pki, idents, broker.port, bandwidth_bytes_per_s=60_000)
    t = threading.Thread()
    try:
        assert wait_until(lambda: broker.log_tail(200).count("as gateway-70-r") >= 2, 30)
        time.sleep(1.0)  # both subscribed
        t = threading.Thread(target=worker.run, args=("127.0.0.1", broker.port),
                             kwargs={"max_seconds": 120, "until_empty": True})
        t.start()
        assert wait_until(lambda: stored(dsn) >= 4, 60, 0.1)
        procs["r1"].send_signal(signal.SIGKILL)
        procs["r1"].wait(10)
        killed_at = time.monotonic()
        assert stored(dsn) < n  # the kill hit a live upload stream
        assert wait_until(lambda: stored(dsn) == n, BOUND_S, 0.2), stored(dsn)
        took = time.monotonic() - killed_at
        t.join(30)
        result = compare(store, dsn, gw_files)
        assert (result.undelivered, result.lost, result.duplicated) == (0, 0, 0)
        assert took < BOUND_S
        with psycopg.connect(dsn) as conn:
            after = conn.execute("SELECT count(DISTINCT replica) FROM gw_event WHERE event='manifest'").fetchone()[0]
        assert after == 2  # both replicas served before the kill
    finally:
        worker.stop.set()
        if t.is_alive():
            t.join(15)
        for proc in procs.values():
            if proc.poll() is None:
                proc.terminate()
                proc.wait(15)
