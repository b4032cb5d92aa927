"""The child process that holds libsane: one request at a time from the driver, over a socket.

libsane's backends read pages in threads they cancel asynchronously; a cancel that lands inside
``malloc``/``free`` leaves the allocator locked and freezes the process that loaded libsane, GIL
and all. Keeping libsane in this child means such a freeze stops one scan, which the driver
(``sane_backend``) sees as a timeout, kills and replaces, while the kiosk and the service go on.

Run by the driver as a script (``python -E -s sane_worker.py FD``), so it imports none of the
package; it speaks :mod:`multiprocessing.connection` messages: ``(op, args)`` in, ``(status,
value)`` out, where status is ``ok``, ``sane`` (a libsane status text), ``refused`` (a value
python-sane would not take) or ``error``.
"""

from __future__ import annotations

import importlib.util
import os
import sys
import time
from multiprocessing.connection import Connection
from pathlib import Path
from types import ModuleType
from typing import Any

START_SETTLE_S = 0.02  # see page(): the reader thread must be past its allocations before a cancel
READER_QUIET_S = 1.0  # the longest wait for libsane's reader thread to park or leave


def _sibling(name: str) -> ModuleType:
    """A module next to this file, loaded without importing the ``firmware`` package."""
    spec = importlib.util.spec_from_file_location(f"_sohoa_{name}", Path(__file__).with_name(f"{name}.py"))
    if spec is None or spec.loader is None:
        raise ImportError(name)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class Worker:
    """One libsane session: the module, the open device, and the requests it answers."""

    def __init__(self) -> None:
        """Nothing is loaded until ``init``."""
        self.sane: Any = None
        self.dev: Any = None
        self.threads = _sibling("native_threads")

    def init(self) -> str:
        """Load and initialise libsane; returns its version."""
        import sane  # noqa: PLC0415 - loaded in the child only

        self.sane = sane
        return str(sane.init())

    def devices(self) -> list[tuple[str, ...]]:
        """SANE's device list (name, vendor, model, type)."""
        return [tuple(str(x) for x in d) for d in self.sane.get_devices()]

    def open(self, name: str) -> dict[str, Any]:
        """Open device ``name``; returns :meth:`describe`."""
        self.dev = self.sane.open(name)
        return self.describe()

    def describe(self) -> dict[str, Any]:
        """The device's options (python-sane names) with their list constraints, or None."""
        return {key: (list(opt.constraint) if isinstance(opt.constraint, list) else None)
                for key, opt in self.dev.opt.items()}

    def set(self, attr: str, value: Any) -> None:
        """Set one option by its python-sane name."""
        setattr(self.dev, attr, value)

    def get(self, attr: str) -> Any:
        """One option's value, or None when it cannot be read."""
        try:
            return getattr(self.dev, attr)
        except Exception:  # noqa: BLE001 - an inactive option reads as absent
            return None

    def page(self, color: bool) -> tuple[int, int, int, bytes]:
        """Scan one page: (width, height, channels, pixels)."""
        # The reader thread is let reach a blocking call, or leave, both before a read can fail and
        # before the next start or cancel: it narrows the window in which a cancel freezes us.
        task_ids, wait_quiet = self.threads.task_ids, self.threads.wait_quiet
        before = task_ids()
        self.dev.start()
        readers = task_ids() - before
        if not readers:
            time.sleep(START_SETTLE_S)
        wait_quiet(readers, READER_QUIET_S)
        try:
            image = self.dev.snap()
        finally:
            wait_quiet(readers, READER_QUIET_S)
        image = image.convert("RGB" if color else "L")
        return image.width, image.height, len(image.getbands()), image.tobytes()

    def cancel(self) -> None:
        """Cancel the scan in progress (between pages: end the batch)."""
        self.dev.cancel()

    def close(self) -> None:
        """Close the device."""
        dev, self.dev = self.dev, None
        if dev is not None:
            dev.close()


def serve(conn: Connection) -> None:
    """Answer requests until ``close`` or the driver goes away."""
    worker = Worker()
    while True:
        try:
            op, args = conn.recv()
        except (EOFError, OSError):
            return
        try:
            if op not in ("init", "devices", "open", "describe", "set", "get", "page", "cancel", "close"):
                raise ValueError(f"unknown request {op!r}")
            reply: tuple[str, Any] = ("ok", getattr(worker, op)(*args))
        except Exception as exc:  # noqa: BLE001 - every failure goes back to the driver, typed
            sane_error = getattr(getattr(worker.sane, "_sane", None), "error", None)
            if sane_error is not None and isinstance(exc, sane_error):
                reply = ("sane", str(exc))
            elif isinstance(exc, (AttributeError, ValueError, TypeError)) and op == "set":
                reply = ("refused", str(exc))
            else:
                reply = ("error", f"{type(exc).__name__}: {exc}")
        conn.send(reply)
        if op == "close":
            return


if __name__ == "__main__":
    serve(Connection(int(sys.argv[1])))
    sys.stdout.flush()
    os._exit(0)  # skip libsane's exit handlers: a frozen reader must not hold the exit up
