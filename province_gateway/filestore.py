"""Content-addressed file store of the gateway: ``root/ab/cd/<sha256>``, written atomically."""

from __future__ import annotations

import hashlib
from pathlib import Path

from service.domain.errors import IntegrityError, StoreError
from service.durable import write_durable


class GatewayFileStore:
    """Files named by their SHA-256, written with :func:`service.durable.write_durable`."""

    def __init__(self, root: Path) -> None:
        self.root = root
        try:
            root.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(f"cannot create the file store {root} ({exc})", remedy="check permissions") from exc

    def path(self, sha256: str) -> Path:
        """Where the file with this hash lives."""
        return self.root / sha256[:2] / sha256[2:4] / sha256

    def has(self, sha256: str) -> bool:
        """True if a file with this hash is stored and its bytes still match."""
        target = self.path(sha256)
        if not target.is_file():
            return False
        h = hashlib.sha256()
        with target.open("rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                h.update(block)
        return h.hexdigest() == sha256

    def put(self, data: bytes, sha256: str) -> Path:
        """Store ``data`` under ``sha256`` (verified); idempotent."""
        if hashlib.sha256(data).hexdigest() != sha256:
            raise IntegrityError("file bytes do not match their SHA-256", remedy="the sender must resend")
        target = self.path(sha256)
        if self.has(sha256):
            return target
        try:
            write_durable(target, data, 0o644, tmp_prefix=f".{sha256}.")
        except OSError as exc:
            raise StoreError(f"cannot write to the file store ({exc.__class__.__name__})",
                             remedy="check free space and permissions") from exc
        return target

    def all_hashes(self) -> set[str]:
        """Every stored hash (for consistency checks)."""
        return {f.name for f in self.root.glob("*/*/*") if f.is_file() and not f.name.startswith(".")}
