"""One MQTT connection per box: look-ups go through the running sync worker over a local Unix socket.

The broker forces the client id to the certificate identity (``use_username_as_clientid``), so a
second connection of the box — whatever client id it asks for — takes over the worker's session
and disconnects it (measured: 4 look-ups, 5 worker link failures, 35 re-queued rows). Therefore:

* the worker holds the box's **link lock** (``SOHOA_HOME/sync-link.lock``, ``flock``) for as long as
  it runs and serves look-ups on ``SOHOA_HOME/sync-lookup.sock`` (:class:`LookupServer`), answered on
  its own link, under its own identity and topics;
* a look-up asks the worker first (:func:`ask_worker`); only when no worker serves the socket does it
  take the same lock and connect directly (so two look-ups, or a look-up and a starting worker, never
  hold two connections at once).

The socket accepts exactly one request kind, a reuse look-up (``sohoa.reuse-request/1``, parsed by
the protocol's own parser), from the same user or root only: it cannot be used to publish anything
else. Personal data in the query is never logged.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import logging
import os
import socket
import struct
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from service.domain.errors import SyncError
from service.sync import protocol as p

log = logging.getLogger("sohoa.sync.lookup")

SOCKET_NAME = "sync-lookup.sock"
LOCK_NAME = "sync-link.lock"
MAX_REQUEST = 64 * 1024
MAX_CLIENTS = 4
#: Errors the worker answers with (``{"error": CODE, "message": TEXT}``).
OFFLINE, BAD_REQUEST, BUSY, FAILED = "offline", "bad-request", "busy", "failed"

Handler = Callable[[p.ReuseQuery, float], p.ReuseAnswer]


def socket_path(home: Path) -> Path:
    """Where the worker of the service home ``home`` serves look-ups."""
    return home / SOCKET_NAME


@contextlib.contextmanager
def _address(path: Path) -> Iterator[str]:
    """A ``sun_path`` for ``path`` even when it is longer than the kernel's 108 bytes (via ``/proc/self/fd``)."""
    if len(os.fsencode(path)) < 100:
        yield str(path)
        return
    fd = os.open(path.parent, os.O_RDONLY | os.O_DIRECTORY)
    try:
        yield f"/proc/self/fd/{fd}/{path.name}"
    finally:
        os.close(fd)


class LinkLock:
    """The box's one-link lock: held by the worker while it runs, by a direct look-up while it connects."""

    def __init__(self, home: Path) -> None:
        self.path = home / LOCK_NAME
        self._fd: int | None = None

    def acquire(self, timeout_s: float) -> bool:
        """Take the lock within ``timeout_s`` (polling); False if another holder keeps it."""
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        deadline = time.monotonic() + timeout_s
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                self._fd = fd
                return True
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    os.close(fd)
                    return False
                time.sleep(0.05)

    def release(self) -> None:
        """Release (closing the descriptor releases the lock; the kernel does it when the holder dies)."""
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


class LookupServer:
    """Serves look-ups of local processes on the worker's link (one request line, one answer line)."""

    def __init__(self, path: Path, handler: Handler) -> None:
        self.path = path
        self._handler = handler
        self._slots = threading.BoundedSemaphore(MAX_CLIENTS)
        self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM | socket.SOCK_CLOEXEC)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, name="sync-lookup", daemon=True)
        self.served = 0
        self.refused = 0

    def start(self) -> LookupServer:
        """Bind (replacing a stale socket file: the caller holds the link lock) and serve in a thread."""
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()
        old = os.umask(0o177)
        try:
            with _address(self.path) as addr:
                self._sock.bind(addr)
        finally:
            os.umask(old)
        self._sock.listen(16)
        self._sock.settimeout(0.5)
        self._thread.start()
        return self

    def close(self) -> None:
        """Stop serving and remove the socket file."""
        self._stop.set()
        self._thread.join(5)
        self._sock.close()
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            if not self._slots.acquire(blocking=False):
                self._reply(conn, {"error": BUSY, "message": "too many look-ups at once"})
                conn.close()
                continue
            threading.Thread(target=self._one, args=(conn,), daemon=True, name="sync-lookup-client").start()

    def _one(self, conn: socket.socket) -> None:
        try:
            with conn:
                conn.settimeout(5.0)
                self._reply(conn, self._answer(conn))
        except OSError as exc:
            log.info("a look-up client went away (%s)", exc.__class__.__name__)
        finally:
            self._slots.release()

    def _answer(self, conn: socket.socket) -> dict[str, object]:
        uid = struct.unpack("3i", conn.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, 12))[1]
        if uid not in (os.getuid(), 0):
            self.refused += 1
            return {"error": BAD_REQUEST, "message": "look-ups are served to the station's own user only"}
        try:
            req = json.loads(_read_line(conn))
            timeout_s = float(req["timeout_s"])
            if not 0 < timeout_s <= 120:
                raise ValueError("timeout_s")
            query = p.ReuseQuery.decode(json.dumps(req["query"]).encode("utf-8"))
        except (ValueError, KeyError, TypeError, p.ProtocolError) as exc:
            self.refused += 1
            reason = exc.reason if isinstance(exc, p.ProtocolError) else exc.__class__.__name__
            log.warning("refused a local look-up request (%s)", reason)
            return {"error": BAD_REQUEST, "message": f"not a reuse look-up ({reason})"}
        try:
            answer = self._handler(query, timeout_s)
        except SyncError as exc:
            return {"error": OFFLINE, "message": exc.message}
        except Exception:  # a bug must not kill the worker's server thread
            log.exception("a local look-up failed")
            return {"error": FAILED, "message": "the sync worker failed to ask the province"}
        self.served += 1
        return {"answer": json.loads(answer.encode())}

    @staticmethod
    def _reply(conn: socket.socket, body: dict[str, object]) -> None:
        with contextlib.suppress(OSError):
            conn.sendall(json.dumps(body, ensure_ascii=False).encode("utf-8") + b"\n")


def _read_line(conn: socket.socket) -> bytes:
    buf = b""
    while b"\n" not in buf:
        if len(buf) > MAX_REQUEST:
            raise ValueError("request too long")
        part = conn.recv(8192)
        if not part:
            break
        buf += part
    line = buf.split(b"\n", 1)[0]
    if len(line) > MAX_REQUEST:
        raise ValueError("request too long")
    return line


def ask_worker(path: Path, query: p.ReuseQuery, timeout_s: float) -> p.ReuseAnswer | None:
    """Ask the running worker; None when no worker serves ``path``; :class:`SyncError` when it cannot answer."""
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM | socket.SOCK_CLOEXEC)
    with sock:
        try:
            with _address(path) as addr:
                sock.connect(addr)
        except OSError as exc:
            if exc.errno in (errno.ENOENT, errno.ECONNREFUSED, errno.ENOTDIR):
                return None  # no worker (or a stale socket of a dead one): the caller connects itself
            raise SyncError(f"cannot reach the sync worker ({exc.__class__.__name__})",
                            remedy="check the permissions of SOHOA_HOME") from exc
        sock.settimeout(timeout_s + 5.0)
        request = {"timeout_s": timeout_s, "query": json.loads(query.encode())}
        try:
            sock.sendall(json.dumps(request).encode("utf-8") + b"\n")
            line = _read_line(sock)
            body = json.loads(line)
        except (OSError, ValueError) as exc:
            raise SyncError("the sync worker did not answer the look-up",
                            remedy="check `sohoa sync status` and the worker's log") from exc
    if "answer" in body:
        try:
            return p.ReuseAnswer.decode(json.dumps(body["answer"]).encode("utf-8"))
        except p.ProtocolError as exc:
            raise SyncError("the sync worker's answer is unreadable") from exc
    raise SyncError(f"look-up not answered by the sync worker: {body.get('error')}: {body.get('message')}",
                    remedy="the province is unreachable now: the cached answer is used")
