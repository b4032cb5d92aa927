"""The device's side of the link as the CLI and the use cases open it: TLS files, a worker, one look-up.

One MQTT connection per box (``lookup_ipc``): a running worker holds the link lock and answers
look-ups on its own link; a look-up connects directly only when no worker runs.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from pathlib import Path

from service.config import Config
from service.domain.errors import ConfigError, SyncError
from service.paths import Paths
from service.store.store import Store
from service.store.sync_state import SyncProgress
from service.sync import protocol as p
from service.sync.link import TlsFiles
from service.sync.lookup_ipc import LinkLock, LookupServer, ask_worker, socket_path
from service.sync.store_source import StoreOutbox
from service.sync.worker import SyncWorker

log = logging.getLogger("sohoa.sync.device")
#: How long a starting worker waits for a direct look-up (at most its timeout) to close its connection.
WORKER_LOCK_WAIT_S = 30.0


def tls_files(paths: Paths, cfg: Config) -> TlsFiles | None:
    """The device's CA, certificate and key (relative names under ``SOHOA_HOME/pki``); None without TLS."""
    s = cfg.sync
    if not s.tls:
        return None
    files = [Path(f) if Path(f).is_absolute() else paths.pki / f for f in (s.ca_file, s.cert_file, s.key_file)]
    missing = [f.name for f in files if not f.is_file()]
    if missing:
        raise ConfigError(f"sync TLS files missing: {', '.join(missing)}",
                          remedy="provision the device certificate into SOHOA_HOME/pki (or set sync.*_file)")
    return TlsFiles(files[0], files[1], files[2])


def make_worker(paths: Paths, cfg: Config) -> tuple[SyncWorker, Store, SyncProgress]:
    """A sync worker on the store of ``paths`` (close the progress, then the store, after use)."""
    if not cfg.sync.enabled:
        raise ConfigError("sync is disabled in the configuration",
                          remedy="set sync.enabled: true and the broker address")
    tls = tls_files(paths, cfg)
    store = Store.open(paths)
    progress = store.sync_progress()
    worker = SyncWorker(cfg.sync, device_id=cfg.identity.device_id, province=cfg.identity.province_code,
                        source=StoreOutbox(store), progress=progress, tls=tls)
    return worker, store, progress


@contextlib.contextmanager
def serving(paths: Paths, worker: SyncWorker) -> Iterator[None]:
    """While the block runs (``worker.run``): hold the box's link lock and serve look-ups on the worker's link.

    Raises ``SyncError`` when another worker of this home holds the lock (two workers would
    disconnect each other at the broker: the client id is the certificate identity).
    """
    lock = LinkLock(paths.home)
    if not lock.acquire(WORKER_LOCK_WAIT_S):
        raise SyncError("another sync worker of this device is running",
                        remedy="stop it first (systemctl stop sohoa-sync) or use `sohoa sync status`")
    server = None
    try:
        try:
            server = LookupServer(socket_path(paths.home), worker.lookup_on_link).start()
        except OSError as exc:  # the worker still runs; look-ups find the lock held and use the cache
            log.warning("cannot serve look-ups on the local socket (%s)", exc.strerror or exc.__class__.__name__)
        yield
    finally:
        if server is not None:
            server.close()
        lock.release()


def ask_province(paths: Paths, cfg: Config, query: p.ReuseQuery, timeout_s: float) -> p.ReuseAnswer:
    """One reuse look-up: through the running worker, else over a connection of its own (``SyncError`` offline).

    The direct connection is the worker's session (same identity): it announces nothing, and the
    ``stored`` acks queued for the worker that it receives are applied to the outbox before it closes.
    """
    if not cfg.sync.enabled:
        raise ConfigError("sync is disabled in the configuration",
                          remedy="set sync.enabled: true and the broker address")
    answer = ask_worker(socket_path(paths.home), query, timeout_s)
    if answer is not None:
        return answer
    lock = LinkLock(paths.home)
    if not lock.acquire(timeout_s):
        raise SyncError("the province link of this box is busy", remedy="try again; the cached answer is used")
    try:
        answer = ask_worker(socket_path(paths.home), query, timeout_s)  # a worker that started meanwhile
        if answer is not None:
            return answer
        return _ask_directly(paths, cfg, query, timeout_s)
    finally:
        lock.release()


def _ask_directly(paths: Paths, cfg: Config, query: p.ReuseQuery, timeout_s: float) -> p.ReuseAnswer:
    worker, store, progress = make_worker(paths, cfg)
    try:
        link = worker.connect(cfg.sync.broker_host, cfg.sync.broker_port, announce=False)
        try:
            return worker.lookup(link, query, timeout_s=timeout_s)
        finally:
            link.close()
            worker.sweep()
    finally:
        progress.close()
        store.close()
