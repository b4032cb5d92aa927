"""Whole-database operations for backup and restore: a consistent copy of the live database and
the integrity check of a copy (``provisioning.backup`` reaches the database only through these).
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from service.domain.errors import StoreError


def snapshot_database(db: Path, dest: Path) -> None:
    """Copy the live database ``db`` to ``dest`` consistently (SQLite's online backup API, read-only)."""
    try:
        src = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=30)
        try:
            out = sqlite3.connect(dest)
            try:
                src.backup(out)
            finally:
                out.close()
        finally:
            src.close()
    except sqlite3.Error as exc:
        raise StoreError(f"cannot read the database for backup ({exc})",
                         remedy="check the disk; run `sohoa audit verify`") from exc


def check_database(db: Path) -> str | None:
    """None if the database file ``db`` opens and passes ``PRAGMA integrity_check``, else why not."""
    try:
        con = sqlite3.connect(db)
        try:
            result = con.execute("PRAGMA integrity_check").fetchone()
        finally:
            con.close()
    except sqlite3.Error as exc:
        return f"cannot be opened ({exc})"
    if result is None or result[0] != "ok":
        return "fails its integrity check"
    return None
