"""Content-addressed file store: ``files/ab/cdef…`` named by SHA-256, written durably.

A file is written with :func:`service.durable.write_durable` (temporary name, fsync, rename, fsync
of its folder),
all before the database row that names it commits, so a committed row never names a missing file.
"""

from __future__ import annotations

import errno
import hashlib
import re
import time
from pathlib import Path

from service.domain.errors import IntegrityError, NotFoundError, StoreError
from service.durable import fsync_dir, write_durable

_HEX = re.compile(r"^[0-9a-f]{64}$")
#: A temporary file older than this was left by a crashed writer (a live write takes seconds).
STALE_TEMP_S = 3600.0


class FileStore:
    """Files named by the SHA-256 of their content under one root folder."""

    def __init__(self, root: Path) -> None:
        """Use ``root`` (created on first write)."""
        self.root = root

    def path_for(self, sha256: str) -> Path:
        """Where the file with this hash lives (it may not exist)."""
        if not _HEX.match(sha256):
            raise StoreError(f"not a SHA-256 hex digest: {sha256[:16]!r}", remedy="pass the 64-hex-digit hash")
        return self.root / sha256[:2] / sha256[2:]

    def put(self, data: bytes) -> str:
        """Store ``data`` durably and return its SHA-256 (idempotent for identical content)."""
        digest = hashlib.sha256(data).hexdigest()
        target = self.path_for(digest)
        if target.exists() and target.stat().st_size == len(data):
            return digest
        try:
            write_durable(target, data, 0o400, tmp_prefix=".tmp-")
            fsync_dir(self.root)  # the hash folder itself may be new
        except OSError as exc:
            if exc.errno in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG):
                raise StoreError("cannot write to the file store: disk full",
                                 remedy="free disk space on the box (old exports, logs) or ask the technician; "
                                        "nothing was saved and the stored documents are intact") from exc
            raise StoreError(f"cannot write to the file store ({exc.strerror})",
                             remedy="check the permissions of SOHOA_HOME/files") from exc
        return digest

    def exists(self, sha256: str) -> bool:
        """True if the file is present."""
        return self.path_for(sha256).is_file()

    def get(self, sha256: str) -> bytes:
        """The file's bytes, re-hashed: :class:`IntegrityError` if they no longer match the name."""
        path = self.path_for(sha256)
        try:
            data = path.read_bytes()
        except FileNotFoundError as exc:
            raise NotFoundError(f"stored file {sha256[:12]}… is missing",
                                remedy="restore SOHOA_HOME/files from backup") from exc
        if hashlib.sha256(data).hexdigest() != sha256:
            raise IntegrityError(f"stored file {sha256[:12]}… was altered on disk",
                                 remedy="restore SOHOA_HOME/files from backup")
        return data

    def verify(self, sha256: str) -> str | None:
        """None if the file is present and intact, else a short description of the problem."""
        try:
            self.get(sha256)
        except NotFoundError:
            return "missing"
        except IntegrityError:
            return "altered"
        return None

    def sweep_temporary(self, *, older_than_s: float = STALE_TEMP_S) -> int:
        """Remove temporary files left by writers that died mid-write; returns how many."""
        if not self.root.is_dir():
            return 0
        cutoff = time.time() - older_than_s
        removed = 0
        for tmp in self.root.glob("*/.tmp-*"):
            try:
                if tmp.stat().st_mtime < cutoff:
                    tmp.unlink()
                    removed += 1
            except OSError:
                continue
        return removed
