"""Configuration of the extract stage."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field

from service.configbase import StrictModel


class ExtractConfig(StrictModel):
    """Settings for extraction and review (embedded defaults work out of the box).

    ``catalog_path``: a JSON document-type catalogue replacing the packaged one
    (``service/extract/data/document_types.json``, same format).
    ``review_threshold``: fields with a confidence below it are marked for the officer.
    ``invalid_confidence``: the confidence an extracted value that fails a domain rule is capped to.
    ``fuzzy_key_ratio``: how close (0–1, accent- and case-insensitive) an OCR'd label must be to a
    known key ("Họ và tên", "Ngày sinh" ...) to count as that key.
    ``qr_max_bytes``: QR payloads longer than this are refused.
    ``audit_personal_values``: how corrections of personal fields are written to the audit log:
    ``fingerprint`` (SHA-256 of old and new value) or ``clear``.
    """

    catalog_path: Path | None = None
    review_threshold: float = Field(default=0.85, ge=0.0, le=1.0)
    invalid_confidence: float = Field(default=0.2, ge=0.0, le=1.0)
    fuzzy_key_ratio: float = Field(default=0.8, ge=0.5, le=1.0)
    qr_max_bytes: int = Field(default=2048, ge=64, le=65536)
    audit_personal_values: Literal["fingerprint", "clear"] = "fingerprint"
