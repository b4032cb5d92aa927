"""Typed output of the extract stage: the document type, the Art. 9 fields, and review flags."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from service.domain.fields import ART9_FIELDS, FieldValue, Metadata


@dataclass(frozen=True, slots=True)
class DocumentType:
    """The recognised document type: catalogue code, name and how sure the extractor is (0–1)."""

    code: str
    name: str
    confidence: float

    def to_json(self) -> dict[str, Any]:
        """``{"code", "name", "confidence"}``."""
        return {"code": self.code, "name": self.name, "confidence": round(self.confidence, 4)}


UNKNOWN_TYPE = DocumentType("", "", 0.0)


@dataclass(frozen=True, slots=True)
class Flag:
    """Why a field needs the officer: ``kind`` is ``invalid``, ``low_confidence`` or ``missing``.

    ``kind`` is safe to log; ``message`` may quote the value and is shown only to the officer.
    """

    field: str
    kind: str
    message: str

    def to_json(self) -> dict[str, str]:
        """``{"field", "kind", "message"}``."""
        return {"field": self.field, "kind": self.kind, "message": self.message}


@dataclass(frozen=True, slots=True)
class Extraction:
    """What extraction found in one document: type, Art. 9 metadata and flags for review."""

    document_type: DocumentType
    metadata: Metadata
    flags: tuple[Flag, ...] = field(default=())

    def to_json(self) -> dict[str, Any]:
        """The ``sohoa extract --json`` contract: ``{"document_type": {...}, "fields": {...}}``.

        Each field is ``{"value", "confidence", "source"}`` or null; ``extra`` is a mapping.
        """
        fields_json = self.metadata.to_json()["fields"]
        return {"document_type": self.document_type.to_json(), "fields": fields_json}

    def review_json(self) -> list[dict[str, str]]:
        """The flags as JSON (for the officer's review screen)."""
        return [f.to_json() for f in self.flags]

    def field_names(self) -> list[str]:
        """Names of the fields that have a value (Art. 9 order, then extra keys sorted)."""
        return [n for n in (*ART9_FIELDS, *sorted(self.metadata.extra)) if self.metadata.get(n) is not None]

    def get(self, name: str) -> FieldValue | None:
        """One field (Art. 9 name or extra key)."""
        return self.metadata.get(name)

    def flagged(self, name: str) -> list[Flag]:
        """The flags raised on ``name``."""
        return [f for f in self.flags if f.field == name]

    def with_flags(self, flags: list[Flag]) -> Extraction:
        """A copy with ``flags`` instead of the current ones."""
        return replace(self, flags=tuple(flags))
