"""Bounded waits for blocking driver calls (C libraries that offer no timeout of their own)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TypeVar

from firmware.errors import DeviceTimeout

T = TypeVar("T")


def call_with_timeout(fn: Callable[[], T], timeout_s: float, device: str, what: str,
                      on_timeout: Callable[[threading.Thread], None] | None = None) -> T:
    """Run ``fn`` in a daemon thread and return its result, or raise DeviceTimeout after ``timeout_s``.

    A call that hangs inside a C driver cannot be interrupted; its thread is abandoned (daemon) so
    the caller is never blocked longer than ``timeout_s``. Exceptions from ``fn`` are re-raised.
    """
    result: list[T] = []
    error: list[BaseException] = []

    def runner() -> None:
        try:
            result.append(fn())
        except BaseException as exc:  # noqa: BLE001 - re-raised in the caller's thread
            error.append(exc)

    thread = threading.Thread(target=runner, name=f"{device}-{what}", daemon=True)
    thread.start()
    thread.join(timeout_s)
    if thread.is_alive():
        if on_timeout is not None:
            on_timeout(thread)
        raise DeviceTimeout(device, f"{what} did not finish within {timeout_s:g} s",
                            remedy="check the cable and power, then try again; restart the device if it persists")
    if error:
        raise error[0]
    return result[0]
