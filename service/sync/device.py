"""The device's side of the link as the CLI and the use cases open it: TLS files, a worker, one look-up."""

from __future__ import annotations

from pathlib import Path

from service.config import Config
from service.domain.errors import ConfigError
from service.paths import Paths
from service.store.store import Store
from service.store.sync_state import SyncProgress
from service.sync import protocol as p
from service.sync.link import TlsFiles
from service.sync.store_source import StoreOutbox
from service.sync.worker import SyncWorker


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


def ask_province(paths: Paths, cfg: Config, query: p.ReuseQuery, timeout_s: float) -> p.ReuseAnswer:
    """Connect, send one reuse look-up, wait for its answer, disconnect (raises ``SyncError`` when offline)."""
    worker, store, progress = make_worker(paths, cfg)
    try:
        link = worker.connect(cfg.sync.broker_host, cfg.sync.broker_port)
        try:
            return worker.lookup(link, query, timeout_s=timeout_s)
        finally:
            link.close()
    finally:
        progress.close()
        store.close()
