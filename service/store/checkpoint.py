"""Signed checkpoints of the audit head, kept outside the database.

After each write that moved the audit head, the store writes ``SOHOA_HOME/audit-checkpoint.json``
= ``{"seq", "row_hash", "at", "key_id"}`` plus an ECDSA P-256 signature made by a
:class:`CheckpointSigner` the use-case layer injects: in the field a non-exportable key generated on
the device's PKCS#11 token (``store.checkpoint_signer.type: pkcs11``; it never leaves the token),
as a fallback the device identity key file (``type: file``, :class:`FileSigner`). The store never
imports a token driver.

Verification needs only the public key, pinned beside the checkpoint in
``audit-checkpoint.key.json`` (``{"signer", "key_id", "public_key", "description", "pinned_at"}``):
someone who deletes the newest audit rows and rewinds ``audit_head`` inside the SQLite file cannot
produce a checkpoint that verifies, so truncation is caught offline and without the token. A
checkpoint signed by any other key is refused. Without a pin file, a home with a device key file
pins that key implicitly (how homes made before the pin file verify).

A signer that cannot sign (token absent, wrong PIN) never fails the write that moved the head: the
row is committed, the checkpoint lags and the next write with the signer available (or
``sohoa audit checkpoint``) signs the newest head, covering the rows in between. ``verify`` notes
the lag; the failure is kept in :attr:`Checkpointer.failure` and logged (no personal data).
"""

from __future__ import annotations

import base64
import fcntl
import hashlib
import json
import logging
import os
import sqlite3
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Protocol

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from service.domain.errors import SohoaError, StoreError
from service.durable import write_durable
from service.store.db import utcnow

NAME = "audit-checkpoint.json"
PIN_NAME = "audit-checkpoint.key.json"
KEY_NAME = "device.key"
log = logging.getLogger(__name__)


class CheckpointSigner(Protocol):
    """What signs the audit head: injected by the use-case layer (token) or the key-file fallback."""

    kind: str  # "file" | "pkcs11"

    def describe(self) -> str:
        """Where the key lives, for reports (no secret)."""
        ...

    def public_key_der(self) -> bytes:
        """The signing key's public key (SubjectPublicKeyInfo DER); a typed error when unavailable."""
        ...

    def sign(self, data: bytes) -> bytes:
        """A DER ECDSA-SHA256 signature of ``data``; a typed error (e.g. token absent) when it cannot."""
        ...


def key_id_of(spki_der: bytes) -> str:
    """The key's identifier: SHA-256 of its public key (hex)."""
    return hashlib.sha256(spki_der).hexdigest()


class FileSigner:
    """The fallback signer: the device identity key file ``pki/device.key`` (exportable, mode 0600)."""

    kind = "file"

    def __init__(self, pki: Path) -> None:
        """``pki`` holds ``device.key``."""
        self.path = pki / KEY_NAME

    def _key(self) -> ec.EllipticCurvePrivateKey:
        try:
            key = serialization.load_pem_private_key(self.path.read_bytes(), password=None)
        except (OSError, ValueError, TypeError) as exc:
            raise StoreError("the device key file that signs audit checkpoints is missing or unreadable",
                             remedy="run `sohoa device identity init`") from exc
        if not isinstance(key, ec.EllipticCurvePrivateKey):
            raise StoreError("the device key file is not an EC key", remedy="run `sohoa device identity init`")
        return key

    def describe(self) -> str:
        """The key file's path."""
        return f"key file {self.path}"

    def public_key_der(self) -> bytes:
        """The key file's public key."""
        return self._key().public_key().public_bytes(serialization.Encoding.DER,
                                                     serialization.PublicFormat.SubjectPublicKeyInfo)

    def sign(self, data: bytes) -> bytes:
        """Sign with the key file."""
        return self._key().sign(data, ec.ECDSA(hashes.SHA256()))


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """A signed statement "the audit chain reached row ``seq`` with hash ``row_hash``"."""

    seq: int
    row_hash: str
    at: str
    key_id: str | None = None


@dataclass(frozen=True, slots=True)
class Pin:
    """The public key checkpoints must verify under, and which signer holds its private half."""

    signer: str
    key_id: str
    public_key: bytes
    description: str
    born: float  # when the key started signing (epoch seconds): rows older may predate any checkpoint

    def verify(self, sig: bytes, data: bytes) -> bool:
        """True when ``sig`` is this key's signature of ``data``."""
        key = serialization.load_der_public_key(self.public_key)
        if not isinstance(key, ec.EllipticCurvePublicKey):
            return False
        try:
            key.verify(sig, data, ec.ECDSA(hashes.SHA256()))
        except InvalidSignature:
            return False
        return True

    def label(self) -> str:
        """``pkcs11 key 1a2b3c4d5e6f7081 (…)`` for reports."""
        return f"{self.signer} key {self.key_id[:16]} ({self.description})"


def _payload(cp: Checkpoint) -> bytes:
    body: dict[str, object] = {"seq": cp.seq, "row_hash": cp.row_hash, "at": cp.at}
    if cp.key_id is not None:
        body["key_id"] = cp.key_id
    return json.dumps(body, sort_keys=True, separators=(",", ":")).encode("ascii")


def _epoch(iso: str) -> float:
    try:
        return datetime.fromisoformat(iso).timestamp()
    except ValueError:
        return 0.0


class Checkpointer:
    """Writes and checks the checkpoint file of one service home."""

    def __init__(self, home: Path, pki: Path, signer: CheckpointSigner | None = None) -> None:
        """``home`` holds the checkpoint and its pinned key; ``pki`` the legacy device key; ``signer`` signs."""
        self.path = home / NAME
        self.pin_path = home / PIN_NAME
        self.lock = home / (NAME + ".lock")
        self.pki = pki
        self.signer = signer
        self.failure: str | None = None
        self._written = 0
        self._signer_key: bytes | None = None

    # ------------------------------------------------------------------ the pinned key
    def pin(self) -> Pin | None:
        """The pinned public key; without a pin file, the legacy device key file's (None: nothing pinned)."""
        try:
            doc = json.loads(self.pin_path.read_text(encoding="utf-8"))
            return Pin(str(doc["signer"]), str(doc["key_id"]), base64.b64decode(str(doc["public_key"]), validate=True),
                       str(doc.get("description", "")), _epoch(str(doc["pinned_at"])))
        except FileNotFoundError:
            pass
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise StoreError("the pinned audit checkpoint key file is unreadable",
                             remedy=f"restore {self.pin_path} from backup, or run `sohoa provision`") from exc
        legacy = FileSigner(self.pki)
        try:
            der = legacy.public_key_der()
            born = legacy.path.stat().st_mtime
        except (SohoaError, OSError):
            return None
        return Pin("file", key_id_of(der), der, legacy.describe(), born)

    def pin_signer(self, signer: CheckpointSigner) -> Pin:
        """Pin ``signer``'s public key (the technician's provisioning step) and use it from now on."""
        der = signer.public_key_der()
        body = {"signer": signer.kind, "key_id": key_id_of(der), "public_key": base64.b64encode(der).decode("ascii"),
                "description": signer.describe(), "pinned_at": utcnow()}
        write_durable(self.pin_path, json.dumps(body, sort_keys=True, indent=1).encode("ascii"), mode=0o644)
        self.signer, self._signer_key, self.failure = signer, der, None
        pin = self.pin()
        assert pin is not None
        return pin

    # ------------------------------------------------------------------ reading
    def read(self) -> tuple[Checkpoint | None, str | None]:
        """The checkpoint and, when it cannot be trusted, why."""
        try:
            doc = json.loads(self.path.read_text(encoding="utf-8"))
            kid = doc.get("key_id")
            cp = Checkpoint(int(doc["seq"]), str(doc["row_hash"]), str(doc["at"]), None if kid is None else str(kid))
            sig = base64.b64decode(str(doc["signature"]), validate=True)
        except FileNotFoundError:
            return None, None
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            return None, "the signed audit checkpoint file is unreadable"
        try:
            pin = self.pin()
        except StoreError as exc:
            return cp, exc.message
        if pin is None:
            return cp, "the key that signs audit checkpoints is missing (no pinned key and no device key)"
        if cp.key_id is not None and cp.key_id != pin.key_id:
            return cp, (f"the audit checkpoint was signed by another key ({cp.key_id[:16]}), not the pinned "
                        f"{pin.label()}: refused")
        if not pin.verify(sig, _payload(cp)):
            return cp, (f"the audit checkpoint's signature is not the device key's ({pin.label()}): forged or "
                        "damaged, or the key was replaced")
        return cp, None

    # ------------------------------------------------------------------ writing
    def _usable(self, pin: Pin | None) -> bool:
        """True when the signer is present and holds the pinned key (else the failure says why)."""
        if self.signer is None:
            self.failure = "no checkpoint signer in this process"
            return False
        if pin is None:
            self.failure = "no checkpoint key is pinned (run `sohoa provision`)"
            return False
        if self._signer_key is None:
            try:
                self._signer_key = self.signer.public_key_der()
            except SohoaError as exc:
                self.failure = exc.message
                return False
        if key_id_of(self._signer_key) != pin.key_id:
            self.failure = f"{self.signer.describe()} is not the pinned {pin.label()}"
            return False
        return True

    def start(self, conn: sqlite3.Connection) -> None:
        """On opening: sign a first checkpoint where none exists yet and the key is newer than the log.

        That is a new store, or a key pinned after the log began (trust on first use); a checkpoint
        file that disappears later is reported by :meth:`verify`, not re-created.
        """
        if self.path.exists() or self.signer is None:
            return
        pin = self.pin()
        if pin is None:
            return
        newest = conn.execute("SELECT at FROM audit ORDER BY seq DESC LIMIT 1").fetchone()
        if newest is None or pin.born >= _epoch(newest["at"]):
            self.write(conn, initial=True)

    def write(self, conn: sqlite3.Connection, *, initial: bool = False) -> None:
        """Sign the current head if it moved past the stored checkpoint (signer unavailable: it lags)."""
        head = conn.execute("SELECT seq, row_hash FROM audit_head WHERE id = 1").fetchone()
        if not initial and (head is None or int(head["seq"]) <= self._written):
            return
        try:
            pin = self.pin()
        except StoreError as exc:
            self.failure = exc.message
            return
        if not self._usable(pin):
            log.debug("audit checkpoint not signed: %s", self.failure)
            return
        assert self.signer is not None and pin is not None
        seq, digest = (int(head["seq"]), str(head["row_hash"])) if head is not None else (0, "0" * 64)
        fd = os.open(self.lock, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            current, _ = self.read()
            if current is not None and (initial or current.seq >= seq):
                self._written = current.seq
                return
            cp = Checkpoint(seq, digest, utcnow(), pin.key_id)
            try:
                sig = self.signer.sign(_payload(cp))
            except SohoaError as exc:
                self.failure = exc.message
                log.warning("audit checkpoint of row %d not signed (%s); the next write signs it", seq, exc.message)
                return
            body = {"seq": cp.seq, "row_hash": cp.row_hash, "at": cp.at, "key_id": cp.key_id,
                    "signer": pin.signer, "signature": base64.b64encode(sig).decode("ascii")}
            write_durable(self.path, json.dumps(body, sort_keys=True).encode("ascii"), mode=0o600)
            self._written, self.failure = seq, None
        finally:
            os.close(fd)

    # ------------------------------------------------------------------ verifying
    def verify(self, conn: sqlite3.Connection) -> tuple[list[str], list[str]]:
        """Problems between the chain and the signed checkpoint (truncation, rewound head, forgery), and notes."""
        cp, why = self.read()
        if why is not None:
            return [why], []
        pin = self.pin()
        last = int(conn.execute("SELECT MAX(seq) FROM audit").fetchone()[0] or 0)
        if cp is None:
            newest = conn.execute("SELECT at FROM audit ORDER BY seq DESC LIMIT 1").fetchone()
            if pin is not None and newest is not None and pin.born < _epoch(newest["at"]):
                return ["the signed audit checkpoint is missing (deleted?) although the device key signs each "
                        "write"], []
            if pin is None:
                return [], ["no device key pins the audit head: it is not signed (run `sohoa provision` or "
                            "`sohoa device identity init`)"]
            return [], []
        if cp.seq > last:
            return [f"audit rows {last + 1}..{cp.seq} were removed: the signed checkpoint names row {cp.seq} "
                    f"but the log ends at row {last}"], []
        if cp.seq != 0:
            row = conn.execute("SELECT row_hash FROM audit WHERE seq = ?", (cp.seq,)).fetchone()
            if row is None or row["row_hash"] != cp.row_hash:
                return [f"audit row {cp.seq}: differs from the signed checkpoint of the device"], []
        assert pin is not None
        notes = [f"audit head signed by {pin.label()} at row {cp.seq}"]
        if cp.seq < last:
            notes.append(f"audit rows {cp.seq + 1}..{last} are not covered by a signed checkpoint yet (signer was "
                         "unavailable); `sohoa audit checkpoint` signs the head once the token is back")
        return [], notes
