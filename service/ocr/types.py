"""Typed OCR output shared by the OCR engine, extraction and the PDF text layer."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class OcrLine:
    """One text line: NFC text, pixel box ``(x0, y0, x1, y1)`` on the page image, confidence 0–1,
    and ``flat``: its box on the page as the engine straightened it (a photographed page outlined
    and rectified), where columns and centres line up again; ``None`` where that is the image itself."""

    text: str
    box: tuple[int, int, int, int]
    confidence: float
    flat: tuple[int, int, int, int] | None = None

    @property
    def layout_box(self) -> tuple[int, int, int, int]:
        """The box to read the page's layout from: the straightened one where there is one."""
        return self.flat or self.box

    def to_json(self) -> dict[str, Any]:
        """JSON form of the ``sohoa ocr --json`` contract."""
        out: dict[str, Any] = {"text": self.text, "box": list(self.box), "confidence": round(self.confidence, 4)}
        if self.flat is not None:
            out["flat_box"] = list(self.flat)
        return out


@dataclass(frozen=True, slots=True)
class OcrPage:
    """All lines of one page in reading order; width/height are the page image's pixels,
    ``flat_size`` the straightened page's (width, height) where the lines carry ``flat`` boxes."""

    width: int
    height: int
    lines: tuple[OcrLine, ...]
    flat_size: tuple[int, int] | None = None

    @property
    def layout_width(self) -> int:
        """The width the lines' :attr:`OcrLine.layout_box` are measured in."""
        return self.flat_size[0] if self.flat_size else self.width

    def to_json(self) -> dict[str, Any]:
        """JSON form of the ``sohoa ocr --json`` contract."""
        out: dict[str, Any] = {"width": self.width, "height": self.height,
                               "lines": [ln.to_json() for ln in self.lines]}
        if self.flat_size is not None:
            out["flat_size"] = list(self.flat_size)
        return out

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> OcrPage:
        """Inverse of :meth:`to_json`."""
        lines = tuple(
            OcrLine(str(ln["text"]), _box(ln["box"]), float(ln["confidence"]),
                    _box(ln["flat_box"]) if ln.get("flat_box") is not None else None)
            for ln in data["lines"]
        )
        size = data.get("flat_size")
        if size is not None and len(size) != 2:
            raise ValueError("flat_size must be [width, height]")
        return cls(int(data["width"]), int(data["height"]), lines,
                   (int(size[0]), int(size[1])) if size is not None else None)


def _box(values: Any) -> tuple[int, int, int, int]:
    """A JSON box as four ints (a wrong length is left for the reader to refuse)."""
    return tuple(int(v) for v in values)  # type: ignore[return-value]
