"""Shared test set-up: every test gets its own SOHOA_HOME; devices are simulated."""

from __future__ import annotations

import faulthandler
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


FREEZE_LIMIT_S = 720  # above pytest-timeout's 600 s, which cannot fire while a C call holds the GIL


@pytest.fixture(scope="session")
def _terminal_stderr(request: pytest.FixtureRequest) -> int:
    """A descriptor of the terminal's stderr that pytest's output capture does not swallow."""
    capman = request.config.pluginmanager.getplugin("capturemanager")
    try:
        fd = int(capman._global_capturing.err.targetfd_save)  # noqa: SLF001 - the saved real stderr
    except (AttributeError, TypeError):
        fd = 2
    return os.dup(fd)


@pytest.fixture(autouse=True)
def _freeze_watchdog(_terminal_stderr: int) -> Iterator[None]:
    """A test frozen in C (a deadlocked driver, GIL held) dumps every thread's stack and ends the
    run after FREEZE_LIMIT_S, instead of hanging CI until its own limit."""
    faulthandler.dump_traceback_later(FREEZE_LIMIT_S, exit=True, file=_terminal_stderr)
    yield
    faulthandler.cancel_dump_traceback_later()

