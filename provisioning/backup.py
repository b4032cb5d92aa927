"""Backup and restore of a box's state: database, content-addressed files, config and identity.

The archive is a gzip tar whose first member is ``manifest.json`` listing every other member
with its size and SHA-256. The database is copied with SQLite's online backup API, so a backup
taken while the service runs is consistent (:mod:`service.store.snapshot` does the database part).
Restore verifies the whole archive (manifest, hashes, member names, SQLite integrity) in a
staging folder before it replaces anything; the replaced state is kept in ``.pre-restore/<time>/``
until the next factory reset.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import shutil
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from service.domain.errors import InputError, IntegrityError
from service.durable import commit_file, fsync_dir
from service.paths import Paths
from service.store.snapshot import check_database, snapshot_database

FORMAT = "sohoa-backup/1"
MANIFEST = "manifest.json"
DB_MEMBER = "sohoa.db"
TREES = ("files", "pki")  # folders copied whole; tokens/, exports/, logs/ are not backed up
MAX_MEMBER_BYTES = 8 * 1024**3
CHUNK = 1 << 20


@dataclass(frozen=True)
class BackupReport:
    """What a backup or a verification found: archive path, entries and their total size."""

    archive: Path
    entries: int
    total_bytes: int
    created: str

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict."""
        return {"archive": str(self.archive), "entries": self.entries, "total_bytes": self.total_bytes,
                "created": self.created}


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(CHUNK):
            h.update(chunk)
    return h.hexdigest()


def _collect(paths: Paths, staging: Path) -> list[tuple[str, Path]]:
    """(archive name, source file) for everything to back up; the DB goes through a snapshot."""
    items: list[tuple[str, Path]] = []
    if paths.database.exists():
        snap = staging / DB_MEMBER
        snapshot_database(paths.database, snap)
        items.append((DB_MEMBER, snap))
    if paths.config.exists():
        items.append(("config.yaml", paths.config))
    for tree in TREES:
        root = paths.home / tree
        if root.is_dir():
            for f in sorted(p for p in root.rglob("*") if p.is_file() and not p.is_symlink()):
                items.append((f.relative_to(paths.home).as_posix(), f))
    return items


def create_backup(paths: Paths, dest: Path) -> BackupReport:
    """Write a backup archive to ``dest`` (a file path, or a folder to put a dated file in)."""
    if dest.is_dir():
        dest = dest / f"sohoa-backup-{dt.datetime.now(dt.UTC):%Y%m%dT%H%M%SZ}.tar.gz"
    dest.parent.mkdir(parents=True, exist_ok=True)
    created = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    with tempfile.TemporaryDirectory(prefix="sohoa-backup-") as tmp:
        items = _collect(paths, Path(tmp))
        entries: list[dict[str, Any]] = [{"path": name, "size": src.stat().st_size, "sha256": _sha256(src)}
                                         for name, src in items]
        manifest = json.dumps({"format": FORMAT, "created": created, "entries": entries}, indent=1).encode()
        partial = dest.with_name(f".{dest.name}.partial")
        os.close(os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600))  # holds the device key: 0600
        with tarfile.open(partial, "w:gz") as tar:
            info = tarfile.TarInfo(MANIFEST)
            info.size, info.mode = len(manifest), 0o600
            tar.addfile(info, _BytesReader(manifest))
            for name, src in items:
                tar.add(src, arcname=name, recursive=False)
        commit_file(partial, dest)
    return BackupReport(dest, len(entries), sum(int(e["size"]) for e in entries), created)


class _BytesReader:
    """Minimal file object for tarfile.addfile."""

    def __init__(self, data: bytes) -> None:
        self._data, self._pos = data, 0

    def read(self, n: int = -1) -> bytes:
        end = len(self._data) if n < 0 else self._pos + n
        out, self._pos = self._data[self._pos:end], min(end, len(self._data))
        return out


def _safe_name(name: str) -> bool:
    p = PurePosixPath(name)
    return bool(name) and not p.is_absolute() and ".." not in p.parts and (
        name in (DB_MEMBER, "config.yaml") or p.parts[0] in TREES)


def _corrupt(archive: Path, why: str) -> IntegrityError:
    return IntegrityError(f"backup {archive.name} is corrupt or not a sohoa backup: {why}",
                          remedy="use another backup copy; nothing was changed")


def verify_backup(archive: Path, extract_to: Path | None = None) -> BackupReport:
    """Check every member against the manifest (and optionally extract into ``extract_to``)."""
    if not archive.is_file():
        raise InputError(f"{archive}: no such backup file", remedy="give the path of a .tar.gz made by sohoa")
    try:
        with tarfile.open(archive, "r:gz") as tar:
            first = tar.next()
            if first is None or first.name != MANIFEST or not first.isfile() or first.size > 64 * 1024**2:
                raise _corrupt(archive, "the manifest is missing")
            fobj = tar.extractfile(first)
            assert fobj is not None
            manifest = json.loads(fobj.read())
            if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
                raise _corrupt(archive, "the manifest is not a sohoa-backup/1 manifest")
            expected = {e["path"]: e for e in manifest["entries"]}
            seen: set[str] = set()
            while (member := tar.next()) is not None:
                name = member.name
                if name not in expected or name in seen or not member.isfile() or not _safe_name(name):
                    raise _corrupt(archive, f"unexpected member {name!r}")
                if member.size != expected[name]["size"] or member.size > MAX_MEMBER_BYTES:
                    raise _corrupt(archive, f"{name} has the wrong size")
                data = tar.extractfile(member)
                assert data is not None
                h = hashlib.sha256()
                out = None
                if extract_to is not None:
                    target = extract_to / name
                    target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
                    out = os.fdopen(os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "wb")
                try:
                    while chunk := data.read(CHUNK):
                        h.update(chunk)
                        if out is not None:
                            out.write(chunk)
                finally:
                    if out is not None:
                        out.close()
                if h.hexdigest() != expected[name]["sha256"]:
                    raise _corrupt(archive, f"{name} does not match its SHA-256")
                seen.add(name)
            if seen != set(expected):
                raise _corrupt(archive, f"{len(set(expected) - seen)} member(s) missing")
    except (tarfile.TarError, EOFError, OSError, ValueError, KeyError, TypeError) as exc:
        raise _corrupt(archive, f"{type(exc).__name__}: {exc}") from exc
    total = sum(int(e["size"]) for e in expected.values())
    return BackupReport(archive, len(expected), total, str(manifest.get("created")))


def _check_db(db: Path) -> None:
    problem = check_database(db)
    if problem is None:
        return
    raise IntegrityError(f"the database in the backup {problem}", remedy="use another backup copy; nothing was changed")


def _chown_tree(root: Path, uid: int, gid: int) -> None:
    """Give restored files to the owner of SOHOA_HOME (a root technician restoring for user sohoa)."""
    if os.geteuid() != 0:
        return
    for p in [root, *root.rglob("*")] if root.is_dir() else [root]:
        os.chown(p, uid, gid, follow_symlinks=False)


def restore_backup(paths: Paths, archive: Path) -> tuple[BackupReport, Path]:
    """Verify ``archive`` completely, then swap it in; returns (report, folder holding the old state)."""
    paths.home.mkdir(parents=True, exist_ok=True, mode=0o700)
    staging = Path(tempfile.mkdtemp(prefix=".restore-", dir=paths.home))
    try:
        report = verify_backup(archive, extract_to=staging)
        if (staging / DB_MEMBER).exists():
            _check_db(staging / DB_MEMBER)
        stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S%fZ")
        aside = paths.home / ".pre-restore" / stamp
        aside.mkdir(parents=True, mode=0o700)
        names = [DB_MEMBER, f"{DB_MEMBER}-wal", f"{DB_MEMBER}-shm", "config.yaml", *TREES]
        for name in names:
            if (paths.home / name).exists():
                os.replace(paths.home / name, aside / name)
        owner = paths.home.stat()
        for name in [DB_MEMBER, "config.yaml", *TREES]:
            if (staging / name).exists():
                _chown_tree(staging / name, owner.st_uid, owner.st_gid)
                os.replace(staging / name, paths.home / name)
        fsync_dir(paths.home)
        return report, aside
    finally:
        shutil.rmtree(staging, ignore_errors=True)
