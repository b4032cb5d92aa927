"""Run a command as a systemd ``Type=notify`` service with watchdog pings and back-off restarts.

``python -m provisioning.launch --name sohoa-sync -- /opt/sohoa/.venv/bin/sohoa sync run``

For commands that do not speak sd_notify themselves: the launcher reports READY once the child
is started, restarts a child that exits with an error (exponential back-off, see
:class:`~provisioning.watchdog.Supervisor`), and on SIGTERM stops the child (SIGTERM, then SIGKILL
after ``--stop-timeout``) and reports STOPPING.

The watchdog is pinged only while the service's own health check passes, not merely while the
child lives: ``--health-url`` must answer HTTP 200 (the kiosk's ``/healthz``), ``--health-file``
must hold a Unix time not yet passed (the sync worker writes the time by which it will beat
again). A check may fail for ``--health-grace`` seconds after each start (models loading).
"""

from __future__ import annotations

import argparse
import logging
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from provisioning.watchdog import Worker, WorkerGaveUp, run_service

log = logging.getLogger("sohoa.launch")


class ChildFailed(Exception):
    """The child process exited on its own."""


def url_check(url: str, timeout_s: float = 3.0) -> Callable[[], bool]:
    """A health check: ``url`` answers HTTP 200 within ``timeout_s`` (loopback URLs only)."""

    def check() -> bool:
        try:
            with urllib.request.urlopen(url, timeout=timeout_s) as resp:  # noqa: S310 - a loopback URL
                return int(resp.status) == 200
        except (urllib.error.URLError, OSError, ValueError):
            return False

    return check


def file_check(path: Path) -> Callable[[], bool]:
    """A health check: ``path`` holds a Unix time (the next beat's deadline) that has not passed."""

    def check() -> bool:
        try:
            return float(path.read_text(encoding="ascii").strip()) >= time.time()
        except (OSError, ValueError):
            return False

    return check


class HealthGate:
    """Combines a health check with a grace period after each child start."""

    def __init__(self, check: Callable[[], bool] | None, grace_s: float) -> None:
        """``check`` None means: healthy while alive."""
        self.check = check
        self.grace_s = grace_s
        self.started = time.monotonic()

    def restarted(self) -> None:
        """The child was (re)started now."""
        self.started = time.monotonic()

    def healthy(self) -> bool:
        """True within the grace period, else the check's answer."""
        if self.check is None or time.monotonic() - self.started < self.grace_s:
            return True
        return self.check()


def child_worker(argv: Sequence[str], stop_timeout_s: float = 10.0, gate: HealthGate | None = None, *,
                 env: Mapping[str, str] | None = None, cwd: Path | None = None, log: Path | None = None,
                 own_session: bool = False) -> Worker:
    """A supervisor worker that runs ``argv`` until it exits or the stop event is set.

    ``log`` appends the child's output to a file; ``own_session`` starts it in a new process session
    (the station stops every part itself, so Ctrl-C on the terminal does not hit them first).
    """

    def worker(stop: threading.Event) -> None:
        if gate is not None:
            gate.restarted()
        out = open(log, "ab") if log is not None else None  # noqa: SIM115 - closed below
        try:
            proc = subprocess.Popen(list(argv), env=dict(env) if env is not None else None, cwd=cwd,
                                    stdout=out, stderr=subprocess.STDOUT if out is not None else None,
                                    start_new_session=own_session)
        except OSError as exc:
            if out is not None:
                out.close()
            raise ChildFailed(f"cannot start {argv[0]}: {exc.strerror}") from exc
        try:
            while proc.poll() is None:
                if stop.wait(0.2):
                    break
        finally:
            if proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(stop_timeout_s)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait(5)
            if out is not None:
                out.close()
        if not stop.is_set():
            where = f" (see {log})" if log is not None else ""
            raise ChildFailed(f"{argv[0]} exited with status {proc.returncode}{where}")

    return worker


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; returns 0 after a clean stop, 1 when the child kept failing."""
    parser = argparse.ArgumentParser(prog="python -m provisioning.launch", description=__doc__)
    parser.add_argument("--name", default="sohoa", help="name used in status messages")
    parser.add_argument("--initial-backoff", type=float, default=1.0, help="first restart delay, seconds")
    parser.add_argument("--max-backoff", type=float, default=60.0, help="longest restart delay, seconds")
    parser.add_argument("--max-failures", type=int, default=10, help="give up after this many failures in a row")
    parser.add_argument("--stop-timeout", type=float, default=10.0, help="seconds between SIGTERM and SIGKILL")
    parser.add_argument("--health-url", help="ping the watchdog only while this URL answers 200")
    parser.add_argument("--health-file", type=Path,
                        help="ping the watchdog only while this file holds a Unix time not yet passed")
    parser.add_argument("--health-grace", type=float, default=120.0,
                        help="seconds after each start during which a failing health check is tolerated")
    parser.add_argument("command", nargs=argparse.REMAINDER, help="-- then the command and its arguments")
    args = parser.parse_args(argv)
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        parser.error("no command given (put it after --)")
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    check = url_check(args.health_url) if args.health_url else file_check(args.health_file) \
        if args.health_file else None
    gate = HealthGate(check, args.health_grace)
    worker = child_worker(command, args.stop_timeout, gate)
    try:
        run_service(worker, name=args.name, status=f"{args.name} running",
                    initial_backoff_s=args.initial_backoff, max_backoff_s=args.max_backoff,
                    max_failures=args.max_failures, health=gate.healthy)
    except WorkerGaveUp as exc:
        print(f"{args.name}: {exc.message}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
