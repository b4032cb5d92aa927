"""systemd integration for long-running services: readiness, status, watchdog pings, supervision.

- :class:`Notifier` sends ``READY=1``, ``STATUS=...``, ``WATCHDOG=1``, ``STOPPING=1`` to
  ``$NOTIFY_SOCKET``; without the variable it does nothing. (It speaks the datagram protocol
  itself: sdnotify 0.3.2 encodes as Latin-1 and silently drops Vietnamese status text.)
- :class:`WatchdogPinger` pings every ``WatchdogSec/2`` — but only while the supervised worker
  is healthy (it has beaten its heartbeat recently), so a hung worker gets the unit restarted.
- :class:`Supervisor` runs a worker callable and restarts it when it fails, with exponential
  back-off (reset once a run lasted long enough); after too many failures in a row it gives up
  with :class:`WorkerGaveUp` so systemd's ``Restart=on-failure`` takes over.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import threading
import time
from collections.abc import Callable, Mapping

from service.domain.errors import ExitCode, SohoaError

log = logging.getLogger(__name__)

Worker = Callable[[threading.Event], None]


class WorkerGaveUp(SohoaError):
    """The supervised worker failed too many times in a row."""

    exit_code = ExitCode.INTERNAL


def watchdog_interval_s(environ: Mapping[str, str] | None = None) -> float | None:
    """Half of ``$WATCHDOG_USEC`` in seconds, or None when no watchdog applies to this process."""
    env = os.environ if environ is None else environ
    usec = env.get("WATCHDOG_USEC")
    pid = env.get("WATCHDOG_PID")
    if not usec or (pid and pid.isdigit() and int(pid) != os.getpid()):
        return None
    try:
        value = int(usec)
    except ValueError:
        return None
    return value / 2 / 1_000_000 if value > 0 else None


class Notifier:
    """sd_notify messages; a no-op outside systemd (no ``$NOTIFY_SOCKET``)."""

    def __init__(self) -> None:
        """Use ``$NOTIFY_SOCKET`` if it is set (a path, or ``@name`` for an abstract socket)."""
        addr = os.environ.get("NOTIFY_SOCKET", "")
        self.enabled = bool(addr)
        self._addr = "\0" + addr[1:] if addr.startswith("@") else addr
        self._lock = threading.Lock()

    def send(self, *assignments: str) -> None:
        """Send ``KEY=value`` lines (UTF-8) as one datagram; failures are logged, never raised."""
        if not self.enabled:
            return
        payload = "\n".join(assignments).encode("utf-8")
        with self._lock:
            try:
                with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC) as sock:
                    sock.setblocking(False)  # never stall the service on a full socket queue
                    sock.sendto(payload, self._addr)
            except OSError as exc:
                log.debug("sd_notify to %s failed: %s", self._addr, exc)

    def ready(self, status: str | None = None) -> None:
        """Tell systemd start-up is complete (Type=notify)."""
        self.send("READY=1", *([f"STATUS={status}"] if status else []))

    def status(self, text: str) -> None:
        """Set the one-line status shown by ``systemctl status``."""
        self.send(f"STATUS={text}")

    def ping(self) -> None:
        """Keep-alive for ``WatchdogSec``."""
        self.send("WATCHDOG=1")

    def stopping(self) -> None:
        """Tell systemd the service is shutting down."""
        self.send("STOPPING=1")


class WatchdogPinger:
    """A daemon thread that pings every ``interval_s`` while ``healthy()`` is True."""

    def __init__(self, notifier: Notifier, interval_s: float, healthy: Callable[[], bool] | None = None) -> None:
        """Configure; call :meth:`start`."""
        self.notifier = notifier
        self.interval_s = interval_s
        self.healthy = healthy or (lambda: True)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="watchdog", daemon=True)
        self.missed = 0

    def _run(self) -> None:
        while not self._stop.wait(self.interval_s):
            if self.healthy():
                self.notifier.ping()
            else:
                self.missed += 1
                log.warning("watchdog: worker unhealthy, ping withheld (%d)", self.missed)

    def start(self) -> WatchdogPinger:
        """Start pinging; returns self."""
        self.notifier.ping()
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop pinging."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(self.interval_s + 1)


class Supervisor:
    """Run ``worker(stop_event)`` until ``stop_event`` is set, restarting it with back-off when it fails.

    A worker that returns while no stop was asked is treated as a failure too (a service loop
    must not end by itself). Workers call :meth:`beat` regularly; :meth:`healthy` turns False
    after ``stall_s`` without a beat, which withholds the watchdog ping.
    """

    def __init__(self, worker: Worker, *, name: str = "worker", notifier: Notifier | None = None,
                 initial_backoff_s: float = 1.0, max_backoff_s: float = 60.0, stable_after_s: float = 60.0,
                 max_failures: int | None = 10, stall_s: float | None = None) -> None:
        """Configure the back-off policy; nothing runs until :meth:`run`."""
        self.worker = worker
        self.name = name
        self.notifier = notifier or Notifier()
        self.initial_backoff_s = initial_backoff_s
        self.max_backoff_s = max_backoff_s
        self.stable_after_s = stable_after_s
        self.max_failures = max_failures
        self.stall_s = stall_s
        self.failures = 0
        self.restarts = 0
        self.delays: list[float] = []
        self._last_beat = time.monotonic()

    def beat(self) -> None:
        """Heartbeat from the worker: it is making progress."""
        self._last_beat = time.monotonic()

    def healthy(self) -> bool:
        """False when the worker has not beaten for ``stall_s`` seconds."""
        return self.stall_s is None or time.monotonic() - self._last_beat < self.stall_s

    def run(self, stop: threading.Event) -> int:
        """Supervise until ``stop`` is set; returns the number of restarts. Raises WorkerGaveUp."""
        backoff = self.initial_backoff_s
        consecutive = 0
        while not stop.is_set():
            started = time.monotonic()
            self.beat()
            try:
                self.worker(stop)
                if stop.is_set():
                    break
                reason = "returned unexpectedly"
            except Exception as exc:  # noqa: BLE001 - any worker failure is supervised
                reason = f"{type(exc).__name__}: {exc}"
            if time.monotonic() - started >= self.stable_after_s:
                backoff, consecutive = self.initial_backoff_s, 0
            self.failures += 1
            consecutive += 1
            if self.max_failures is not None and consecutive >= self.max_failures:
                self.notifier.status(f"{self.name} failed {consecutive} times in a row; giving up")
                raise WorkerGaveUp(f"{self.name} failed {consecutive} times in a row (last: {reason})",
                                   remedy="see the journal (`journalctl -u sohoa-kiosk`); systemd will restart "
                                          "the service")
            log.error("%s failed (%s); restarting in %.1f s", self.name, reason, backoff)
            self.notifier.status(f"{self.name} failed ({reason}); restarting in {backoff:.0f} s")
            self.delays.append(backoff)
            if stop.wait(backoff):
                break
            self.restarts += 1
            backoff = min(backoff * 2, self.max_backoff_s)
        return self.restarts


def run_service(worker: Worker, *, name: str = "sohoa", stop: threading.Event | None = None,
                status: str = "running", health: Callable[[], bool] | None = None,
                **supervisor_options: float | int | None) -> int:
    """Run ``worker`` as a systemd ``Type=notify`` service: READY, watchdog, supervision, STOPPING.

    The watchdog is pinged while the worker beats and ``health()`` (the service's own check, if
    given) passes. SIGTERM and SIGINT set the stop event (when called from the main thread).
    Returns the number of restarts.
    """
    stop = stop or threading.Event()
    notifier = Notifier()
    supervisor = Supervisor(worker, name=name, notifier=notifier, **supervisor_options)  # type: ignore[arg-type]
    if threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: stop.set())
    interval = watchdog_interval_s()
    def healthy() -> bool:
        return supervisor.healthy() and (health is None or health())

    pinger = WatchdogPinger(notifier, interval, healthy).start() if interval else None
    notifier.ready(status)
    try:
        return supervisor.run(stop)
    finally:
        if pinger is not None:
            pinger.stop()
        notifier.stopping()
