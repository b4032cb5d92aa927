"""Test-side crash plugin for ``service.hooks``: pause a real ``sohoa`` process at a named point.

Install it in the child's environment with ``SOHOA_PLUGINS=tests.support.crashpoint`` (the
repository root on ``PYTHONPATH``) and ``SOHOA_CRASH_AT=<stage>``: at that stage the process prints
``sohoa: fault-point <stage>`` to stderr and sleeps ``SOHOA_CRASH_DELAY_S`` seconds (default 60),
so the test can SIGKILL it exactly there. The stage names are the test's; :data:`STAGES` maps them
onto the hook points the product names.
"""

from __future__ import annotations

import os
import sys
import time

#: Stages of ``sohoa digitize`` in the order they are reached → the hook point that marks each.
STAGES: dict[str, str] = {
    "captured": "captured",
    "pdf_built": "pdf_built",
    "files_written": "files_written",
    "rows_inserted": "store.add_document.before_commit",
    "committed": "store.add_document.committed",
}


def env(stage: str, delay_s: float = 120.0) -> dict[str, str]:
    """Environment variables that make a child ``sohoa`` process pause at ``stage``."""
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    path = os.pathsep.join(p for p in (root, os.environ.get("PYTHONPATH", "")) if p)
    return {"SOHOA_PLUGINS": __name__, "SOHOA_CRASH_AT": stage, "SOHOA_CRASH_DELAY_S": str(delay_s),
            "PYTHONPATH": path}


def sohoa_hook(name: str) -> None:
    """Pause at the hook point of the stage named in ``SOHOA_CRASH_AT``; nothing elsewhere."""
    stage = os.environ.get("SOHOA_CRASH_AT", "")
    if not stage or STAGES.get(stage) != name:
        return
    print(f"sohoa: fault-point {stage}", file=sys.stderr, flush=True)
    time.sleep(float(os.environ.get("SOHOA_CRASH_DELAY_S", "60")))
