"""Typed device faults raised by the drivers in ``firmware``.

``firmware`` never imports ``service``; the service maps every :class:`DeviceFault` to its own
``DeviceError`` (same message and remedy). Each fault names the device and says what to do.
"""

from __future__ import annotations


class DeviceFault(Exception):
    """Base of all expected device failures: which device, what happened, what to do."""

    code = "device-fault"

    def __init__(self, device: str, message: str, *, remedy: str | None = None) -> None:
        super().__init__(f"{device}: {message}")
        self.device = device
        self.message = f"{device}: {message}"
        self.remedy = remedy

    def __str__(self) -> str:
        if self.remedy:
            return f"{self.message} (remedy: {self.remedy})"
        return self.message


class DeviceMissing(DeviceFault):
    """The device is not connected, not configured, or its driver library is absent."""

    code = "missing"


class DeviceTimeout(DeviceFault):
    """The device did not answer in time."""

    code = "timeout"


class DeviceIOFault(DeviceFault):
    """The device answered with an I/O error or an unexpected state."""

    code = "io-error"


class DeviceBusy(DeviceFault):
    """The device is in use by another program."""

    code = "busy"


class BadDeviceInput(DeviceFault):
    """The device sent data that cannot be accepted (garbage, oversized, not UTF-8)."""

    code = "bad-input"


class ScannerJam(DeviceFault):
    """Paper jammed in the scanner's feeder."""

    code = "jam"


class FeederEmpty(DeviceFault):
    """The automatic document feeder holds no paper."""

    code = "feeder-empty"


class CoverOpen(DeviceFault):
    """A scanner or printer cover is open."""

    code = "cover-open"


class PaperOut(DeviceFault):
    """The receipt printer has no paper."""

    code = "paper-out"
