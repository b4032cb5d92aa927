"""Provisioning's errors, and the mapping of driver faults onto the service's typed errors."""

from __future__ import annotations

from firmware.errors import DeviceFault
from service.domain.errors import DeviceError, ExitCode, SohoaError


class ConfirmationRequired(SohoaError):
    """A destructive command was run without its explicit confirmation flag."""

    exit_code = ExitCode.USAGE


def to_device_error(fault: DeviceFault) -> DeviceError:
    """The service-side :class:`DeviceError` for a driver's :class:`DeviceFault` (same message and remedy)."""
    error = DeviceError(fault.message, remedy=fault.remedy)
    error.__cause__ = fault
    return error
