"""The real SANE ``test`` backend for tests: a private SANE_CONFIG_DIR whose dll.conf lists ``test``.

Debian disables the test backend in /etc/sane.d; libsane reads ``SANE_CONFIG_DIR`` once, at
``sane_init``, so the folder is created once per test process and shared by every test.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from provisioning.simdevices import SANE_TEST_CONF
from provisioning.simdevices import sane_test_backend as _write_sane_conf

_DIR: Path | None = None

TEST_CONF = SANE_TEST_CONF


def sane_test_backend() -> Path:
    """Create (once) and activate the private SANE configuration; returns its folder."""
    global _DIR
    if _DIR is None:
        _DIR = _write_sane_conf(Path(tempfile.mkdtemp(prefix="sohoa-sane-")))
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
