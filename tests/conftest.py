"""Shared test set-up: every test gets its own SOHOA_HOME; devices are simulated."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

os.environ.setdefault("GPIOZERO_PIN_FACTORY", "mock")
os.environ.setdefault("OMP_THREAD_LIMIT", "1")

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True)
def sohoa_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A private state directory for this test (never shared with another test)."""
    home = tmp_path / "sohoa-home"
    home.mkdir()
    monkeypatch.setenv("SOHOA_HOME", str(home))
    yield home
