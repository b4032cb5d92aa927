"""Helpers of the spine tests: real page images, row counts and files of a real store."""

from __future__ import annotations

import io
import sqlite3
from pathlib import Path

from PIL import Image, ImageDraw

from service.paths import get_paths

OWNER = "001099012345"  # well-formed synthetic CCCD (Hà Nội, male, 1999)
DOC_TYPE = "KQ.G15.000031"


def page_image(*, size: tuple[int, int] = (620, 877), dpi: float | None = 300, mode: str = "RGB",
               fmt: str = "JPEG", blank: bool = False, seed: int = 0) -> bytes:
    """A small synthetic page: coloured header, black 'text' bars (or nothing when blank)."""
    img = Image.new("RGB", size, (252, 252, 250))
    if not blank:
        d = ImageDraw.Draw(img)
        d.rectangle((40, 30, size[0] - 40, 60), fill=(200, 30, 30))
        for i in range(12):
            y = 90 + i * 40 + seed % 7
            d.rectangle((50, y, size[0] - 60 - (i * 13 + seed) % 150, y + 12), fill=(20, 20, 20))
    if mode != "RGB":
        img = img.convert(mode)
    buf = io.BytesIO()
    kwargs: dict[str, object] = {}
    if dpi is not None:
        kwargs["dpi"] = (dpi, dpi)
    if fmt == "JPEG":
        kwargs["quality"] = 90
    img.save(buf, fmt, **kwargs)
    return buf.getvalue()


def store_rows(home: Path) -> dict[str, int]:
    """Row counts of the spine tables (0 everywhere when no database exists yet)."""
    db = get_paths(home).database
    if not db.exists():
        return {}
    conn = sqlite3.connect(db)
    try:
        return {t: conn.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0]
                for t in ("dossiers", "documents", "pages", "fields", "outbox", "audit")}
    finally:
        conn.close()


def stored_files(home: Path) -> list[Path]:
    """Every file in the content-addressed store (temporary files included)."""
    root = get_paths(home).files
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []
