"""Signed checkpoints of the audit head, kept outside the database.

After each write that moved the audit head, the store writes ``SOHOA_HOME/audit-checkpoint.json``
= ``{"seq", "row_hash", "at"}`` plus an ECDSA P-256 signature made with the device identity key
(``pki/device.key``, from ``sohoa device identity init``). Someone who deletes the newest audit rows
and rewinds ``audit_head`` inside the SQLite file cannot produce a matching checkpoint without the
key, so :func:`verify` catches the truncation offline.

The key is the device's key file (mode 0600), not a non-exportable PKCS#11 object: the checkpoint
proves the database was not rewound by someone holding only the SQLite file. A box without a
device identity writes no checkpoint and says so in the verify report.
"""

from __future__ import annotations

import base64
import fcntl
import json
import os
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from service.durable import write_durable
from service.store.db import utcnow

NAME = "audit-checkpoint.json"
KEY_NAME = "device.key"


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """A signed statement "the audit chain reached row ``seq`` with hash ``row_hash``"."""

    seq: int
    row_hash: str
    at: str


def _payload(seq: int, row_hash: str, at: str) -> bytes:
    return json.dumps({"seq": seq, "row_hash": row_hash, "at": at}, sort_keys=True,
                      separators=(",", ":")).encode("ascii")


def _key(pki: Path) -> ec.EllipticCurvePrivateKey | None:
    path = pki / KEY_NAME
    try:
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except (OSError, ValueError, TypeError):
        return None
    return key if isinstance(key, ec.EllipticCurvePrivateKey) else None


class Checkpointer:
    """Writes and checks the checkpoint file of one service home."""

    def __init__(self, home: Path, pki: Path) -> None:
        """``home`` holds the checkpoint; ``pki`` the device key."""
        self.path = home / NAME
        self.lock = home / (NAME + ".lock")
        self.pki = pki
        self._written = 0

    def read(self) -> tuple[Checkpoint | None, str | None]:
        """The checkpoint and, when it cannot be trusted, why."""
        try:
            doc = json.loads(self.path.read_text(encoding="utf-8"))
            cp = Checkpoint(int(doc["seq"]), str(doc["row_hash"]), str(doc["at"]))
            sig = base64.b64decode(str(doc["signature"]), validate=True)
        except FileNotFoundError:
            return None, None
        except (OSError, ValueError, KeyError, TypeError):
            return None, "the signed audit checkpoint file is unreadable"
        key = _key(self.pki)
        if key is None:
            return cp, "the device key that signs audit checkpoints is missing"
        try:
            key.public_key().verify(sig, _payload(cp.seq, cp.row_hash, cp.at), ec.ECDSA(hashes.SHA256()))
        except InvalidSignature:
            return cp, ("the audit checkpoint's signature is not the device key's (forged or damaged, "
                        "or the device key was replaced)")
        return cp, None

    def start(self, conn: sqlite3.Connection) -> None:
        """On opening: sign a first checkpoint where none exists yet and the key is newer than the log.

        That is a new store, or a device identity made after the log began (trust on first use);
        a checkpoint file that disappears later is reported by :meth:`verify`, not re-created.
        """
        if self.path.exists() or _key(self.pki) is None:
            return
        newest = conn.execute("SELECT at FROM audit ORDER BY seq DESC LIMIT 1").fetchone()
        if newest is None or (self.pki / KEY_NAME).stat().st_mtime >= _epoch(newest["at"]):
            self.write(conn, initial=True)

    def write(self, conn: sqlite3.Connection, *, initial: bool = False) -> None:
        """Sign the current head if it moved past the stored checkpoint (no key: nothing written)."""
        head = conn.execute("SELECT seq, row_hash FROM audit_head WHERE id = 1").fetchone()
        if not initial and (head is None or int(head["seq"]) <= self._written):
            return
        key = _key(self.pki)
        if key is None:
            return
        seq, digest = (int(head["seq"]), str(head["row_hash"])) if head is not None else (0, "0" * 64)
        fd = os.open(self.lock, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            current, _ = self.read()
            if current is not None and (initial or current.seq >= seq):
                self._written = current.seq
                return
            at = utcnow()
            sig = key.sign(_payload(seq, digest, at), ec.ECDSA(hashes.SHA256()))
            body = {"seq": seq, "row_hash": digest, "at": at, "signature": base64.b64encode(sig).decode("ascii")}
            write_durable(self.path, json.dumps(body, sort_keys=True).encode("ascii"), mode=0o600)
            self._written = seq
        finally:
            os.close(fd)

    def verify(self, conn: sqlite3.Connection) -> list[str]:
        """Problems between the chain and the signed checkpoint (truncation, rewound head, forgery)."""
        cp, why = self.read()
        if why is not None:
            return [why]
        last = conn.execute("SELECT MAX(seq) FROM audit").fetchone()[0] or 0
        if cp is None:
            key_path = self.pki / KEY_NAME
            newest = conn.execute("SELECT at FROM audit ORDER BY seq DESC LIMIT 1").fetchone()
            if _key(self.pki) is not None and newest is not None and key_path.stat().st_mtime < _epoch(newest["at"]):
                return ["the signed audit checkpoint is missing (deleted?) although the device key signs each write"]
            return []
        if cp.seq > int(last):
            return [f"audit rows {int(last) + 1}..{cp.seq} were removed: the signed checkpoint names row {cp.seq} "
                    f"but the log ends at row {int(last)}"]
        if cp.seq == 0:
            return []
        row = conn.execute("SELECT row_hash FROM audit WHERE seq = ?", (cp.seq,)).fetchone()
        if row is None or row["row_hash"] != cp.row_hash:
            return [f"audit row {cp.seq}: differs from the signed checkpoint of the device"]
        return []


def _epoch(iso: str) -> float:
    from datetime import datetime

    try:
        return datetime.fromisoformat(iso).timestamp()
    except ValueError:
        return 0.0
