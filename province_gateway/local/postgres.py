"""A private PostgreSQL 15 cluster of the local province, on a free 127.0.0.1 port, socket in its folder.

As root, ``initdb`` and ``postgres`` run as user ``postgres`` (``runuser``) in a folder chowned to it.
"""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import psycopg

from .broker import free_port

PG_BIN = Path("/usr/lib/postgresql/15/bin")


def _as_pg(cmd: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *cmd] if os.geteuid() == 0 else cmd


class Postgres:
    """One throw-away cluster; :attr:`dsn` connects as superuser ``postgres`` (trust auth)."""

    def __init__(self, *, fsync: bool = False, folder: Path | None = None, port: int | None = None) -> None:
        self.keep = folder is not None
        if folder is not None:
            folder.mkdir(parents=True, exist_ok=True)
        self.dir = folder if folder is not None else Path(tempfile.mkdtemp(prefix="sohoa-pg-"))
        self.port = port or free_port()
        self.fsync = fsync
        self.proc: subprocess.Popen[bytes] | None = None
        if os.geteuid() == 0:
            pw = pwd.getpwnam("postgres")
            os.chown(self.dir, pw.pw_uid, pw.pw_gid)

    @property
    def dsn(self) -> str:
        """Connection string (TCP on 127.0.0.1)."""
        return f"host=127.0.0.1 port={self.port} user=postgres dbname=postgres"

    def start(self) -> Postgres:
        """initdb (first time) and start the server; waits until it accepts connections."""
        data = self.dir / "data"
        if not data.exists():
            subprocess.run(_as_pg([str(PG_BIN / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres",
                                   "--no-sync", "-E", "UTF8", "--locale=C.UTF-8"]),
                           check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=120)
        cmd = [str(PG_BIN / "postgres"), "-D", str(data), "-h", "127.0.0.1", "-p", str(self.port),
               "-k", str(self.dir), "-c", f"fsync={'on' if self.fsync else 'off'}", "-c", "max_connections=50",
               "-c", "shared_buffers=32MB"]
        log = open(self.dir / "pg.log", "ab")  # noqa: SIM115 - kept open for the server's life
        self.proc = subprocess.Popen(_as_pg(cmd), stdout=log, stderr=log, start_new_session=True)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                with psycopg.connect(self.dsn, connect_timeout=2):
                    return self
            except psycopg.OperationalError:
                if self.proc.poll() is not None:
                    raise RuntimeError((self.dir / "pg.log").read_text(errors="replace")[-2000:]) from None
                time.sleep(0.1)
        raise RuntimeError("postgres did not start")

    def ensure_database(self, name: str) -> str:
        """Create the database if it does not exist; return its DSN."""
        with psycopg.connect(self.dsn, autocommit=True) as conn:
            if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone() is None:
                conn.execute(f'CREATE DATABASE "{name}"')
        return f"host=127.0.0.1 port={self.port} user=postgres dbname={name}"

    def running(self) -> bool:
        """Whether the server process is alive."""
        return self.proc is not None and self.proc.poll() is None

    def fresh_database(self, name: str) -> str:
        """Create an empty database and return its DSN."""
        with psycopg.connect(self.dsn, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
            conn.execute(f'CREATE DATABASE "{name}"')
        return f"host=127.0.0.1 port={self.port} user=postgres dbname={name}"

    def halt(self) -> None:
        """Stop the server (fast shutdown: clients are cut off) but keep the cluster for :meth:`start`."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(30)

    def stop(self) -> None:
        """Stop the server and delete the cluster."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        if not self.keep:
            shutil.rmtree(self.dir, ignore_errors=True)
