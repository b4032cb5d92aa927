"""sd_notify + watchdog + supervisor, checked through a real AF_UNIX datagram NOTIFY_SOCKET."""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from provisioning.watchdog import (
    Notifier,
    Supervisor,
    WatchdogPinger,
    WorkerGaveUp,
    run_service,
    watchdog_interval_s,
)


class NotifySocket:
    """The systemd side: a datagram socket that collects every message."""

    def __init__(self, path: Path) -> None:
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(str(path))
        self.sock.settimeout(0.05)
        self.messages: list[str] = []

    def drain(self, seconds: float = 0.2) -> list[str]:
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            try:
                self.messages.append(self.sock.recv(4096).decode())
            except TimeoutError:
                continue
        return self.messages

    def close(self) -> None:
        self.sock.close()


@pytest.fixture
def notify(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[NotifySocket]:
    path = tmp_path / "notify.sock"
    sock = NotifySocket(path)
    monkeypatch.setenv("NOTIFY_SOCKET", str(path))
    yield sock
    sock.close()


def test_interval_is_half_of_watchdog_usec(monkeypatch: pytest.MonkeyPatch) -> None:
    assert watchdog_interval_s({"WATCHDOG_USEC": "30000000"}) == 15.0
    assert watchdog_interval_s({"WATCHDOG_USEC": "30000000", "WATCHDOG_PID": str(os.getpid())}) == 15.0
    assert watchdog_interval_s({"WATCHDOG_USEC": "30000000", "WATCHDOG_PID": "1"}) is None  # not for us
    assert watchdog_interval_s({}) is None
    assert watchdog_interval_s({"WATCHDOG_USEC": "junk"}) is None


def test_ready_status_stopping(notify: NotifySocket) -> None:
    n = Notifier()
    n.ready("Sẵn sàng")
    n.status("scanning")
    n.stopping()
    assert notify.drain() == ["READY=1\nSTATUS=Sẵn sàng", "STATUS=scanning", "STOPPING=1"]


def test_notifier_without_socket_is_a_no_op(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NOTIFY_SOCKET", raising=False)
    n = Notifier()
    assert not n.enabled
    n.ready()


def _pings(notify: NotifySocket) -> int:
    return notify.messages.count("WATCHDOG=1")


def test_pings_stop_when_the_worker_stalls(notify: NotifySocket) -> None:
    healthy = threading.Event()
    healthy.set()
    pinger = WatchdogPinger(Notifier(), 0.05, healthy.is_set).start()
    end = time.monotonic() + 5
    while _pings(notify) < 4 and time.monotonic() < end:
        notify.drain(0.05)
    assert _pings(notify) >= 4
    healthy.clear()
    notify.drain(0.15)
    count = _pings(notify)
    notify.drain(0.4)
    pinger.stop()
    assert _pings(notify) == count  # withheld while unhealthy
    assert pinger.missed >= 3


def test_supervisor_restarts_with_exponential_backoff(notify: NotifySocket) -> None:
    stop = threading.Event()
    runs: list[float] = []

    def worker(ev: threading.Event) -> None:
        runs.append(time.monotonic())
        if len(runs) < 4:
            raise OSError("scanner vanished")
        ev.wait(5)

    sup = Supervisor(worker, name="capture", initial_backoff_s=0.05, max_backoff_s=0.15, max_failures=10)
    thread = threading.Thread(target=sup.run, args=(stop,))
    thread.start()
    deadline = time.monotonic() + 5
    while len(runs) < 4 and time.monotonic() < deadline:
        time.sleep(0.01)
    stop.set()
    thread.join(5)
    assert not thread.is_alive()
    assert sup.delays == [0.05, 0.1, 0.15]  # doubled, capped
    assert runs[1] - runs[0] >= 0.05 and runs[3] - runs[2] >= 0.15
    assert sup.restarts == 3
    status = [m for m in notify.drain() if m.startswith("STATUS=")]
    assert status[0] == "STATUS=capture failed (OSError: scanner vanished); restarting in 0 s"


def test_supervisor_gives_up_so_systemd_restarts(notify: NotifySocket) -> None:
    def worker(_: threading.Event) -> None:
        raise RuntimeError("boom")

    sup = Supervisor(worker, name="sync", initial_backoff_s=0.01, max_failures=3)
    with pytest.raises(WorkerGaveUp, match="3 times in a row"):
        sup.run(threading.Event())


def test_worker_that_returns_by_itself_is_restarted() -> None:
    calls: list[int] = []

    def worker(ev: threading.Event) -> None:
        calls.append(1)
        if len(calls) >= 3:
            ev.set()

    assert Supervisor(worker, initial_backoff_s=0.01).run(threading.Event()) == 2


def test_stall_detection() -> None:
    sup = Supervisor(lambda ev: None, stall_s=0.05)
    sup.beat()
    assert sup.healthy()
    time.sleep(0.08)
    assert not sup.healthy()
    sup.beat()
    assert sup.healthy()


def test_run_service_full_cycle(notify: NotifySocket, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WATCHDOG_USEC", "100000")  # ping every 50 ms
    stop = threading.Event()

    def worker(ev: threading.Event) -> None:
        ev.wait(10)

    result: list[int] = []
    thread = threading.Thread(target=lambda: result.append(run_service(worker, name="kiosk", stop=stop,
                                                                       status="phục vụ")))
    thread.start()
    end = time.monotonic() + 5
    while _pings(notify) < 3 and time.monotonic() < end:
        notify.drain(0.05)
    stop.set()
    thread.join(5)
    messages = notify.drain(0.2)
    assert result == [0]
    assert messages[0] == "WATCHDOG=1" and "READY=1\nSTATUS=phục vụ" in messages
    assert _pings(notify) >= 3 and messages[-1] == "STOPPING=1"


def test_abstract_notify_socket(monkeypatch: pytest.MonkeyPatch) -> None:
    name = f"sohoa-test-{os.getpid()}-{time.monotonic_ns()}"
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind("\0" + name)
    sock.settimeout(2)
    monkeypatch.setenv("NOTIFY_SOCKET", "@" + name)
    try:
        Notifier().ready()
        assert sock.recv(100) == b"READY=1"
    finally:
        sock.close()


def test_vanished_socket_does_not_break_the_service(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NOTIFY_SOCKET", str(tmp_path / "gone.sock"))
    n = Notifier()
    n.ready()
    n.ping()  # logged, not raised
