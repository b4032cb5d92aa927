"""Loading the PKCS#11 module again with another SoftHSM configuration (the driver's re-initialise path)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.support.softhsm import SoftHsm

_SCRIPT = """
import sys
from firmware.token import ModuleLoadError, list_tokens, load_module
module, good, missing = sys.argv[1:4]
list_tokens(load_module(module, good))
try:
    load_module(module, missing)
except ModuleLoadError as exc:
    print("refused:", type(exc).__name__)
else:
    print("loaded")
print("again:", len(list_tokens(load_module(module, good))) >= 0)
"""


def test_a_missing_softhsm_config_on_reload_is_a_module_load_error_and_the_next_load_works(tmp_path: Path) -> None:
    hsm = SoftHsm(tmp_path / "hsm")
    run = subprocess.run([sys.executable, "-c", _SCRIPT, hsm.module, str(hsm.conf), str(tmp_path / "none.conf")],
                         capture_output=True, text=True, timeout=60, cwd=Path(__file__).resolve().parents[2])
    assert run.returncode == 0, run.stderr[-2000:]
    assert run.stdout.splitlines() == ["refused: ModuleLoadError", "again: True"]
