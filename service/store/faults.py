"""Fault-injection plug point for crash tests (the one place the hook is read).

With ``SOHOA_FAULT_DELAY_AT=<stage>[,<stage>...]`` set, :func:`fault_point` prints
``sohoa: fault-point <stage>`` to stderr and sleeps ``SOHOA_FAULT_DELAY_S`` seconds (default 60)
at that stage, so a test can SIGKILL the process exactly there. Unset, it does nothing.
"""

from __future__ import annotations

import os
import sys
import time

#: Named stages of ``sohoa digitize`` in the order they are reached.
STAGES = ("captured", "pdf_built", "files_written", "rows_inserted", "committed")


def fault_point(stage: str) -> None:
    """Pause at ``stage`` when the crash-test hook names it; a no-op otherwise."""
    wanted = os.environ.get("SOHOA_FAULT_DELAY_AT", "")
    if not wanted or stage not in wanted.split(","):
        return
    print(f"sohoa: fault-point {stage}", file=sys.stderr, flush=True)
    time.sleep(float(os.environ.get("SOHOA_FAULT_DELAY_S", "60")))
