"""SQLite connection settings and the numbered schema migrations.

Migrations are ``migrations/NNNN_name.sql`` files applied in number order, each in its own
transaction together with its ``schema_version`` row, so a crash mid-migration leaves the
previous version intact. Rooms own numbers (0002 sync, 0003 extraction, 0004 signing, ...) and may
deliver them in any order: numbers may have gaps, and a migration whose number is below one already
applied is still applied when it appears (``schema_version`` records each one applied).
"""

from __future__ import annotations

import errno
import os
import re
import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from service.domain.errors import StoreError

MIGRATIONS_DIR = Path(__file__).with_name("migrations")
_NAME = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")


@dataclass(frozen=True, slots=True)
class Migration:
    """One numbered schema migration file."""

    version: int
    name: str
    path: Path

    def sql(self) -> str:
        """The migration's SQL text."""
        return self.path.read_text(encoding="utf-8")


def utcnow() -> str:
    """Current UTC time as an ISO-8601 string (microseconds, ``+00:00``)."""
    return datetime.now(UTC).isoformat(timespec="microseconds")


#: Wording for a full disk: free space; never "restore a backup" (the store is intact).
DISK_FULL_REMEDY = ("free disk space on the box (old exports, logs) or ask the technician; "
                    "nothing was saved and the stored documents are intact")
_FULL_ERRNOS = {errno.ENOSPC, errno.EDQUOT, errno.EFBIG}


#: Below this many free bytes, an SQLite I/O error (growing the WAL index fails that way) means a full disk.
LOW_SPACE_BYTES = 2 * 1024 * 1024


def low_space(where: Path | None) -> bool:
    """True if the filesystem holding ``where`` has almost no space left for this user."""
    if where is None:
        return False
    try:
        st = os.statvfs(where if where.is_dir() else where.parent)
    except OSError:
        return False
    return st.f_bavail * st.f_frsize < LOW_SPACE_BYTES


def is_disk_full(exc: BaseException, where: Path | None = None) -> bool:
    """True for SQLite's SQLITE_FULL, ENOSPC / EDQUOT / EFBIG, or an SQLite I/O error on a full filesystem."""
    if isinstance(exc, OSError):
        return exc.errno in _FULL_ERRNOS or low_space(where)
    if isinstance(exc, sqlite3.Error):
        code = getattr(exc, "sqlite_errorcode", None)
        if code == 13 or "disk is full" in str(exc):
            return True
        return ("disk I/O error" in str(exc) or code == 10) and low_space(where)
    return False


def db_file(conn: sqlite3.Connection) -> Path | None:
    """The main database file of a connection (None for an in-memory one or a broken connection)."""
    try:
        row = conn.execute("PRAGMA database_list").fetchone()
    except sqlite3.Error:
        return None
    return Path(row[2]) if row is not None and row[2] else None


def store_error(what: str, exc: BaseException, where: Path | None = None) -> StoreError:
    """A :class:`StoreError` for a failed storage step; "disk full" (exit 8) when that is the cause."""
    if is_disk_full(exc, where):
        return StoreError(f"{what}: disk full", remedy=DISK_FULL_REMEDY)
    detail = exc.strerror if isinstance(exc, OSError) and exc.strerror else type(exc).__name__
    return StoreError(f"{what} ({detail})",
                      remedy="check the disk; restore the database from backup only if `sohoa audit verify` "
                             "reports damage")


def migrations(directory: Path = MIGRATIONS_DIR) -> list[Migration]:
    """All migration files in version order; refuses duplicate numbers and badly named files."""
    found: list[Migration] = []
    for path in sorted(directory.glob("*.sql")):
        m = _NAME.match(path.name)
        if not m:
            raise StoreError(f"migration file {path.name} is not named NNNN_name.sql",
                             remedy="rename it, e.g. 0002_outbox_chunks.sql")
        found.append(Migration(int(m.group(1)), m.group(2), path))
    seen: dict[int, str] = {}
    for mig in found:
        if mig.version in seen or mig.version == 0:
            raise StoreError(f"migration number {mig.version:04d} is used twice or is zero "
                             f"({seen.get(mig.version, '-')}, {mig.name})", remedy="give each migration its own number")
        seen[mig.version] = mig.name
    return found


def applied_versions(conn: sqlite3.Connection) -> set[int]:
    """Versions recorded in ``schema_version`` (empty for a new database)."""
    exists = conn.execute("SELECT 1 FROM sqlite_master WHERE type='table' AND name='schema_version'").fetchone()
    if not exists:
        return set()
    return {int(r[0]) for r in conn.execute("SELECT version FROM schema_version")}


def connect(path: Path, *, busy_timeout_ms: int = 15_000) -> sqlite3.Connection:
    """Open the database with WAL, ``synchronous=FULL`` and foreign keys on (autocommit mode)."""
    try:
        conn = sqlite3.connect(str(path), timeout=busy_timeout_ms / 1000, isolation_level=None,
                               check_same_thread=False)
        conn.row_factory = sqlite3.Row
        conn.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        mode = conn.execute("PRAGMA journal_mode=WAL").fetchone()[0]
        conn.execute("PRAGMA synchronous=FULL")
        conn.execute("PRAGMA foreign_keys=ON")
    except sqlite3.DatabaseError as exc:
        if is_disk_full(exc, path):
            raise store_error(f"database {path.name} cannot be opened", exc, path) from exc
        raise StoreError(f"database {path.name} cannot be opened ({exc})",
                         remedy="check the disk; restore the database from backup only if `sohoa audit verify` "
                                "reports damage") from exc
    if str(mode).lower() != "wal":
        conn.close()
        raise StoreError(f"database {path.name} cannot use WAL mode (got {mode})",
                         remedy="keep SOHOA_HOME on a local filesystem that supports shared memory")
    return conn


def current_version(conn: sqlite3.Connection) -> int:
    """Highest applied migration version (0 for an empty database)."""
    exists = conn.execute("SELECT 1 FROM sqlite_master WHERE type='table' AND name='schema_version'").fetchone()
    if not exists:
        return 0
    row = conn.execute("SELECT MAX(version) FROM schema_version").fetchone()
    return int(row[0] or 0)


def migrate(conn: sqlite3.Connection, *, target: int | None = None, directory: Path = MIGRATIONS_DIR) -> int:
    """Apply every not-yet-applied migration numbered up to ``target`` (default: all), in order.

    Returns the highest applied version.
    """
    available = migrations(directory)
    top = available[-1].version if available else 0
    goal = top if target is None else target
    try:
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY, "
                     "name TEXT NOT NULL, applied_at TEXT NOT NULL)")
        conn.execute("COMMIT")
    except sqlite3.DatabaseError as exc:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise store_error("the database cannot be prepared", exc, db_file(conn)) from exc
    unknown = sorted(applied_versions(conn) - {m.version for m in available})
    if unknown:
        raise StoreError(f"database has schema version {unknown[-1]:04d}, unknown to this software",
                         remedy="update sohoa-edge, or restore a backup made by this version")
    for mig in available:
        if mig.version > goal or mig.version in applied_versions(conn):
            continue
        statements = [s for s in _split_sql(mig.sql()) if s.strip()]
        conn.execute("BEGIN IMMEDIATE")
        try:
            if mig.version in applied_versions(conn):  # another process applied it meanwhile
                conn.execute("ROLLBACK")
                continue
            for stmt in statements:
                conn.execute(stmt)
            _data_fix(conn, mig.version)
            conn.execute("INSERT INTO schema_version(version, name, applied_at) VALUES (?, ?, ?)",
                         (mig.version, mig.name, utcnow()))
            conn.execute("COMMIT")
        except sqlite3.DatabaseError as exc:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            if is_disk_full(exc, db_file(conn)):
                raise store_error(f"migration {mig.version:04d}_{mig.name} failed", exc, db_file(conn)) from exc
            raise StoreError(f"migration {mig.version:04d}_{mig.name} failed ({exc})",
                             remedy="report this to the technician; the database was left unchanged") from exc
    return current_version(conn)


def _data_fix(conn: sqlite3.Connection, version: int) -> None:
    """Python part of a migration (audited row fixes), run inside the migration's transaction."""
    if version == 7:
        from service.store.outbox import close_stale_rows  # lazy: outbox imports this module

        close_stale_rows(conn)


def _split_sql(script: str) -> list[str]:
    """Split a migration script into complete statements (triggers kept whole)."""
    out: list[str] = []
    buf = ""
    for line in script.splitlines(keepends=True):
        if line.lstrip().startswith("--") and not buf.strip():
            continue
        buf += line
        if sqlite3.complete_statement(buf):
            out.append(buf)
            buf = ""
    if buf.strip() and not all(ln.strip().startswith("--") or not ln.strip() for ln in buf.splitlines()):
        raise StoreError("a migration ends with an incomplete SQL statement",
                         remedy="end every statement with a semicolon")
    return out
