"""A fault-injecting TCP proxy on 127.0.0.1: drop, stall, cut, throttle, lossy delays.

Real sockets, real faults: ``drop`` resets every live connection (RST), ``cut`` closes each
live connection after a few more bytes (mid-message), ``stall`` stops forwarding for a while
(TCP buffers fill, keep-alives starve), ``throttle`` caps the link rate shared by all
connections, and ``loss`` delays a block by ``loss_delay_s`` with a probability, the way a
lost segment costs a retransmission time-out on a real lossy link.
"""

from __future__ import annotations

import contextlib
import random
import socket
import struct
import threading
import time

from tests.support.mosquitto import free_port


class _Bucket:
    """Shared token bucket (bytes/s); rate 0 = unlimited."""

    def __init__(self) -> None:
        self.rate = 0
        self._tokens = 0.0
        self._last = time.monotonic()
        self._lock = threading.Lock()

    def take(self, n: int, closed: threading.Event) -> None:
        for _ in range(100_000):
            with self._lock:
                if self.rate <= 0:
                    return
                now = time.monotonic()
                burst = max(2048.0, self.rate / 20)
                self._tokens = min(burst, self._tokens + (now - self._last) * self.rate)
                self._last = now
                if self._tokens >= n or (n > burst and self._tokens >= burst):
                    self._tokens -= n
                    return
                wait = (min(n, burst) - self._tokens) / self.rate
            if closed.wait(min(wait, 0.5)):
                return


class _Conn:
    def __init__(self, proxy: FaultProxy, client: socket.socket, upstream: socket.socket) -> None:
        self.proxy, self.client, self.upstream = proxy, client, upstream
        self.closed = threading.Event()
        self.cut_after: int | None = None

    def start(self) -> None:
        for src, dst, bucket in ((self.client, self.upstream, self.proxy.up_bucket),
                                 (self.upstream, self.client, self.proxy.down_bucket)):
            threading.Thread(target=self._pump, args=(src, dst, bucket), daemon=True).start()

    def _pump(self, src: socket.socket, dst: socket.socket, bucket: _Bucket) -> None:
        src.settimeout(0.2)
        try:
            while not self.closed.is_set():
                if self.proxy.stalled_until > time.monotonic():
                    time.sleep(0.05)
                    continue
                try:
                    data = src.recv(4096 if bucket.rate else 65536)
                except TimeoutError:
                    continue
                if not data:
                    break
                bucket.take(len(data), self.closed)
                if self.proxy.loss and self.proxy.rng.random() < self.proxy.loss:
                    time.sleep(self.proxy.loss_delay_s)
                if self.cut_after is not None:
                    if self.cut_after <= len(data):
                        with contextlib.suppress(OSError):
                            dst.sendall(data[: self.cut_after])
                        break
                    self.cut_after -= len(data)
                self.proxy.bytes_forwarded += len(data)
                dst.sendall(data)
        except OSError:
            pass
        self.reset()

    def reset(self) -> None:
        """Close both sides with RST."""
        if self.closed.is_set():
            return
        self.closed.set()
        for s in (self.client, self.upstream):
            with contextlib.suppress(OSError):
                s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            with contextlib.suppress(OSError):
                s.close()
        self.proxy._forget(self)


class FaultProxy:
    """Listens on a free port and forwards to ``127.0.0.1:upstream_port``."""

    def __init__(self, upstream_port: int, *, seed: int = 1) -> None:
        self.upstream_port = upstream_port
        self.port = free_port()
        self.rng = random.Random(seed)
        self.up_bucket, self.down_bucket = _Bucket(), _Bucket()
        self.loss = 0.0
        self.loss_delay_s = 0.2
        self.stalled_until = 0.0
        self.refuse_until = 0.0
        self.bytes_forwarded = 0
        self.faults: dict[str, int] = {}
        self._conns: set[_Conn] = set()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._sock = socket.socket()
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind(("127.0.0.1", self.port))
        self._sock.listen(64)
        self._sock.settimeout(0.2)
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                client, _ = self._sock.accept()
            except (TimeoutError, OSError):
                continue
            if time.monotonic() < self.refuse_until:
                client.close()
                continue
            try:
                upstream = socket.create_connection(("127.0.0.1", self.upstream_port), timeout=5)
                upstream.settimeout(None)
            except OSError:
                client.close()
                continue
            for s in (client, upstream):
                s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            conn = _Conn(self, client, upstream)
            with self._lock:
                self._conns.add(conn)
            conn.start()

    def _forget(self, conn: _Conn) -> None:
        with self._lock:
            self._conns.discard(conn)

    def _count(self, kind: str) -> None:
        self.faults[kind] = self.faults.get(kind, 0) + 1

    @property
    def live(self) -> int:
        """Open connections."""
        with self._lock:
            return len(self._conns)

    def drop(self, refuse_s: float = 0.0) -> None:
        """Reset every live connection now (and refuse new ones for ``refuse_s``)."""
        with self._lock:
            conns = list(self._conns)
        for c in conns:
            c.reset()
        self.refuse_until = time.monotonic() + refuse_s
        self._count("drop")

    def cut(self, after_bytes: int = 300) -> None:
        """Close each live connection after ``after_bytes`` more bytes in any direction."""
        with self._lock:
            for c in self._conns:
                c.cut_after = after_bytes
        self._count("cut")

    def stall(self, seconds: float) -> None:
        """Forward nothing for ``seconds``."""
        self.stalled_until = time.monotonic() + seconds
        self._count("stall")

    def throttle(self, bytes_per_s: int) -> None:
        """Cap each direction at ``bytes_per_s`` (0 = unlimited)."""
        self.up_bucket.rate = self.down_bucket.rate = bytes_per_s

    def close(self) -> None:
        """Stop accepting and reset all connections."""
        self._stop.set()
        with contextlib.suppress(OSError):
            self._sock.close()
        with self._lock:
            conns = list(self._conns)
        for c in conns:
            c.reset()
