"""Run a command as a systemd ``Type=notify`` service with watchdog pings and back-off restarts.

``python -m provisioning.launch --name sohoa-sync -- /opt/sohoa/.venv/bin/sohoa sync run``

For commands that do not speak sd_notify themselves: the launcher reports READY once the child
is started, pings the watchdog while the child lives, restarts a child that exits with an
error (exponential back-off, see :class:`~provisioning.watchdog.Supervisor`), and on SIGTERM
stops the child (SIGTERM, then SIGKILL after ``--stop-timeout``) and reports STOPPING.
"""

from __future__ import annotations

import argparse
import logging
import subprocess
import sys
import threading
from collections.abc import Sequence

from provisioning.watchdog import Worker, WorkerGaveUp, run_service

log = logging.getLogger("sohoa.launch")


class ChildFailed(Exception):
    """The child process exited on its own."""


def child_worker(argv: Sequence[str], stop_timeout_s: float = 10.0) -> Worker:
    """A supervisor worker that runs ``argv`` until it exits or the stop event is set."""

    def worker(stop: threading.Event) -> None:
        try:
            proc = subprocess.Popen(list(argv))
        except OSError as exc:
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
        if not stop.is_set():
            raise ChildFailed(f"{argv[0]} exited with status {proc.returncode}")

    return worker


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; returns 0 after a clean stop, 1 when the child kept failing."""
    parser = argparse.ArgumentParser(prog="python -m provisioning.launch", description=__doc__)
    parser.add_argument("--name", default="sohoa", help="name used in status messages")
    parser.add_argument("--initial-backoff", type=float, default=1.0, help="first restart delay, seconds")
    parser.add_argument("--max-backoff", type=float, default=60.0, help="longest restart delay, seconds")
    parser.add_argument("--max-failures", type=int, default=10, help="give up after this many failures in a row")
    parser.add_argument("--stop-timeout", type=float, default=10.0, help="seconds between SIGTERM and SIGKILL")
    parser.add_argument("command", nargs=argparse.REMAINDER, help="-- then the command and its arguments")
    args = parser.parse_args(argv)
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        parser.error("no command given (put it after --)")
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    worker = child_worker(command, args.stop_timeout)
    try:
        run_service(worker, name=args.name, status=f"{args.name} running",
                    initial_backoff_s=args.initial_backoff, max_backoff_s=args.max_backoff,
                    max_failures=args.max_failures)
    except WorkerGaveUp as exc:
        print(f"{args.name}: {exc.message}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
