"""The TT 01/2023 Art. 9 minimum metadata set as typed values (pure)."""

from __future__ import annotations

from dataclasses import dataclass, field, fields, replace
from enum import StrEnum
from typing import Any


class FieldSource(StrEnum):
    """Where a field value came from."""

    OCR = "ocr"
    MANUAL = "manual"
    REUSE = "reuse"
    QR = "qr"


@dataclass(frozen=True, slots=True)
class FieldValue:
    """One extracted value with its provenance and confidence (0.0–1.0)."""

    value: str
    source: FieldSource
    confidence: float = 1.0

    def to_json(self) -> dict[str, Any]:
        """JSON form used by every ``--json`` output: value, confidence, source."""
        return {"value": self.value, "confidence": round(self.confidence, 4), "source": str(self.source)}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> FieldValue:
        """Inverse of :meth:`to_json`."""
        return cls(str(data["value"]), FieldSource(data["source"]), float(data.get("confidence", 1.0)))


# Names of the Art. 9 fields, in the order of the regulation. ``extra`` holds
# specialised-law fields (plate number, chassis number, certificate number ...).
ART9_FIELDS: tuple[str, ...] = (
    "owner_id",
    "owner_name",
    "owner_birth_date",
    "organization_name",
    "organization_founded_year",
    "document_name",
    "number_symbol",
    "issue_date",
    "issuing_agency",
    "summary",
    "valid_until",
    "validity_scope",
)


@dataclass(frozen=True, slots=True)
class Metadata:
    """Art. 9 descriptive metadata of one digitized paper.

    Dates are ISO ``YYYY-MM-DD`` strings; text is Unicode NFC.
    """

    document_type_code: str
    owner_id: FieldValue | None = None
    owner_name: FieldValue | None = None
    owner_birth_date: FieldValue | None = None
    organization_name: FieldValue | None = None
    organization_founded_year: FieldValue | None = None
    document_name: FieldValue | None = None
    number_symbol: FieldValue | None = None
    issue_date: FieldValue | None = None
    issuing_agency: FieldValue | None = None
    summary: FieldValue | None = None
    valid_until: FieldValue | None = None
    validity_scope: FieldValue | None = None
    extra: dict[str, FieldValue] = field(default_factory=dict)

    def get(self, name: str) -> FieldValue | None:
        """The named Art. 9 field (or an ``extra`` key)."""
        if name in ART9_FIELDS:
            value: FieldValue | None = getattr(self, name)
            return value
        return self.extra.get(name)

    def with_field(self, name: str, value: FieldValue | None) -> Metadata:
        """A copy with one field (Art. 9 name or extra key) replaced."""
        if name in ART9_FIELDS:
            return replace(self, **{name: value})  # type: ignore[arg-type]
        extra = dict(self.extra)
        if value is None:
            extra.pop(name, None)
        else:
            extra[name] = value
        return replace(self, extra=extra)

    def to_json(self) -> dict[str, Any]:
        """JSON form: ``{"document_type_code", "fields": {name: {...} | null, "extra": {...}}}``."""
        out: dict[str, Any] = {}
        for f in fields(self):
            if f.name in ("document_type_code", "extra"):
                continue
            v = getattr(self, f.name)
            out[f.name] = v.to_json() if v is not None else None
        out["extra"] = {k: v.to_json() for k, v in sorted(self.extra.items())}
        return {"document_type_code": self.document_type_code, "fields": out}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Metadata:
        """Inverse of :meth:`to_json`."""
        f = data.get("fields", {})
        kwargs: dict[str, Any] = {
            name: FieldValue.from_json(f[name]) if f.get(name) else None for name in ART9_FIELDS
        }
        extra = {k: FieldValue.from_json(v) for k, v in (f.get("extra") or {}).items()}
        return cls(document_type_code=str(data["document_type_code"]), extra=extra, **kwargs)
