"""SANE scanners through python-sane: ADF, duplex, colour/grey, resolution; errors become typed faults.

libsane runs in a child process (``sane_worker``), one per open device: a backend that freezes
(see that module) costs one scan, reported as a timeout, never the process that drives it.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import numpy as np

from firmware.config import SaneScannerConfig
from firmware.errors import (
    CoverOpen,
    DeviceBusy,
    DeviceFault,
    DeviceIOFault,
    DeviceMissing,
    DeviceTimeout,
    FeederEmpty,
    ScannerJam,
)
from firmware.scanner.base import ScannedPage, side_of

ADF_WORDS = ("adf", "feeder", "automatic document")
WORKER = Path(__file__).with_name("sane_worker.py")
STARTUP_S = 20.0  # the longest wait for the child to load libsane (a busy Pi, a slow SD card)
EXIT_S = 2.0  # the longest wait for the child to leave after ``close`` before it is killed


def map_sane_error(exc: Exception | str, pages_done: int) -> DeviceFault:
    """The typed fault for a python-sane error message (sane_strstatus text)."""
    text = str(exc)
    low = text.lower()
    kept = f"{pages_done} page(s) of this batch were scanned and kept"
    if "jammed" in low:
        return ScannerJam("scanner", f"paper jam in the document feeder; {kept}",
                          remedy="open the feeder, remove the jammed sheet, put it back with the sheets not "
                                 "yet scanned, and continue")
    if "out of documents" in low or "no docs" in low:
        return FeederEmpty("scanner", "the document feeder is empty",
                           remedy="load the pages face down in the feeder, first page on top")
    if "cover" in low:
        return CoverOpen("scanner", f"the scanner cover is open; {kept}", remedy="close the scanner cover")
    if "busy" in low:
        return DeviceBusy("scanner", "the scanner is in use", remedy="wait for the other scan to finish")
    if "denied" in low:
        return DeviceMissing("scanner", "access to the scanner was denied",
                             remedy="add the service user to the 'scanner' group")
    return DeviceIOFault("scanner", f"scanner error: {text}; {kept}",
                         remedy="check the cable and power; restart the scanner")


class _SaneError(Exception):
    """A libsane status reported by the child (its sane_strstatus text)."""


class _Refused(Exception):
    """A value python-sane would not take for an option."""


def _with_pages_kept(fault: DeviceTimeout | DeviceIOFault, pages_done: int) -> DeviceFault:
    """The same fault for a page of a batch, saying how many pages are kept and what to rescan."""
    message = fault.message.removeprefix("scanner: ")
    return type(fault)("scanner", f"{message}; {pages_done} page(s) of this batch were scanned and kept",
                       remedy="take the sheets not yet scanned out of the feeder, check the cable and power, "
                              "and scan them again")


def _choose(options: list[str], wanted: str | None, words: tuple[str, ...]) -> str | None:
    if wanted is not None:
        return wanted if wanted in options else None
    return next((o for o in options if any(w in o.lower() for w in words)), None)


class _Child:
    """The libsane child process and its end of the socket; every request is bounded in time."""

    def __init__(self) -> None:
        ours, theirs = socket.socketpair()
        try:
            self.proc = subprocess.Popen(
                [sys.executable, "-E", "-s", str(WORKER), str(theirs.fileno())],
                pass_fds=(theirs.fileno(),), stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL)
        except OSError as exc:
            ours.close()
            raise DeviceMissing("scanner", f"cannot start the SANE driver process ({exc})",
                                remedy="reinstall the service (make setup)") from exc
        finally:
            theirs.close()
        self.conn = Connection(ours.detach())

    def request(self, op: str, args: tuple[Any, ...], timeout_s: float, what: str) -> Any:
        """Send one request and return its value; typed errors for a libsane status, a refused value,
        a child that died (DeviceIOFault) or one that did not answer within ``timeout_s`` (killed)."""
        try:
            self.conn.send((op, args))
            answered = self.conn.poll(timeout_s)
            status, value = self.conn.recv() if answered else ("timeout", None)
        except (EOFError, OSError) as exc:
            self.kill()
            raise DeviceIOFault("scanner", f"the SANE driver process stopped while {what}",
                                remedy="check the cable and power; restart the scanner") from exc
        if status == "timeout":
            self.kill()
            raise DeviceTimeout("scanner", f"{what} did not finish within {timeout_s:g} s",
                                remedy="check the cable and power, then try again; "
                                       "restart the device if it persists")
        if status == "sane":
            raise _SaneError(value)
        if status == "refused":
            raise _Refused(value)
        if status != "ok":
            raise DeviceIOFault("scanner", f"the SANE driver failed while {what}: {value}",
                                remedy="restart the scanner; report the message if it persists")
        return value

    def close(self) -> None:
        """Let the child leave, or kill it."""
        try:
            self.proc.wait(EXIT_S)
        except subprocess.TimeoutExpired:
            self.kill()
        self.conn.close()

    def kill(self) -> None:
        """Stop the child at once (a frozen libsane cannot be asked)."""
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        self.conn.close()


class SaneScanner:
    """A SANE device; every SANE call runs under ``timeout_s`` so a hung scanner never hangs us."""

    def __init__(self, config: SaneScannerConfig) -> None:
        """Configure; nothing is opened until a scan or self-check."""
        self.config = config
        self.name = f"scanner(sane:{config.device or 'auto'})"
        self._child: _Child | None = None
        self._options: dict[str, list[Any] | None] = {}
        self._lock = threading.Lock()
        self._rpc = threading.RLock()

    def _call(self, op: str, *args: Any, what: str, timeout_s: float | None = None) -> Any:
        with self._rpc:
            child = self._child
            if child is None:
                raise DeviceIOFault("scanner", f"the scanner is not open while {what}",
                                    remedy="start the scan again")
            try:
                return child.request(op, args, self.config.timeout_s if timeout_s is None else timeout_s, what)
            except (DeviceTimeout, DeviceIOFault):
                if child.proc.poll() is not None:
                    self._child = None
                raise

    def open(self) -> None:
        """Start the driver process and open the device (DeviceMissing if it is not there)."""
        with self._rpc:
            if self._child is not None:
                return
            self._child = _Child()
            try:
                try:
                    self._call("init", what="loading SANE", timeout_s=max(STARTUP_S, self.config.timeout_s))
                except (_SaneError, DeviceIOFault) as exc:
                    raise DeviceMissing("scanner", f"SANE is not available ({exc})",
                                        remedy="install libsane1 and python-sane") from exc
                name = self.config.device or self._first_device()
                try:
                    self._options = self._call("open", name, what=f"opening {name}")
                except _SaneError as exc:
                    raise DeviceMissing("scanner", f"cannot open SANE device {name} ({exc})",
                                        remedy="check `scanimage -L` and devices.scanner.device") from exc
            except BaseException:
                self._drop()
                raise
            self.name = f"scanner(sane:{name})"

    def _first_device(self) -> str:
        try:
            devices = self._call("devices", what="listing devices")
        except _SaneError as exc:
            raise DeviceMissing("scanner", f"SANE cannot list scanners ({exc})",
                                remedy="plug in and power on the scanner; check `scanimage -L`") from exc
        if not devices:
            raise DeviceMissing("scanner", "no SANE scanner found",
                                remedy="plug in and power on the scanner; check `scanimage -L`")
        return str(devices[0][0])

    def _drop(self) -> None:
        child, self._child = self._child, None
        if child is not None:
            child.kill()

    def close(self) -> None:
        """Close the device and let its driver process go; safe to call twice."""
        with self._rpc:
            child = self._child
            if child is None:
                return
            try:
                self._call("close", what="closing")
            except (DeviceFault, _SaneError):
                pass
            self._child = None
            child.close()

    def set_option(self, name: str, value: str | int | float | bool) -> None:
        """Set a SANE option by its name (``test-picture``, ``read-return-value`` ...)."""
        self.open()
        attr = name.replace("-", "_")
        if attr not in self._options:
            raise DeviceIOFault("scanner", f"the scanner has no option {name!r}",
                                remedy="list its options with `scanimage -d DEVICE -A`; fix devices.scanner.options")
        try:
            self._call("set", attr, value, what=f"setting {name}")
        except (_Refused, _SaneError) as exc:
            raise DeviceIOFault("scanner", f"option {name}={value!r} refused ({exc})",
                                remedy="check the option with `scanimage -d DEVICE -A`") from exc

    def _source_options(self) -> list[str]:
        return [str(s) for s in self._options.get("source") or []]

    def _prepare(self, duplex: bool, dpi: int, color: bool) -> bool:
        """Set source, mode and resolution; returns True when the source is a feeder."""
        sources = self._source_options()
        if duplex:
            source = _choose(sources, self.config.duplex_source, ("duplex",))
            if source is None:
                raise DeviceIOFault("scanner", f"no duplex source among {sources or 'none'}",
                                    remedy="scan one side at a time, or set devices.scanner.duplex_source")
        else:
            source = _choose(sources, self.config.adf_source, ADF_WORDS)
        if source is not None:
            self.set_option("source", source)
        modes = [str(m) for m in self._options.get("mode") or []]
        want = ("color",) if color else ("gray", "grey")
        mode = next((m for m in modes if any(w in m.lower() for w in want)), None)
        if mode is None and modes:
            raise DeviceIOFault("scanner", f"no {'colour' if color else 'grey'} mode among {modes}",
                                remedy="choose another colour setting")
        if mode is not None:
            self.set_option("mode", mode)
        if "resolution" in self._options:
            self.set_option("resolution", dpi)
        for key, value in self.config.options.items():
            self.set_option(key, value)
        return source is not None and (duplex or any(w in source.lower() for w in ADF_WORDS))

    def scan_batch(self, duplex: bool = False, dpi: int = 300, color: bool = True) -> Iterator[ScannedPage]:
        """Scan every sheet in the feeder (or one flatbed page); see :class:`Scanner`."""
        if not self._lock.acquire(timeout=self.config.timeout_s):
            raise DeviceBusy("scanner", "another scan is running", remedy="wait for it to finish")
        try:
            yield from self._scan(duplex, dpi, color)
        finally:
            self.close()
            self._lock.release()

    def _scan(self, duplex: bool, dpi: int, color: bool) -> Iterator[ScannedPage]:
        self.open()
        feeder = self._prepare(duplex, dpi, color)
        resolution = self._call("get", "resolution", what="reading the resolution")
        actual_dpi = float(resolution) if isinstance(resolution, (int, float)) else float(dpi)
        for position in range(self.config.max_pages if feeder else 1):
            try:
                width, height, bands, pixels = self._call("page", color, what=f"scanning page {position + 1}")
            except _SaneError as exc:
                fault = map_sane_error(exc, position)
                self._cancel()
                if isinstance(fault, FeederEmpty) and position > 0:
                    return
                raise fault from exc
            except (DeviceTimeout, DeviceIOFault) as exc:
                raise _with_pages_kept(exc, position) from exc
            sheet, side = side_of(position, duplex)
            shape = (height, width, bands) if bands > 1 else (height, width)
            arr = np.frombuffer(bytearray(pixels), dtype=np.uint8).reshape(shape)
            yield ScannedPage(index=position + 1, sheet=sheet, side=side, image=arr, dpi=actual_dpi, color=color)
        self._cancel()

    def _cancel(self) -> None:
        try:
            self._call("cancel", what="cancelling")
        except (DeviceFault, _SaneError):
            pass

    def self_check(self) -> str:
        """Open the device and report its sources."""
        self.open()
        try:
            sources = self._source_options()
            return f"{self.name} ready; sources: {', '.join(sources) or 'default'}"
        finally:
            self.close()
