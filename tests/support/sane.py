"""The real SANE ``test`` backend for tests: a private SANE_CONFIG_DIR whose dll.conf lists ``test``.

Debian disables the test backend in /etc/sane.d; libsane reads ``SANE_CONFIG_DIR`` once, at
``sane_init``, so the folder is created once per test process and shared by every test.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

_DIR: Path | None = None

TEST_CONF = """\
number_of_devices 2
mode Color
depth 8
resolution_min 1.0
resolution_max 1200.0
resolution_quant 1.0
resolution 50.0
test-picture "Color pattern"
read-limit false
read-delay false
read-status-code "Default"
geometry_min 0.0
geometry_max 200.0
geometry_quant 1.0
tl_x 0.0
tl_y 0.0
br_x 40.0
br_y 60.0
"""


def sane_test_backend() -> Path:
    """Create (once) and activate the private SANE configuration; returns its folder."""
    global _DIR
    if _DIR is None:
        folder = Path(tempfile.mkdtemp(prefix="sohoa-sane-"))
        (folder / "dll.conf").write_text("test\n", encoding="ascii")
        (folder / "test.conf").write_text(TEST_CONF, encoding="ascii")
        _DIR = folder
    os.environ["SANE_CONFIG_DIR"] = str(_DIR)
    return _DIR


def sane_options(**overrides: str | int | float | bool) -> dict[str, str | int | float | bool]:
    """Options for a test scan: the test backend keeps option values across opens, so every test
    resets the fault-injection options to their defaults and applies ``overrides`` on top
    (keyword names use ``_`` for SANE's ``-``)."""
    base: dict[str, str | int | float | bool] = {
        "read-return-value": "Default", "read-delay": False, "read-limit": False,
        "test-picture": "Color pattern",
    }
    base.update({k.replace("_", "-"): v for k, v in overrides.items()})
    return base
