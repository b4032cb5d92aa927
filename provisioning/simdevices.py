"""Simulated devices for a development station, driven through the real drivers.

- :func:`sane_test_backend` writes a private ``SANE_CONFIG_DIR`` that enables SANE's own ``test``
  backend (Debian disables it), so the real libsane + python-sane scanner driver scans from it.
- :class:`PtyPair` is a real pseudo-terminal: the serial drivers open its ``port`` like a USB
  serial device, and the simulated device plays the other end.
- :class:`PtyPrinter` answers ESC/POS ``DLE EOT n`` status requests and records what it was sent;
  :class:`SimulatedReceiptPrinter` adds a folder where each job is saved.
- :func:`raster_images` decodes the ``GS v 0`` raster images of a printed job (the simulated
  printer saves each job as a PNG beside its bytes, so a developer sees the slip).
- :class:`SimulatedQrReader` forwards every line written to a FIFO to the QR reader's tty, as a
  serial scanner sends one code per line.

The GPIO panel needs no process: gpiozero's ``MockFactory`` (``pin_factory: mock``) is the
simulation. Nothing here runs on a production box.
"""

from __future__ import annotations

import io
import os
import select
import stat
import threading
import time
import tty
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

from PIL import Image

from service.durable import write_durable

SANE_TEST_CONF = """\
number_of_devices 2
mode Color
depth 8
resolution_min 1.0
resolution_max 1200.0
resolution_quant 1.0
resolution 50.0
test-picture "Color pattern"
read-limit false
read-delay false
read-status-code "Default"
geometry_min 0.0
geometry_max 200.0
geometry_quant 1.0
tl_x 0.0
tl_y 0.0
br_x 40.0
br_y 60.0
"""


def sane_test_backend(folder: Path) -> Path:
    """Write a SANE configuration folder whose ``dll.conf`` lists only ``test``; returns it.

    Point ``SANE_CONFIG_DIR`` at it before libsane is first initialised in a process.
    """
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "dll.conf").write_text("test\n", encoding="ascii")
    (folder / "test.conf").write_text(SANE_TEST_CONF, encoding="ascii")
    return folder


class PtyPair:
    """A pty pair: ``port`` (slave path for pyserial) and ``master`` (the device's side)."""

    def __init__(self) -> None:
        """Open the pair in raw mode."""
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
        """Close both ends."""
        for fd in (self.master, self._slave):
            try:
                os.close(fd)
            except OSError:
                pass

    def __enter__(self) -> PtyPair:
        """Context manager: the pair itself."""
        return self

    def __exit__(self, *exc: object | TracebackType) -> None:
        """Close on leaving the block."""
        self.close()


class PtyPrinter(threading.Thread):
    """An ESC/POS printer on a pty: answers DLE EOT 1/2/4 with ``status[n]`` and records its input.

    ``silent`` never answers (a printer switched off); ``stall_after`` stops reading after that many
    answers (a wedged printer).
    """

    OK = {1: 0x12, 2: 0x12, 4: 0x12}

    def __init__(self, pair: PtyPair, status: dict[int, int] | None = None, silent: bool = False,
                 stall_after: int | None = None) -> None:
        """Configure; call :meth:`start`."""
        super().__init__(daemon=True, name="sim-printer")
        self.pair = pair
        self.status = dict(status or self.OK)
        self.silent = silent
        self.stall_after = stall_after
        self.answered = 0
        self.received = bytearray()
        self._stop_event = threading.Event()
        self._lock = threading.Lock()

    def on_data(self, chunk: bytes) -> None:
        """Called with every chunk received (subclasses save jobs)."""

    def run(self) -> None:
        """Read and answer until stopped."""
        pending = bytearray()
        while not self._stop_event.is_set():
            if self.stall_after is not None and self.answered >= self.stall_after:
                self._stop_event.wait(0.05)
                continue
            if not select.select([self.pair.master], [], [], 0.05)[0]:
                self.on_idle()
                continue
            try:
                chunk = os.read(self.pair.master, 65536)
            except OSError:
                return
            with self._lock:
                self.received.extend(chunk)
            self.on_data(chunk)
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

    def on_idle(self) -> None:
        """Called when nothing arrived for a moment (subclasses close a job)."""

    def data(self) -> bytes:
        """Everything received so far."""
        with self._lock:
            return bytes(self.received)

    def stop(self) -> None:
        """Stop the thread."""
        self._stop_event.set()
        self.join(2)


RASTER = b"\x1dv0"  # ESC/POS GS v 0 m xL xH yL yH: a raster bit image, x bytes per row, y rows


@dataclass(frozen=True)
class RasterBlock:
    """One ``GS v 0`` block: its header values and the image it draws (black = printed dots)."""

    mode: int
    width_bytes: int
    rows: int
    image: Image.Image


def raster_blocks(job: bytes) -> list[RasterBlock]:
    """Every raster block of a job in order; a truncated block raises ValueError."""
    out: list[RasterBlock] = []
    i = job.find(RASTER)
    while i >= 0:
        if i + 8 > len(job):
            raise ValueError("a raster header is cut short")
        mode = job[i + 3]
        xb, rows = int.from_bytes(job[i + 4:i + 6], "little"), int.from_bytes(job[i + 6:i + 8], "little")
        data = job[i + 8:i + 8 + xb * rows]
        if len(data) < xb * rows:
            raise ValueError(f"a raster block of {xb}x{rows} bytes is cut short ({len(data)} bytes)")
        # ESC/POS: a 1 bit is a printed (black) dot; PIL mode "1" stores 1 = white, so invert.
        img = Image.frombytes("1", (xb * 8, rows), bytes(b ^ 0xFF for b in data))
        out.append(RasterBlock(mode, xb, rows, img))
        i = job.find(RASTER, i + 8 + xb * rows)
    return out


def raster_images(job: bytes) -> Image.Image | None:
    """The job's raster blocks stacked top to bottom as printed (None when it holds none)."""
    blocks = raster_blocks(job)
    if not blocks:
        return None
    width = max(b.image.width for b in blocks)
    page = Image.new("1", (width, sum(b.rows for b in blocks)), 1)
    y = 0
    for b in blocks:
        page.paste(b.image, (0, y))
        y += b.rows
    return page


#: What a developer may write to the simulated printer's state file, and the status bytes it answers.
PRINTER_STATES: dict[str, dict[int, int]] = {
    "ok": PtyPrinter.OK,
    "paper-low": {1: 0x12, 2: 0x12, 4: 0x1E},
    "paper-out": {1: 0x12, 2: 0x12, 4: 0x72},
    "cover-open": {1: 0x12, 2: 0x16, 4: 0x12},
}


class SimulatedReceiptPrinter(PtyPrinter):
    """A :class:`PtyPrinter` that saves each job (bytes between pauses) as ``job-NNNN.escpos`` (+ ``.png``).

    ``state_file`` (optional) sets the printer's state while it runs: ``ok``, ``paper-low``,
    ``paper-out``, ``cover-open`` or ``off`` (no answer), e.g. ``echo paper-out > printer.state``.
    """

    def __init__(self, pair: PtyPair, folder: Path, idle_s: float = 1.0, state_file: Path | None = None) -> None:
        """Save jobs under ``folder``; a pause of ``idle_s`` ends a job."""
        super().__init__(pair)
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)
        self.idle_s = idle_s
        self.state_file = state_file
        self._state_seen: float | None = None
        self.jobs = len(list(folder.glob("job-*.escpos")))
        self._job = bytearray()
        self._last = 0.0

    def on_data(self, chunk: bytes) -> None:
        """Collect the job's bytes (status polls alone are not a job)."""
        self._job.extend(chunk)
        self._last = time.monotonic()

    def on_idle(self) -> None:
        """Follow the state file; write the job out once the printer has been idle long enough."""
        self._follow_state()
        if self._job and time.monotonic() - self._last >= self.idle_s:
            job = bytes(self._job)
            self._job.clear()
            if job.replace(b"\x10\x04\x01", b"").replace(b"\x10\x04\x02", b"").replace(b"\x10\x04\x04", b""):
                self.jobs += 1
                # whole files only: a developer's viewer (or a test) may open a job the moment it appears
                write_durable(self.folder / f"job-{self.jobs:04d}.escpos", job, 0o644)
                try:
                    image = raster_images(job)
                except ValueError:
                    image = None  # a cut-off job is kept as bytes only
                if image is not None:
                    png = io.BytesIO()
                    image.save(png, format="PNG")
                    write_durable(self.folder / f"job-{self.jobs:04d}.png", png.getvalue(), 0o644)

    def _follow_state(self) -> None:
        if self.state_file is None:
            return
        try:
            mtime = self.state_file.stat().st_mtime
        except OSError:
            mtime = None
        if mtime == self._state_seen:
            return
        self._state_seen = mtime
        word = self.state_file.read_text(encoding="ascii", errors="replace").strip() if mtime is not None else "ok"
        self.silent = word == "off"
        self.status = dict(PRINTER_STATES.get(word, PtyPrinter.OK))


class SimulatedQrReader(threading.Thread):
    """Forward each line written to the FIFO ``inbox`` to the reader's tty, CR LF terminated."""

    def __init__(self, pair: PtyPair, inbox: Path) -> None:
        """Create the FIFO (replacing a stale file); call :meth:`start`."""
        super().__init__(daemon=True, name="sim-qr-reader")
        self.pair = pair
        self.inbox = inbox
        inbox.parent.mkdir(parents=True, exist_ok=True)
        if inbox.exists() and not stat.S_ISFIFO(inbox.stat().st_mode):
            inbox.unlink()
        if not inbox.exists():
            os.mkfifo(inbox, 0o600)
        self.sent = 0
        self._stop_event = threading.Event()

    def run(self) -> None:
        """Read the FIFO (kept open read-write so writers never block) until stopped."""
        fd = os.open(self.inbox, os.O_RDWR | os.O_NONBLOCK)
        pending = bytearray()
        try:
            while not self._stop_event.is_set():
                if not select.select([fd], [], [], 0.2)[0]:
                    continue
                try:
                    chunk = os.read(fd, 4096)
                except BlockingIOError:
                    continue
                pending.extend(chunk)
                while b"\n" in pending:
                    line, _, rest = bytes(pending).partition(b"\n")
                    pending = bytearray(rest)
                    line = line.rstrip(b"\r")
                    if line:
                        self.pair.write(line + b"\r\n")
                        self.sent += 1
        finally:
            os.close(fd)

    def stop(self) -> None:
        """Stop the thread."""
        self._stop_event.set()
        self.join(2)
