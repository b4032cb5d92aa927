"""Pseudo-terminal pairs that play a serial device's side in tests.

``PtyPair`` gives the driver a real tty path (``port``) and the test the master end. The
``FakeEscposPrinter`` thread answers ESC/POS ``DLE EOT n`` status requests with configurable
bytes and records everything it was sent.
"""

from __future__ import annotations

import os
import select
import threading
import tty
from types import TracebackType


class PtyPair:
    """A pty pair: ``port`` (slave path for pyserial) and ``master`` (the device side, for the test)."""

    def __init__(self) -> None:
        self.master, self._slave = os.openpty()
        tty.setraw(self._slave)
        self.port = os.ttyname(self._slave)

    def write(self, data: bytes) -> None:
        """Send bytes as the device."""
        os.write(self.master, data)

    def read_available(self, timeout_s: float = 0.5) -> bytes:
        """Whatever the driver sent within ``timeout_s``."""
        out = bytearray()
        while select.select([self.master], [], [], timeout_s)[0]:
            try:
                chunk = os.read(self.master, 65536)
            except OSError:
                break
            if not chunk:
                break
            out.extend(chunk)
            timeout_s = 0.05
        return bytes(out)

    def close(self) -> None:
        for fd in (self.master, self._slave):
            try:
                os.close(fd)
            except OSError:
                pass

    def __enter__(self) -> PtyPair:
        return self

    def __exit__(self, *exc: object | TracebackType) -> None:
        self.close()


class FakeEscposPrinter(threading.Thread):
    """Answers DLE EOT 1/2/4 with ``status[n]``; ``silent`` makes it never answer; ``stall_after``
    makes it stop reading (a wedged printer) after that many answers."""

    OK = {1: 0x12, 2: 0x12, 4: 0x12}

    def __init__(self, pair: PtyPair, status: dict[int, int] | None = None, silent: bool = False,
                 stall_after: int | None = None) -> None:
        super().__init__(daemon=True)
        self.pair = pair
        self.status = dict(status or self.OK)
        self.silent = silent
        self.stall_after = stall_after  # stop reading after this many status answers (a wedged printer)
        self.answered = 0
        self.received = bytearray()
        self._stop_event = threading.Event()
        self._lock = threading.Lock()

    def run(self) -> None:
        pending = bytearray()
        while not self._stop_event.is_set():
            if self.stall_after is not None and self.answered >= self.stall_after:
                self._stop_event.wait(0.05)
                continue
            if not select.select([self.pair.master], [], [], 0.05)[0]:
                continue
            try:
                chunk = os.read(self.pair.master, 65536)
            except OSError:
                return
            with self._lock:
                self.received.extend(chunk)
            pending.extend(chunk)
            while True:
                i = pending.find(b"\x10\x04")
                if i < 0 or i + 2 >= len(pending):
                    del pending[: max(0, len(pending) - 2)]
                    break
                n = pending[i + 2]
                del pending[: i + 3]
                if not self.silent and n in self.status:
                    os.write(self.pair.master, bytes([self.status[n]]))
                    self.answered += 1

    def data(self) -> bytes:
        with self._lock:
            return bytes(self.received)

    def stop(self) -> None:
        self._stop_event.set()
        self.join(2)
