"""Durable transfer progress of the sync worker: the tables of migration ``0002_sync.sql``.

The sync worker's MQTT thread records acknowledged chunks while the main thread changes the
outbox, so :class:`SyncProgress` keeps its own connection to the device database (opened by
:meth:`service.store.store.Store.sync_progress` or :meth:`SyncProgress.open`), guarded by a lock.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from service.domain.errors import StoreError
from service.paths import Paths
from service.store.db import MIGRATIONS_DIR

MIGRATION = MIGRATIONS_DIR / "0002_sync.sql"


@dataclass(frozen=True, slots=True)
class TransferProgress:
    """Where the transfer of one outbox row stands."""

    outbox_id: int
    document_id: str
    pdf_sha256: str
    chunk_size: int
    chunk_count: int
    next_seq: int
    manifest_sent: int
    chunks_sent: int


class SyncProgress:
    """Reads and writes ``sync_progress`` / ``sync_delivery`` / ``sync_state`` (WAL, synchronous=FULL)."""

    def __init__(self, db_path: Path) -> None:
        """Open ``db_path`` (creating the three tables if missing; the DDL is idempotent)."""
        try:
            self._db = sqlite3.connect(str(db_path), timeout=30, isolation_level=None, check_same_thread=False)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=FULL")
            self._db.executescript(MIGRATION.read_text(encoding="utf-8"))
        except (sqlite3.Error, OSError) as exc:
            raise StoreError(f"cannot open the sync progress tables in {db_path.name} ({exc})",
                             remedy="check the service home's permissions and free space") from exc
        self._lock = threading.Lock()

    @classmethod
    def open(cls, paths: Paths) -> SyncProgress:
        """The sync progress tables of the service home ``paths``."""
        return cls(paths.database)

    def close(self) -> None:
        """Close the connection."""
        self._db.close()

    def __enter__(self) -> SyncProgress:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _exec(self, sql: str, args: tuple[object, ...] = ()) -> sqlite3.Cursor:
        with self._lock:
            try:
                return self._db.execute(sql, args)
            except sqlite3.Error as exc:
                raise StoreError(f"sync progress table error ({exc.__class__.__name__})",
                                 remedy="run `sohoa sync status`; check disk space") from exc

    def begin(self, outbox_id: int, document_id: str, sha256: str, chunk_size: int,
              chunk_count: int) -> TransferProgress:
        """The progress of a row, created on first use; an older row for another version is reset."""
        row = self.get(outbox_id)
        if row is not None and row.pdf_sha256 == sha256 and row.document_id == document_id:
            return row
        self._exec("INSERT OR REPLACE INTO sync_progress(outbox_id, document_id, pdf_sha256, chunk_size, chunk_count,"
                   " next_seq, manifest_sent, chunks_sent, updated_at) VALUES (?,?,?,?,?,0,0,0,?)",
                   (outbox_id, document_id, sha256, chunk_size, chunk_count, time.time()))
        got = self.get(outbox_id)
        assert got is not None
        return got

    def get(self, outbox_id: int) -> TransferProgress | None:
        """The stored progress of ``outbox_id``, if any."""
        row = self._exec("SELECT outbox_id, document_id, pdf_sha256, chunk_size, chunk_count, next_seq, manifest_sent,"
                         " chunks_sent FROM sync_progress WHERE outbox_id=?", (outbox_id,)).fetchone()
        return TransferProgress(*row) if row else None

    def manifest_sent(self, outbox_id: int) -> None:
        """Count one manifest publish acknowledged by the broker."""
        self._exec("UPDATE sync_progress SET manifest_sent=manifest_sent+1, updated_at=? WHERE outbox_id=?",
                   (time.time(), outbox_id))

    def chunk_sent(self, outbox_id: int, seq: int) -> None:
        """Chunk ``seq`` reached the broker; ``next_seq`` advances when it is the next in order."""
        self._exec("UPDATE sync_progress SET chunks_sent=chunks_sent+1, next_seq=CASE WHEN next_seq=? THEN ? "
                   "ELSE next_seq END, updated_at=? WHERE outbox_id=?", (seq, seq + 1, time.time(), outbox_id))

    def delivered(self, document_id: str, sha256: str, receipt: str | None) -> bool:
        """Record the gateway's ack and drop the transfer progress; False if already recorded."""
        cur = self._exec("INSERT OR IGNORE INTO sync_delivery(document_id, pdf_sha256, receipt, delivered_at)"
                         " VALUES (?,?,?,?)", (document_id, sha256, receipt, time.time()))
        self._exec("DELETE FROM sync_progress WHERE document_id=? AND pdf_sha256=?", (document_id, sha256))
        return cur.rowcount > 0

    def is_delivered(self, document_id: str, sha256: str) -> bool:
        """True once the gateway acknowledged this version."""
        return self._exec("SELECT 1 FROM sync_delivery WHERE document_id=? AND pdf_sha256=?",
                          (document_id, sha256)).fetchone() is not None

    def due_for_release(self, retention_days: int, now: float | None = None) -> list[tuple[str, str]]:
        """Delivered versions whose local copy has been kept for the retention period."""
        cutoff = (now if now is not None else time.time()) - retention_days * 86400
        rows = self._exec("SELECT document_id, pdf_sha256 FROM sync_delivery WHERE released_at IS NULL"
                          " AND delivered_at <= ? ORDER BY delivered_at LIMIT 500", (cutoff,)).fetchall()
        return [(str(a), str(b)) for a, b in rows]

    def released(self, document_id: str, sha256: str) -> None:
        """Mark a delivered version's local copy as released."""
        self._exec("UPDATE sync_delivery SET released_at=? WHERE document_id=? AND pdf_sha256=?",
                   (time.time(), document_id, sha256))

    def bump(self, key: str, by: int = 1) -> None:
        """Increment a counter in ``sync_state``."""
        self._exec("INSERT INTO sync_state(key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET "
                   "value=CAST(CAST(value AS INTEGER)+? AS TEXT)", (key, str(by), by))

    def put(self, key: str, value: str) -> None:
        """Set a value in ``sync_state``."""
        self._exec("INSERT OR REPLACE INTO sync_state(key, value) VALUES (?, ?)", (key, value))

    def state(self) -> dict[str, str]:
        """All of ``sync_state`` plus delivery and in-progress counts."""
        out = {str(k): str(v) for k, v in self._exec("SELECT key, value FROM sync_state").fetchall()}
        out["delivered_versions"] = str(self._exec("SELECT count(*) FROM sync_delivery").fetchone()[0])
        out["transfers_in_progress"] = str(self._exec("SELECT count(*) FROM sync_progress").fetchone()[0])
        return out
