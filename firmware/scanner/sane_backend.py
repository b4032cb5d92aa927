"""SANE scanners through python-sane: ADF, duplex, colour/grey, resolution; errors become typed faults."""

from __future__ import annotations

import ctypes
import ctypes.util
import importlib
import signal
import threading
import time
from collections.abc import Iterator
from typing import Any

import numpy as np

from firmware.config import SaneScannerConfig
from firmware.errors import (
    CoverOpen,
    DeviceBusy,
    DeviceFault,
    DeviceIOFault,
    DeviceMissing,
    FeederEmpty,
    ScannerJam,
)
from firmware.scanner.base import ScannedPage, side_of
from firmware.scanner.native_threads import task_ids, wait_quiet
from firmware.timeouts import call_with_timeout

_init_lock = threading.Lock()
_sane_module: Any = None
ADF_WORDS = ("adf", "feeder", "automatic document")
REAP_S = 5.0


def _restore_sigpipe_ignore() -> None:
    """Put SIGPIPE back to "ignored" after a SANE call.

    libsane's reader threads reset SIGPIPE to its default action; a later write to a closed
    socket anywhere in the process (MQTT, HTTP, the browser pipe) would then kill the whole
    service instead of raising EPIPE. ``signal.signal`` only works on the main thread, so the
    C library's ``signal`` is called directly (process-wide, any thread).
    """
    libc_name = ctypes.util.find_library("c")
    if libc_name is None:
        return
    libc = ctypes.CDLL(libc_name, use_errno=True)
    libc.signal.restype = ctypes.c_void_p
    libc.signal.argtypes = (ctypes.c_int, ctypes.c_void_p)
    libc.signal(int(signal.SIGPIPE), ctypes.c_void_p(1))  # 1 == SIG_IGN


def load_sane() -> Any:
    """The initialised ``sane`` module (initialised once per process)."""
    global _sane_module
    with _init_lock:
        if _sane_module is None:
            try:
                module = importlib.import_module("sane")
                module.init()
                _restore_sigpipe_ignore()
            except Exception as exc:  # noqa: BLE001 - ImportError or libsane failing to load
                raise DeviceMissing("scanner", f"SANE is not available ({exc})",
                                    remedy="install libsane1 and python-sane") from exc
            _sane_module = module
    return _sane_module


def map_sane_error(exc: Exception, pages_done: int) -> DeviceFault:
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


def _choose(options: list[str], wanted: str | None, words: tuple[str, ...]) -> str | None:
    if wanted is not None:
        return wanted if wanted in options else None
    return next((o for o in options if any(w in o.lower() for w in words)), None)


START_SETTLE_S = 0.02  # see _scan: the reader thread must be past its allocations before a cancel
READER_QUIET_S = 1.0  # the longest wait for libsane's reader thread to park or leave


class SaneScanner:
    """A SANE device; every SANE call runs under ``timeout_s`` so a hung scanner never hangs us."""

    def __init__(self, config: SaneScannerConfig) -> None:
        """Configure; nothing is opened until a scan or self-check."""
        self.config = config
        self.name = f"scanner(sane:{config.device or 'auto'})"
        self._dev: Any = None
        self._lock = threading.Lock()
        self._stuck = False

    def _call(self, fn: Any, what: str) -> Any:
        try:
            return call_with_timeout(fn, self.config.timeout_s, "scanner", what, on_timeout=self._reap)
        finally:
            _restore_sigpipe_ignore()

    def _reap(self, thread: threading.Thread) -> None:
        """A SANE call hung: cancel it (allowed from another thread) and wait a little for it to return.

        If it still does not return, the handle is abandoned rather than closed under its feet.
        """
        dev = self._dev
        if dev is not None:
            try:
                dev.cancel()
            except Exception:  # noqa: BLE001 - best effort on a device that already misbehaves
                pass
        thread.join(REAP_S)
        self._stuck = thread.is_alive()

    def _device_name(self) -> str:
        sane = load_sane()
        if self.config.device:
            return self.config.device
        devices = self._call(sane.get_devices, "listing devices")
        if not devices:
            raise DeviceMissing("scanner", "no SANE scanner found",
                                remedy="plug in and power on the scanner; check `scanimage -L`")
        return str(devices[0][0])

    def open(self) -> None:
        """Open the device (DeviceMissing if it is not there)."""
        if self._dev is not None:
            return
        sane = load_sane()
        name = self._device_name()
        try:
            self._dev = self._call(lambda: sane.open(name), f"opening {name}")
        except sane._sane.error as exc:
            raise DeviceMissing("scanner", f"cannot open SANE device {name} ({exc})",
                                remedy="check `scanimage -L` and devices.scanner.device") from exc
        self.name = f"scanner(sane:{name})"

    def close(self) -> None:
        """Close the device; safe to call twice."""
        dev, self._dev = self._dev, None
        if self._stuck:
            self._stuck = False
            return
        if dev is not None:
            try:
                self._call(dev.close, "closing")
            except DeviceFault:
                pass

    def set_option(self, name: str, value: str | int | float | bool) -> None:
        """Set a SANE option by its name (``test-picture``, ``read-return-value`` ...)."""
        self.open()
        attr = name.replace("-", "_")
        if attr not in self._dev.opt:
            raise DeviceIOFault("scanner", f"the scanner has no option {name!r}",
                                remedy="list its options with `scanimage -d DEVICE -A`; fix devices.scanner.options")
        try:
            self._call(lambda: setattr(self._dev, attr, value), f"setting {name}")
        except (AttributeError, ValueError, TypeError, load_sane()._sane.error) as exc:
            raise DeviceIOFault("scanner", f"option {name}={value!r} refused ({exc})",
                                remedy="check the option with `scanimage -d DEVICE -A`") from exc

    def _source_options(self) -> list[str]:
        opt = self._dev.opt.get("source")
        return list(opt.constraint) if opt is not None and isinstance(opt.constraint, list) else []

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
        modes = list(self._dev.opt["mode"].constraint) if "mode" in self._dev.opt else []
        want = ("color",) if color else ("gray", "grey")
        mode = next((m for m in modes if any(w in m.lower() for w in want)), None)
        if mode is None and modes:
            raise DeviceIOFault("scanner", f"no {'colour' if color else 'grey'} mode among {modes}",
                                remedy="choose another colour setting")
        if mode is not None:
            self.set_option("mode", mode)
        if "resolution" in self._dev.opt:
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
        sane = load_sane()
        self.open()
        feeder = self._prepare(duplex, dpi, color)
        actual_dpi = float(getattr(self._dev, "resolution", dpi))
        dev = self._dev

        def one() -> Any:
            # libsane's backends read in a thread they cancel asynchronously (sanei_thread): a cancel
            # that lands while that thread allocates or frees its buffer leaves the malloc arena
            # locked and freezes the process (seen with the test backend on a jam, and at the end
            # of an ADF page under load). The reader is let reach a blocking call, or leave, both
            # before a read can fail and before the next start or cancel (native_threads).
            before = task_ids()
            dev.start()
            readers = task_ids() - before
            if not readers:
                time.sleep(START_SETTLE_S)  # no /proc (or the reader is done already): the old fixed settle
            wait_quiet(readers, READER_QUIET_S)
            try:
                return dev.snap()
            finally:
                wait_quiet(readers, READER_QUIET_S)

        for position in range(self.config.max_pages if feeder else 1):
            try:
                image = self._call(one, f"scanning page {position + 1}")
            except sane._sane.error as exc:
                fault = map_sane_error(exc, position)
                self._cancel()
                if isinstance(fault, FeederEmpty) and position > 0:
                    return
                raise fault from exc
            sheet, side = side_of(position, duplex)
            arr = np.asarray(image.convert("RGB" if color else "L"))
            yield ScannedPage(index=position + 1, sheet=sheet, side=side, image=arr, dpi=actual_dpi, color=color)
        self._cancel()

    def _cancel(self) -> None:
        if self._dev is not None:
            try:
                self._call(self._dev.cancel, "cancelling")
            except DeviceFault:
                pass

    def self_check(self) -> str:
        """Open the device and report its sources."""
        self.open()
        try:
            sources = self._source_options()
            return f"{self.name} ready; sources: {', '.join(sources) or 'default'}"
        finally:
            self.close()
