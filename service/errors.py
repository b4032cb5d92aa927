"""Re-export of the typed error hierarchy (defined in ``service.domain.errors``)."""

from service.domain.errors import (
    ConfigError,
    DeviceError,
    ExitCode,
    InputError,
    IntegrityError,
    NotFoundError,
    OcrError,
    PdfError,
    PermissionDenied,
    QualityError,
    SigningError,
    SohoaError,
    StoreError,
    SyncError,
    TokenError,
    ValidationError,
)

__all__ = [
    "ConfigError",
    "DeviceError",
    "ExitCode",
    "InputError",
    "IntegrityError",
    "NotFoundError",
    "OcrError",
    "PdfError",
    "PermissionDenied",
    "QualityError",
    "SigningError",
    "SohoaError",
    "StoreError",
    "SyncError",
    "TokenError",
    "ValidationError",
]
