"""The one durable file write of the code base: temp file → fsync → rename → fsync the folder.

A crash at any point leaves the old file or the new one, never half of one. Pure standard
library and no ``service`` imports, so every room may use it: the store, provisioning, the CLI,
the kiosk (which must not import the store package), and the province gateway (whose import
rule allows ``service.sync.protocol``, ``service.domain`` and this module).
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def fsync_dir(folder: Path) -> None:
    """Make the entries of ``folder`` (a create or a rename in it) durable."""
    fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def commit_file(tmp: Path, target: Path) -> None:
    """Flush the already written ``tmp`` to disk, rename it onto ``target`` and flush the folder."""
    fd = os.open(tmp, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, target)
    fsync_dir(target.parent)


def write_durable(path: Path, data: bytes, mode: int = 0o600, *, tmp_prefix: str | None = None) -> None:
    """Replace ``path`` with ``data`` durably (file ``mode``; missing parent folders are made 0700).

    The temporary file sits next to ``path`` and is named ``tmp_prefix`` + random letters
    (default ``.<name>.tmp-``), so a reader that skips dot files never sees a half-written one;
    it is removed again if the write fails.
    """
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd, name = tempfile.mkstemp(prefix=tmp_prefix or f".{path.name}.tmp-", dir=path.parent)
    tmp = Path(name)
    try:
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view):]
            os.fchmod(fd, mode)
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    fsync_dir(path.parent)
