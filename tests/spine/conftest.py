"""Fixtures of the spine tests: real page images written to disk."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from .helpers import page_image


@pytest.fixture
def write_page(tmp_path: Path) -> Callable[..., Path]:
    """Write a synthetic page image to a file and return its path."""
    counter = iter(range(10_000))

    def _write(name: str | None = None, **kwargs: object) -> Path:
        data = page_image(**kwargs)  # type: ignore[arg-type]
        ext = ".png" if kwargs.get("fmt") == "PNG" else ".jpg"
        path = tmp_path / "in" / (name or f"page-{next(counter)}{ext}")
        path.parent.mkdir(exist_ok=True)
        path.write_bytes(data)
        return path

    return _write
