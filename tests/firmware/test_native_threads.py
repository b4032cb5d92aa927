"""The scanner driver's view of libsane's reader threads: a running thread is waited for, a
blocked or finished one is not (a cancel must never land on a thread inside malloc)."""

from __future__ import annotations

import threading
import time

from firmware.scanner.native_threads import state, task_ids, wait_quiet


def _thread(target: object) -> tuple[threading.Thread, int]:
    ready = threading.Event()
    ids: list[int] = []

    def run() -> None:
        ids.append(threading.get_native_id())
        ready.set()
        target()  # type: ignore[operator]

    t = threading.Thread(target=run, daemon=True)
    t.start()
    ready.wait(5)
    return t, ids[0]


def test_a_new_thread_is_seen_and_a_blocked_one_counts_as_parked() -> None:
    before = task_ids()
    release = threading.Event()
    t, tid = _thread(lambda: release.wait(10))
    assert tid in task_ids() - before
    assert wait_quiet(frozenset({tid}), 2.0)
    assert state(tid) == "S"
    release.set()
    t.join(5)
    deadline = time.monotonic() + 5  # (the kernel thread ends a moment after Python's join returns)
    while state(tid) is not None and time.monotonic() < deadline:
        time.sleep(0.01)
    assert state(tid) is None
    assert wait_quiet(frozenset({tid}), 0.0)  # gone: nothing to wait for


def test_a_running_thread_is_waited_for_until_the_limit() -> None:
    stop = time.monotonic() + 0.6

    def spin() -> None:
        while time.monotonic() < stop:
            pass

    t, tid = _thread(spin)
    started = time.monotonic()
    assert not wait_quiet(frozenset({tid}), 0.1)
    assert time.monotonic() - started >= 0.1
    t.join(5)
    assert wait_quiet(frozenset({tid}), 1.0)
