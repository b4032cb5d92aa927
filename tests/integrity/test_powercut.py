"""The power-cut rig: its lossy layer really loses unsynced data, and a few cuts leave a sound store."""

from __future__ import annotations

import os
import shutil
import sqlite3
from pathlib import Path

import pytest


def _fuse_usable() -> bool:
    return os.geteuid() == 0 and Path("/dev/fuse").exists() and shutil.which("fusermount3") is not None


@pytest.fixture(autouse=True)
def _fuse() -> None:
    """The rig needs what `make test` provides (root, /dev/fuse, apt fuse3): fail, never skip."""
    assert _fuse_usable(), "the power-cut rig needs root, /dev/fuse and fusermount3 (apt fuse3)"


def test_the_layer_keeps_synced_data_and_loses_the_rest(tmp_path: Path) -> None:
    from bench.powercut import _Layer

    backing, mnt = tmp_path / "disk", tmp_path / "mnt"
    backing.mkdir()
    mnt.mkdir()
    layer = _Layer(backing, mnt)
    try:
        layer.mount()
        fd = os.open(mnt / "f", os.O_CREAT | os.O_RDWR, 0o600)
        os.write(fd, b"durable")
        os.fsync(fd)
        os.write(fd, b"+volatile")
        os.close(fd)  # closing does not make it durable
        (mnt / "g").write_bytes(b"never synced")
        conn = sqlite3.connect(mnt / "t.db", isolation_level=None)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=FULL")
        conn.execute("CREATE TABLE t(x)")
        conn.execute("INSERT INTO t VALUES (1)")  # committed: fsynced WAL
        conn.execute("BEGIN")
        conn.execute("INSERT INTO t VALUES (2)")  # in flight at the cut
        assert (mnt / "f").read_bytes() == b"durable+volatile"
        assert layer.cut() > 0
        conn.close()
        layer.unmount()
    finally:
        layer.close()
    assert (backing / "f").read_bytes() == b"durable"
    assert (backing / "g").read_bytes() == b""  # the name is there (metadata is immediate), not the data
    conn = sqlite3.connect(backing / "t.db")
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert conn.execute("SELECT x FROM t").fetchall() == [(1,)]
    conn.close()


def test_a_few_power_cuts_leave_nothing_corrupt_half_present_or_lost() -> None:
    from bench.powercut import rig

    tally = rig(3, seed=3, max_delay_s=1.2)
    assert tally.cuts == 3
    assert tally.clean, tally.table()
    assert tally.dropped_bytes > 0  # the cuts really lost unsynced writes
