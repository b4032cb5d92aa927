"""Native threads of this process as the kernel sees them: which a C library started, and whether
they are still running.

libsane's backends read each page in a thread they stop with an *asynchronous* pthread cancel
(sanei_thread). A cancel that lands while that thread is inside ``malloc``/``free`` leaves the
allocator's lock held for ever and freezes the whole process, GIL and all, so no Python timeout
can fire. libsane therefore lives in a child process (``sane_worker``), which lets the reader
reach a blocking call (a full pipe) or leave before it cancels or starts the next page
(:func:`wait_quiet`): that narrows the window; the child being killable closes it.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

_TASKS = Path("/proc/self/task")
POLL_S = 0.001
QUIET_POLLS = 3  # a thread counts as parked after this many polls in a row not running


def task_ids() -> frozenset[int]:
    """Kernel thread ids of this process (empty where /proc is not available)."""
    try:
        return frozenset(int(name) for name in os.listdir(_TASKS))
    except (OSError, ValueError):
        return frozenset()


def state(tid: int) -> str | None:
    """One-letter scheduler state of thread ``tid`` ("R" running, "S" sleeping...), None once gone."""
    try:
        stat = (_TASKS / str(tid) / "stat").read_text(encoding="ascii", errors="replace")
    except OSError:
        return None
    return stat.rsplit(")", 1)[-1].split()[0] if ")" in stat else None


def wait_quiet(tids: frozenset[int], limit_s: float) -> bool:
    """Wait until every thread in ``tids`` has left or stays off the CPU (blocked in a call) for
    :data:`QUIET_POLLS` polls in a row; True when it did within ``limit_s``, False at the limit."""
    deadline = time.monotonic() + limit_s
    quiet = 0
    while True:
        states = [s for s in (state(t) for t in tids) if s is not None and s not in ("Z", "X")]
        quiet = quiet + 1 if "R" not in states else 0  # (a sleeper holds no allocator lock)
        if not states or quiet >= QUIET_POLLS:
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(POLL_S)
