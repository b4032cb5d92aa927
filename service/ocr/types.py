"""Typed OCR output shared by the OCR engine, extraction and the PDF text layer."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class OcrLine:
    """One text line: NFC text, pixel box ``(x0, y0, x1, y1)`` on the page image, confidence 0–1."""

    text: str
    box: tuple[int, int, int, int]
    confidence: float

    def to_json(self) -> dict[str, Any]:
        """JSON form of the ``sohoa ocr --json`` contract."""
        return {"text": self.text, "box": list(self.box), "confidence": round(self.confidence, 4)}


@dataclass(frozen=True, slots=True)
class OcrPage:
    """All lines of one page in reading order; width/height are the page image's pixels."""

    width: int
    height: int
    lines: tuple[OcrLine, ...]

    def to_json(self) -> dict[str, Any]:
        """JSON form of the ``sohoa ocr --json`` contract."""
        return {"width": self.width, "height": self.height, "lines": [ln.to_json() for ln in self.lines]}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> OcrPage:
        """Inverse of :meth:`to_json`."""
        lines = tuple(
            OcrLine(str(ln["text"]), tuple(int(v) for v in ln["box"]), float(ln["confidence"]))  # type: ignore[arg-type]
            for ln in data["lines"]
        )
        return cls(int(data["width"]), int(data["height"]), lines)
