"""Typed error hierarchy shared by every room.

Each error carries a process exit code and a remedy telling the user what to do.
Lives in ``service.domain`` because it is pure (no I/O) and every layer may raise it.
"""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    """Process exit codes of the ``sohoa`` commands."""

    OK = 0
    INTERNAL = 1
    USAGE = 2
    INPUT = 3  # unreadable / corrupt / unsupported input file or payload
    QUALITY = 4  # input readable but below the capture rules (dpi, colour, blank)
    VALIDATION = 5  # metadata or identifier failed a rule
    CONFIG = 6
    NOT_FOUND = 7
    STORE = 8  # storage / integrity failure
    PDF = 9  # PDF assembly or PDF/A validation failure
    OCR = 10
    SIGNING = 11
    TOKEN = 12  # smart card / PKCS#11 token problem (PIN, locked, absent)
    SYNC = 13
    DEVICE = 14  # camera, scanner, serial, GPIO
    PERMISSION = 15  # role / authorisation refused


class SohoaError(Exception):
    """Base of all expected errors: a message, a remedy and an exit code."""

    exit_code: ExitCode = ExitCode.INTERNAL

    def __init__(self, message: str, *, remedy: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.remedy = remedy

    def __str__(self) -> str:
        if self.remedy:
            return f"{self.message} (remedy: {self.remedy})"
        return self.message


class InputError(SohoaError):
    """An input file or payload cannot be read or is not what it claims to be."""

    exit_code = ExitCode.INPUT


# What an image decoder (Pillow) raises on a damaged or truncated file, besides its own error
# types: a damaged TIFF tag of a later frame gives TypeError or KeyError while frames are counted.
DAMAGED_FILE_ERRORS: tuple[type[Exception], ...] = (OSError, SyntaxError, ValueError, EOFError, TypeError,
                                                    KeyError, IndexError)


class QualityError(SohoaError):
    """An input is readable but breaks a capture rule (resolution, colour, ...)."""

    exit_code = ExitCode.QUALITY


class ValidationError(SohoaError):
    """A field or identifier breaks a rule; ``field`` names which one."""

    exit_code = ExitCode.VALIDATION

    def __init__(self, field: str, message: str, *, remedy: str | None = None) -> None:
        super().__init__(f"{field}: {message}", remedy=remedy)
        self.field = field
        self.reason = message


class ConfigError(SohoaError):
    """Configuration is missing or invalid."""

    exit_code = ExitCode.CONFIG


class NotFoundError(SohoaError):
    """A named document, dossier or object does not exist."""

    exit_code = ExitCode.NOT_FOUND


class StoreError(SohoaError):
    """The store cannot complete an operation or found an integrity problem."""

    exit_code = ExitCode.STORE


class IntegrityError(StoreError):
    """Stored data does not match its recorded hash or chain."""


class PdfError(SohoaError):
    """A PDF could not be produced, or failed validation and was refused."""

    exit_code = ExitCode.PDF


class OcrError(SohoaError):
    """The OCR engine could not run (models missing, corrupted, ...)."""

    exit_code = ExitCode.OCR


class SigningError(SohoaError):
    """A signature could not be made or verified."""

    exit_code = ExitCode.SIGNING


class TokenError(SigningError):
    """The smart card / PKCS#11 token refused or disappeared."""

    exit_code = ExitCode.TOKEN


class SyncError(SohoaError):
    """Synchronisation with the province failed."""

    exit_code = ExitCode.SYNC


class DeviceError(SohoaError):
    """A hardware device (camera, scanner, reader, printer, pins) failed."""

    exit_code = ExitCode.DEVICE


class PermissionDenied(SohoaError):
    """The current role may not perform this action."""

    exit_code = ExitCode.PERMISSION
