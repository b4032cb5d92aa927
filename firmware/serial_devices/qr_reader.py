"""A QR/barcode reader in serial mode: each scan arrives as one line (CR and/or LF terminated).

Reads are bounded: :meth:`QrReader.read_code` returns ``None`` when nobody scanned within the
timeout, and raises :class:`~firmware.errors.BadDeviceInput` for an oversized, unfinished,
non-UTF-8 or control-character line (the rest of a bad line is discarded, never mis-read as a code).
"""

from __future__ import annotations

import time
from typing import Any

import serial

from firmware.config import SerialQrReaderConfig
from firmware.errors import BadDeviceInput, DeviceIOFault, DeviceMissing

POLL_S = 0.05
EOL = (b"\r", b"\n")


class QrReader:
    """One serial QR reader; not thread-safe (one consumer reads it)."""

    def __init__(self, config: SerialQrReaderConfig) -> None:
        """Configure; the port is opened by :meth:`open` (or the first read)."""
        self.config = config
        self.name = f"qr-reader({config.port})"
        self._port: Any = None
        self._buf = bytearray()
        self._line_started: float | None = None
        self._discarding = False

    def open(self) -> None:
        """Open the serial port (DeviceMissing when it does not exist or cannot be opened)."""
        if self._port is not None:
            return
        try:
            self._port = serial.Serial(self.config.port, self.config.baudrate, timeout=POLL_S)
        except (serial.SerialException, OSError, ValueError) as exc:
            raise DeviceMissing("qr-reader", f"cannot open {self.config.port} ({exc})",
                                remedy="plug in the QR reader (serial/USB-CDC mode) or fix devices.qr_reader.port",
                                ) from exc

    def close(self) -> None:
        """Close the port; safe to call twice."""
        port, self._port = self._port, None
        self._buf.clear()
        self._line_started = None
        self._discarding = False
        if port is not None:
            port.close()

    def _fill(self) -> bytes:
        try:
            return bytes(self._port.read(max(1, min(self._port.in_waiting, 4096))))
        except (serial.SerialException, OSError) as exc:
            self.close()
            raise DeviceIOFault("qr-reader", f"reading {self.config.port} failed ({exc})",
                                remedy="replug the QR reader") from exc

    def read_code(self, timeout_s: float | None = None) -> str | None:
        """The next scanned code, or None if nothing was scanned within ``timeout_s``."""
        self.open()
        deadline = time.monotonic() + (self.config.timeout_s if timeout_s is None else timeout_s)
        while True:
            line = self._take_line()
            if line is not None:
                return line
            now = time.monotonic()
            if self._line_started is not None and now - self._line_started > self.config.timeout_s:
                self._buf.clear()
                self._line_started = None
                raise BadDeviceInput("qr-reader", "a code started but never ended (no line terminator)",
                                     remedy="set the reader to send CR or LF after each code; scan again")
            if now >= deadline:
                return None
            chunk = self._fill()
            if chunk:
                if self._line_started is None and not self._discarding:
                    self._line_started = time.monotonic()
                self._buf.extend(chunk)

    def _take_line(self) -> str | None:
        """Split one complete line off the buffer and validate it."""
        while True:
            cut = min((i for i in (self._buf.find(b"\r"), self._buf.find(b"\n")) if i >= 0), default=-1)
            if cut < 0:
                if len(self._buf) > self.config.max_line_bytes:
                    self._buf.clear()
                    self._line_started = None
                    if not self._discarding:
                        self._discarding = True
                        raise self._too_long()
                return None
            raw = bytes(self._buf[:cut])
            del self._buf[:cut + 1]
            self._line_started = time.monotonic() if self._buf.strip(b"\r\n") else None
            if self._discarding:
                self._discarding = False
                continue
            if not raw:
                continue
            return self._validate(raw)

    def _too_long(self) -> BadDeviceInput:
        return BadDeviceInput("qr-reader", f"a code longer than {self.config.max_line_bytes} bytes was refused",
                              remedy="scan a valid code; raise devices.qr_reader.max_line_bytes if it is genuine")

    def _validate(self, raw: bytes) -> str:
        if len(raw) > self.config.max_line_bytes:
            raise self._too_long()
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise BadDeviceInput("qr-reader", f"the scanned code is not valid UTF-8 (byte {exc.start})",
                                 remedy="set the reader to UTF-8 output; scan again") from exc
        if any(ord(c) < 32 and c != "\t" or ord(c) == 127 for c in text):
            raise BadDeviceInput("qr-reader", "the scanned code contains control characters (line noise?)",
                                 remedy="check the baud rate (devices.qr_reader.baudrate) and the cable")
        return text.strip()

    def self_check(self) -> str:
        """Open the port and report it."""
        self.open()
        return f"port {self.config.port} open at {self.config.baudrate} baud"
