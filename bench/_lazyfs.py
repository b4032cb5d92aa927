"""A FUSE passthrough that loses every write not yet fsynced when the power is cut (after LazyFS).

``python -m bench._lazyfs BACKING MOUNTPOINT`` mounts ``BACKING`` at ``MOUNTPOINT``. File data
written through the mount stays in this process's memory (the "page cache") until the file is
fsynced (``fsync``/``fdatasync``): only then does it reach ``BACKING``, which plays the disk.
Directory operations (create, rename, unlink, mkdir, chmod) reach ``BACKING`` at once, as in
LazyFS's default model; a renamed file keeps its unsynced data in memory under its new name.

Control on stdin, one word a line: ``mount`` mounts (``ready`` is printed when it is); ``cut``
drops every unsynced byte and refuses all later writes and syncs (EIO) — the moment of the power
cut — and answers ``cut-done BYTES``; after ``fusermount3 -u MOUNTPOINT`` it prints ``unmounted``
and waits for the next ``mount`` (a fresh, empty cache: the power is back); ``quit`` ends it.
"""

from __future__ import annotations

import errno
import os
import queue
import sys
import threading
from dataclasses import dataclass, field
from typing import Any

import mfusepy as fuse


@dataclass
class _Image:
    """The logical (cached) content of one file and the part not yet on the backing disk."""

    data: bytearray
    lo: int = 0
    hi: int = 0
    dirty: bool = False
    resized: bool = False
    extra: dict[str, Any] = field(default_factory=dict)

    def touch(self, start: int, end: int) -> None:
        """Widen the unsynced span to cover ``start..end``."""
        if not self.dirty:
            self.lo, self.hi, self.dirty = start, end, True
        else:
            self.lo, self.hi = min(self.lo, start), max(self.hi, end)


class LazyFS(fuse.Operations):  # type: ignore[misc]
    """Passthrough operations with a volatile write cache (see the module docstring)."""

    use_ns = True  # utimens gets nanoseconds

    def __init__(self, root: str) -> None:
        """Serve the folder ``root``."""
        self.root = os.path.realpath(root)
        self._mu = threading.RLock()
        self.images: dict[str, _Image] = {}
        self.frozen = False
        self.stats = {"writes": 0, "syncs": 0, "dropped_bytes": 0}

    # ------------------------------------------------------------------ helpers
    def _p(self, path: str) -> str:
        return self.root + path

    def _image(self, real: str, fh: int | None) -> _Image:
        img = self.images.get(real)
        if img is None:
            fd = fh if fh is not None else os.open(real, os.O_RDONLY)
            try:
                size = os.fstat(fd).st_size
                chunks, off = [], 0
                while off < size:
                    part = os.pread(fd, min(1 << 20, size - off), off)
                    if not part:
                        break
                    chunks.append(part)
                    off += len(part)
            finally:
                if fh is None:
                    os.close(fd)
            img = self.images[real] = _Image(bytearray(b"".join(chunks)))
        return img

    def _alive(self) -> None:
        if self.frozen:
            raise fuse.FuseOSError(errno.EIO)

    def cut(self) -> int:
        """The power cut: forget every unsynced byte; refuse writes from now on. Returns bytes lost."""
        with self._mu:
            self.frozen = True
            lost = sum(img.hi - img.lo for img in self.images.values() if img.dirty)
            self.images.clear()
            self.stats["dropped_bytes"] += lost
            return lost

    # ------------------------------------------------------------------ metadata (straight to disk)
    def getattr(self, path: str, fh: int | None = None) -> dict[str, Any]:
        """File attributes from the disk; the size is the cached one when unsynced data exists."""
        st = os.lstat(self._p(path))
        out = {k: getattr(st, k) for k in ("st_atime", "st_ctime", "st_gid", "st_mode", "st_mtime", "st_nlink",
                                           "st_size", "st_uid", "st_ino")}
        with self._mu:
            img = self.images.get(self._p(path))
            if img is not None:
                out["st_size"] = len(img.data)
        return out

    def readdir(self, path: str, fh: int) -> list[str]:
        """Directory entries (straight from the disk)."""
        return [".", "..", *os.listdir(self._p(path))]

    def readlink(self, path: str) -> str:
        """Target of a symbolic link."""
        return os.readlink(self._p(path))

    def symlink(self, target: str, source: str) -> int:
        """Create a symbolic link (metadata: durable at once)."""
        os.symlink(source, self._p(target))
        return 0

    def mkdir(self, path: str, mode: int) -> int:
        """Create a folder (metadata: durable at once)."""
        self._alive()
        os.mkdir(self._p(path), mode)
        return 0

    def rmdir(self, path: str) -> int:
        """Remove a folder."""
        self._alive()
        os.rmdir(self._p(path))
        return 0

    def unlink(self, path: str) -> int:
        """Remove a file and its unsynced data."""
        self._alive()
        with self._mu:
            os.unlink(self._p(path))
            self.images.pop(self._p(path), None)
        return 0

    def rename(self, old: str, new: str) -> int:
        """Rename on disk at once; the unsynced data moves with the name."""
        self._alive()
        with self._mu:
            os.rename(self._p(old), self._p(new))
            img = self.images.pop(self._p(old), None)
            self.images.pop(self._p(new), None)
            if img is not None:
                self.images[self._p(new)] = img
        return 0

    def chmod(self, path: str, mode: int) -> int:
        """Change the mode (metadata: durable at once)."""
        self._alive()
        os.chmod(self._p(path), mode)
        return 0

    def chown(self, path: str, uid: int, gid: int) -> int:
        """Change the owner (metadata: durable at once)."""
        self._alive()
        os.chown(self._p(path), uid, gid)
        return 0

    def utimens(self, path: str, times: tuple[int, int] | None = None) -> int:
        """Set the times (nanoseconds)."""
        if times is not None:
            os.utime(self._p(path), ns=times)
        else:
            os.utime(self._p(path))
        return 0

    def access(self, path: str, amode: int) -> int:
        """Permission check against the disk."""
        if not os.access(self._p(path), amode):
            raise fuse.FuseOSError(errno.EACCES)
        return 0

    def statfs(self, path: str) -> dict[str, int]:
        """Free space of the backing disk."""
        st = os.statvfs(self._p(path))
        return {k: getattr(st, k) for k in ("f_bavail", "f_bfree", "f_blocks", "f_bsize", "f_favail", "f_ffree",
                                            "f_files", "f_flag", "f_frsize", "f_namemax")}

    # ------------------------------------------------------------------ file data (cached until fsync)
    def open(self, path: str, flags: int) -> int:
        """Open the backing file; ``O_TRUNC`` is an unsynced truncation."""
        real = self._p(path)
        fd = os.open(real, os.O_RDWR if flags & (os.O_WRONLY | os.O_RDWR) else os.O_RDONLY)
        if flags & os.O_TRUNC:
            self.truncate(path, 0, fd)
        return fd

    def create(self, path: str, mode: int, fi: Any = None) -> int:
        """Create an empty file on disk (its data stays unsynced until fsync)."""
        self._alive()
        real = self._p(path)
        with self._mu:
            fd = os.open(real, os.O_CREAT | os.O_RDWR, mode)
            self.images.pop(real, None)
        return fd

    def read(self, path: str, size: int, offset: int, fh: int) -> bytes:
        """Read the cached content when unsynced data exists, else the disk."""
        with self._mu:
            img = self.images.get(self._p(path))
            if img is not None:
                return bytes(img.data[offset:offset + size])
        return os.pread(fh, size, offset)

    def write(self, path: str, data: bytes, offset: int, fh: int) -> int:
        """Write into the cache only (lost at a cut unless fsynced)."""
        with self._mu:
            self._alive()
            img = self._image(self._p(path), fh)
            end = offset + len(data)
            if len(img.data) < offset:
                img.data.extend(b"\0" * (offset - len(img.data)))
            img.data[offset:end] = data
            img.touch(offset, end)
            self.stats["writes"] += 1
        return len(data)

    def truncate(self, path: str, length: int, fh: int | None = None) -> int:
        """Resize in the cache only (lost at a cut unless fsynced)."""
        with self._mu:
            self._alive()
            img = self._image(self._p(path), fh)
            old = len(img.data)
            if length < old:
                del img.data[length:]
            else:
                img.data.extend(b"\0" * (length - old))
            img.resized = True
            img.touch(min(old, length), max(old, length))  # a later fsync rewrites the zeroed span
        return 0

    def fsync(self, path: str, datasync: int, fh: int) -> int:
        """Write the file's unsynced span to the disk and fsync it there."""
        with self._mu:
            self._alive()
            real = self._p(path)
            img = self.images.get(real)
            if img is not None and (img.dirty or img.resized):
                fd = os.open(real, os.O_WRONLY)
                try:
                    hi = min(img.hi, len(img.data))
                    if hi > img.lo:
                        os.pwrite(fd, bytes(img.data[img.lo:hi]), img.lo)
                    os.ftruncate(fd, len(img.data))
                    os.fsync(fd)
                finally:
                    os.close(fd)
                img.dirty = img.resized = False
            self.stats["syncs"] += 1
        return 0

    def fsyncdir(self, path: str, datasync: int, fh: int) -> int:
        """Directory sync: metadata is already durable here."""
        self._alive()
        return 0

    def flush(self, path: str, fh: int) -> int:
        """``close``: nothing becomes durable."""
        return 0  # closing a file does not make it durable

    def release(self, path: str, fh: int) -> int:
        """Close the backing file descriptor."""
        os.close(fh)
        return 0

    def init(self, path: str) -> None:
        """Mounted: tell the controller."""
        print("ready", flush=True)


def _control(current: list[LazyFS], commands: queue.Queue[str]) -> None:
    for line in sys.stdin:
        word = line.strip()
        if word == "cut":
            lost = current[0].cut()
            print(f"cut-done {lost}", flush=True)
        elif word:
            commands.put(word)
    commands.put("quit")


def main(argv: list[str] | None = None) -> int:
    """Serve: mount on ``mount`` (again after each unmount), until ``quit`` or the end of stdin."""
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 2:
        print("usage: python -m bench._lazyfs BACKING MOUNTPOINT", file=sys.stderr)
        return 2
    current = [LazyFS(args[0])]
    commands: queue.Queue[str] = queue.Queue()
    threading.Thread(target=_control, args=(current, commands), daemon=True).start()
    while commands.get() == "mount":
        current[0] = LazyFS(args[0])  # a fresh cache: the power is back
        fuse.FUSE(current[0], args[1], foreground=True, nothreads=False, attr_timeout=0, entry_timeout=0,
                  negative_timeout=0)
        print("unmounted", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
