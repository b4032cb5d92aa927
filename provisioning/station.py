"""``sohoa station``: the whole station on one machine, as ``make run`` starts it.

Under one ``SOHOA_HOME`` it prepares and then supervises (restart with back-off, clean stop on
Ctrl-C / SIGTERM):

- a local province: the DEVELOPMENT province CA, a private Mosquitto 2 (mutual TLS, per-device
  ACL), a private PostgreSQL cluster and one ``sohoa-gateway`` replica (``province/``);
- the device: development SoftHSM tokens, the device identity enrolled at that CA, a managed
  ``config.yaml`` with sync enabled and the simulated devices;
- simulated devices through the real drivers: SANE's ``test`` backend as the scanner, gpiozero's
  ``MockFactory`` for the panel, pty pairs for the QR reader and the receipt printer;
- the sync worker (``sohoa sync run``) and the kiosk (``sohoa kiosk``).

The console says what runs where, and prints one line per document the province acknowledged.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

import yaml

from provisioning.watchdog import Supervisor, WorkerGaveUp
from service.paths import Paths

MANAGED_MARK = "# managed by `sohoa station` (development station); delete this line to keep your own edits"
GATEWAY_USER = "gateway-{province}"
STATION_SERVERS = Path("/var/lib/sohoa-station")
OFFICE_CODE = "000.00.70.H99"  # the kiosk's default unit code (kiosk.yaml unit_code)
DATABASE = "sohoa_gateway"


@dataclass(frozen=True)
class StationPorts:
    """TCP ports on 127.0.0.1 of the station's servers."""

    kiosk: int = 8080
    broker: int = 18883
    postgres: int = 15432
    province_web: int = 8090


@dataclass(frozen=True)
class StationLayout:
    """Where the station keeps the local province and the simulated devices inside ``SOHOA_HOME``."""

    paths: Paths

    @property
    def province(self) -> Path:
        """The local province's root."""
        return self.paths.home / "province"

    @property
    def province_pki(self) -> Path:
        """The DEVELOPMENT province CA and the broker / gateway certificates."""
        return self.province / "pki"

    @property
    def broker(self) -> Path:
        """Mosquitto's config, ACL, log and persistence."""
        return self.server_dir("mosquitto")

    @property
    def postgres(self) -> Path:
        """The PostgreSQL cluster."""
        return self.server_dir("postgres")

    def server_dir(self, name: str) -> Path:
        """The folder of a server that drops to its own user (PostgreSQL, Mosquitto).

        As root those users cannot pass through a home under /root or a pytest temp folder, so the
        folder lives in ``/var/lib/sohoa-station/<home key>/<name>`` and ``province/<name>`` links
        to it; otherwise it is ``province/<name>`` itself.
        """
        link = self.province / name
        if os.geteuid() != 0:
            return link
        import hashlib

        key = hashlib.sha256(str(self.paths.home.resolve()).encode()).hexdigest()[:16]
        real = STATION_SERVERS / key / name
        if not link.is_symlink() and real.exists():
            shutil.rmtree(real)  # left by an earlier home at this path (deleted by `make clean`)
        real.mkdir(parents=True, exist_ok=True, mode=0o700)
        real.parent.chmod(0o711)
        if link.is_symlink() and link.resolve() != real:
            link.unlink()
        if not link.exists():
            self.province.mkdir(parents=True, exist_ok=True, mode=0o700)
            link.symlink_to(real, target_is_directory=True)
        return real

    @property
    def gateway_files(self) -> Path:
        """The gateway's content-addressed file store."""
        return self.province / "files"

    @property
    def devices(self) -> Path:
        """Simulated devices: SANE config, printed receipts, the QR reader's input FIFO."""
        return self.paths.home / "station"

    @property
    def logs(self) -> Path:
        """One log file per supervised process."""
        return self.paths.logs / "station"


def station_config(device_id: str, province: str, broker_port: int, qr_port: str | None,
                   printer_port: str | None) -> dict[str, Any]:
    """The managed ``config.yaml`` of a development station (sync on, simulated devices)."""
    devices: dict[str, Any] = {
        "camera": {"type": "files"},
        "scanner": {"type": "sane", "device": "test:0", "options": {"mode": "Color", "resolution": 200}},
        "panel": {"pin_factory": "mock"},
    }
    if qr_port:
        devices["qr_reader"] = {"type": "serial", "port": qr_port}
    if printer_port:
        devices["printer"] = {"type": "escpos-serial", "port": printer_port}
    return {
        "identity": {"device_id": device_id, "province_code": province},
        # the audit head is signed by a key generated on the development device token (SoftHSM2)
        "store": {"checkpoint_signer": {"type": "pkcs11", "token_label": "SOHOA-DEV-DEVICE"}},
        "sync": {"enabled": True, "broker_host": "127.0.0.1", "broker_port": broker_port,
                 "backoff_initial_s": 1.0, "backoff_max_s": 15.0, "idle_poll_s": 1.0, "telemetry_interval_s": 30.0},
        "devices": devices,
    }


def write_managed_config(paths: Paths, doc: dict[str, Any]) -> bool:
    """Write ``config.yaml`` unless the user owns it (no marker line); returns whether it was written."""
    from service.durable import write_durable

    if paths.config.exists():
        text = paths.config.read_text(encoding="utf-8", errors="replace")
        if not text.startswith(MANAGED_MARK):
            return False
    body = MANAGED_MARK + "\n" + yaml.safe_dump(doc, allow_unicode=True, sort_keys=False)
    write_durable(paths.config, body.encode("utf-8"), 0o600)
    return True


def ensure_device_key(paths: Paths, device_id: str, province: str, office: str) -> bytes:
    """The box's device key and CSR (made once); returns the CSR in PEM."""
    from provisioning.identity import create_identity, read_csr

    if not (paths.pki / "device.key").exists():
        create_identity(paths, device_id, province, office)
    return read_csr(paths)


def enrol_at_local_province(paths: Paths, pki: Any, broker: Any, dsn: str | None, *, device_id: str,
                            province: str, office: str, office_name: str) -> None:
    """Enrol the box at the local province (certificate from its CSR, broker and gateway registries)
    and install the certificate with the province CA."""
    from province_gateway.local.enrol import enrol_device
    from provisioning.identity import install_certificate

    csr = ensure_device_key(paths, device_id, province, office_name)
    cert = enrol_device(pki, broker, csr, province=province, office=office, dsn=dsn)
    install_certificate(paths, device_id, cert, pki.ca_file.read_bytes())


def mask_code(code: str) -> str:
    """A result code with any run of 9+ digits (an identifier) masked but its first and last two."""
    import re

    return re.sub(r"\d{9,}", lambda m: m.group(0)[:2] + "*" * (len(m.group(0)) - 4) + m.group(0)[-2:], code)


@dataclass
class Service:
    """One supervised part of the station."""

    name: str
    worker: Callable[[threading.Event], None]
    where: str
    supervisor: Supervisor | None = None
    thread: threading.Thread | None = None
    gave_up: str | None = None


@dataclass
class Station:
    """Prepares the home, starts every part under supervision, stops them in reverse order."""

    paths: Paths
    ports: StationPorts = StationPorts()
    demo: bool = True
    out: TextIO = sys.stdout
    stop: threading.Event = field(default_factory=threading.Event)
    services: list[Service] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.layout = StationLayout(self.paths)
        self._sims: list[Any] = []
        self._env = {**os.environ, "SOHOA_HOME": str(self.paths.home), "PYTHONUNBUFFERED": "1"}

    def say(self, line: str) -> None:
        """One console line."""
        print(line, file=self.out, flush=True)

    # ------------------------------------------------------------------ preparation
    def prepare(self) -> dict[str, Any]:
        """Tokens, province CA, device enrolment, simulated devices and the managed config."""
        from province_gateway.local.broker import LabPki
        from provisioning.devtoken import ensure_dev_token
        from provisioning.simdevices import (
            PtyPair,
            SimulatedQrReader,
            SimulatedReceiptPrinter,
            sane_test_backend,
        )
        from service.config import load_config

        self.paths.ensure()
        for folder in (self.layout.province, self.layout.devices, self.layout.logs):
            folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        token = ensure_dev_token(self.paths)
        cfg = load_config(self.paths.config)
        device_id, province = cfg.identity.device_id, cfg.identity.province_code
        pki = LabPki(self.layout.province_pki, days=365)
        self.gateway = pki.issue(GATEWAY_USER.format(province=province))
        ensure_device_key(self.paths, device_id, province, cfg.identity.office_name)
        self.identity = (device_id, province, cfg.identity.office_name)
        self._env["SANE_CONFIG_DIR"] = str(sane_test_backend(self.layout.devices / "sane"))
        qr, printer = PtyPair(), PtyPair()
        self.qr_reader = SimulatedQrReader(qr, self.layout.devices / "qr-reader.in")
        self.printer = SimulatedReceiptPrinter(printer, self.layout.devices / "printed",
                                               state_file=self.layout.devices / "printer.state")
        for sim in (self.qr_reader, self.printer):
            sim.start()
        self._sims = [self.qr_reader, self.printer, qr, printer]
        managed = write_managed_config(self.paths, station_config(device_id, province, self.ports.broker,
                                                                  qr.port, printer.port))
        self.pki = pki
        self._checkpoint_key()
        return {"device_id": device_id, "province": province, "pin": token.pin, "managed_config": managed,
                "trust": token.trust_bundle, "qr_port": qr.port, "printer_port": printer.port}

    def _checkpoint_key(self) -> None:
        """The development device token and its audit checkpoint key (generated on it, then pinned)."""
        from provisioning.devtoken import ensure_dev_device_token
        from service.config import load_config
        from service.domain.errors import SohoaError
        from service.usecases.audit_key import ensure_checkpoint_key

        ensure_dev_device_token(self.paths)
        try:
            ensure_checkpoint_key(self.paths, load_config(self.paths.config), actor="station")
        except SohoaError as exc:
            self.say(f"  warning: audit checkpoint key: {exc}")

    # ------------------------------------------------------------------ services
    def _process_worker(self, name: str, argv: list[str]) -> Callable[[threading.Event], None]:
        from provisioning.launch import child_worker

        return child_worker(argv, 20.0, env=self._env, cwd=_REPO, log=self.layout.logs / f"{name}.log",
                            own_session=True)

    def _managed_worker(self, name: str, server: Any) -> Callable[[threading.Event], None]:
        def worker(stop: threading.Event) -> None:
            server.start()
            try:
                while server.running() and not stop.wait(0.5):
                    pass
            finally:
                if stop.is_set():
                    server.stop()
            if not stop.is_set():
                raise RuntimeError(f"{name} stopped")

        return worker

    def build_services(self, info: dict[str, Any]) -> None:
        """The supervised parts, in start order."""
        from province_gateway.local.broker import Broker
        from province_gateway.local.postgres import Postgres

        py, home = sys.executable, str(self.paths.home)
        self.postgres = Postgres(folder=self.layout.postgres, port=self.ports.postgres, fsync=True)
        self.broker = Broker(self.pki, gateway_user=self.gateway.name, port=self.ports.broker,
                             folder=self.layout.broker)
        dsn = f"host=127.0.0.1 port={self.ports.postgres} user=postgres dbname={DATABASE}"
        self.dsn = dsn
        web_argv = [py, "-m", "province_gateway.web", "--dsn", dsn, "--config", str(self._province_web_config()),
                    "--listen", f"127.0.0.1:{self.ports.province_web}", "--replica-id", "web-1"]
        gateway_argv = [py, "-m", "province_gateway", "--broker-port", str(self.ports.broker),
                        "--ca", str(self.pki.ca_file), "--cert", str(self.gateway.cert), "--key", str(self.gateway.key),
                        "--dsn", dsn, "--files", str(self.layout.gateway_files), "--replica-id", "gw-1",
                        "--province", info["province"], "--trust-roots", info["trust"]]
        self.services = [
            Service("postgres", self._managed_worker("postgres", self.postgres),
                    f"PostgreSQL 15 on 127.0.0.1:{self.ports.postgres} (database {DATABASE})"),
            Service("broker", self._managed_worker("broker", self.broker),
                    f"Mosquitto 2 on 127.0.0.1:{self.ports.broker} (mutual TLS, per-device ACL)"),
            Service("gateway", self._process_worker("gateway", gateway_argv),
                    "sohoa-gateway gw-1 (province " + info["province"] + ")"),
            Service("province-web", self._process_worker("province-web", web_argv),
                    f"province view http://127.0.0.1:{self.ports.province_web}/ (sohoa-province-web web-1)"),
            Service("sync", self._process_worker("sync", [py, "-m", "service", "--home", home, "sync", "run"]),
                    f"sync worker of device {info['device_id']}"),
            Service("kiosk", self._process_worker("kiosk", [py, "-m", "service", "--home", home, "kiosk",
                                                           "--host", "127.0.0.1", "--port", str(self.ports.kiosk)]),
                    f"kiosk http://127.0.0.1:{self.ports.kiosk}/"),
        ]

    def _province_web_config(self) -> Path:
        """The province view's DEVELOPMENT ``web.yaml`` (dev accounts, a session secret made once)."""
        from province_gateway.web.config import dev_config
        from service.durable import write_durable

        path = self.layout.province / "web.yaml"
        if not path.exists():
            body = yaml.safe_dump(dev_config(OFFICE_CODE), allow_unicode=True, sort_keys=False)
            write_durable(path, body.encode("utf-8"), 0o600)
        return path

    def _start(self, svc: Service) -> None:
        svc.supervisor = Supervisor(svc.worker, name=svc.name, initial_backoff_s=1.0, max_backoff_s=30.0,
                                    stable_after_s=60.0, max_failures=8)

        def run() -> None:
            assert svc.supervisor is not None
            try:
                svc.supervisor.run(self.stop)
            except WorkerGaveUp as exc:
                svc.gave_up = exc.message
                self.say(f"station: {svc.name} gave up: {exc.message}")

        svc.thread = threading.Thread(target=run, name=f"station-{svc.name}", daemon=True)
        svc.thread.start()

    def _wait_ready(self) -> None:
        """Wait (bounded) until the database, the broker and the kiosk answer."""
        import psycopg

        from province_gateway.local.broker import wait_port

        deadline = time.monotonic() + 90
        while not self.stop.is_set() and time.monotonic() < deadline:
            try:
                with psycopg.connect(self.postgres.dsn, connect_timeout=2):
                    break
            except psycopg.OperationalError:
                time.sleep(0.3)
        self.postgres.ensure_database(DATABASE)
        wait_port(self.ports.broker, timeout=60)
        device_id, province, office_name = self.identity
        enrol_at_local_province(self.paths, self.pki, self.broker, self.dsn, device_id=device_id, province=province,
                                office=OFFICE_CODE, office_name=office_name)

    def _watch_deliveries(self) -> None:
        """Print one line per newly delivered outbox row (result code masked)."""
        from service.store.store import Store

        last = 0
        with Store.open(self.paths) as store:
            rows = store.delivered_since(0, limit=1_000_000)
            last = rows[-1][0].id if rows else 0
            while not self.stop.wait(1.0):
                try:
                    for item, code, doc_type in store.delivered_since(last):
                        last = item.id
                        self.say(f"station: delivered to the province: {mask_code(code)} ({doc_type}) "
                                 f"version {item.pdf_sha256[:12]}")
                except Exception as exc:  # noqa: BLE001 - the console watcher must not end the station
                    self.say(f"station: delivery watch: {type(exc).__name__}")

    def _demo(self) -> None:
        from service.store.store import Store

        with Store.open(self.paths) as store:
            if store.list_documents(limit=1):
                return
        self.say("station: first start: digitizing the bundled sample dossier (sohoa demo)")
        result = subprocess.run([sys.executable, "-m", "service", "demo"], env=self._env, cwd=_REPO,
                                capture_output=True, text=True, timeout=600)
        if result.returncode != 0:
            self.say(f"station: sample dossier failed (exit {result.returncode}): {result.stderr.strip()[-300:]}")

    def run(self) -> int:
        """Prepare, start everything, print the map, run until stopped; returns an exit code."""
        info = self.prepare()
        self.build_services(info)
        for svc in self.services[:2]:
            self._start(svc)
        self._wait_ready()
        for svc in self.services[2:]:
            self._start(svc)
        from province_gateway.local.broker import wait_port

        wait_port(self.ports.kiosk, timeout=120)
        self._print_map(info)
        threading.Thread(target=self._watch_deliveries, name="station-deliveries", daemon=True).start()
        if self.demo:
            threading.Thread(target=self._demo, name="station-demo", daemon=True).start()
        self.say("station: ready (Ctrl-C stops everything)")
        try:
            while not self.stop.wait(1.0):
                if all(s.gave_up for s in self.services[-2:]):
                    break
        finally:
            self.shutdown()
        return 0 if not any(s.gave_up for s in self.services) else 1

    def shutdown(self) -> None:
        """Stop every part in reverse order and the simulated devices."""
        self.stop.set()
        for svc in reversed(self.services):
            if svc.thread is not None:
                svc.thread.join(40)
        for sim in self._sims:
            (sim.stop if hasattr(sim, "stop") else sim.close)()
        self.say("station: stopped")

    def _print_map(self, info: dict[str, Any]) -> None:
        lines = ["", "sohoa station — DEVELOPMENT (simulated devices, development tokens and certificates)",
                 f"  home            {self.paths.home}"]
        lines += [f"  {s.name:<15} {s.where}" for s in self.services]
        lines += [
            f"  scanner         SANE test backend (test:0), config {self.layout.devices / 'sane'}",
            "  panel           gpiozero MockFactory in the kiosk (buttons 17/27/22, LEDs 5/6/13/26)",
            f"  QR reader       {info['qr_port']}  (type a code: echo CODE > {self.layout.devices / 'qr-reader.in'})",
            f"  printer         {info['printer_port']}  (80 mm; slips saved as .escpos + .png in "
            f"{self.layout.devices / 'printed'}; echo paper-out|cover-open|off|ok > "
            f"{self.layout.devices / 'printer.state'})",
            f"  logs            {self.layout.logs}",
            "  officer card    development token, PIN " + info["pin"],
            "  accounts        kythuat/kythuat-dev (technician), giamsat/giamsat-dev (supervisor), canbo/canbo-dev",
            f"  province view   http://127.0.0.1:{self.ports.province_web}/   accounts tinh/tinh-dev (province admin), "
            f"motcua/motcua-dev (officer of {OFFICE_CODE}), kiemtoan/kiemtoan-dev (auditor)",
            f"  kiosk           http://127.0.0.1:{self.ports.kiosk}/   citizen: http://127.0.0.1:{self.ports.kiosk}/citizen/",
            "  status          SOHOA_HOME=" + str(self.paths.home) + " sohoa sync status",
            "",
        ]
        if not info["managed_config"]:
            lines.append(f"  note: {self.paths.config} is yours (no managed marker): sync/devices not rewritten")
        for line in lines:
            self.say(line)

    def status(self) -> dict[str, Any]:
        """Which parts run (for tests and the console)."""
        return {s.name: {"restarts": s.supervisor.restarts if s.supervisor else 0, "gave_up": s.gave_up}
                for s in self.services}


_REPO = Path(__file__).resolve().parents[1]


def main_station(paths: Paths, ports: StationPorts, *, demo: bool) -> int:
    """Run the station in the foreground until SIGINT / SIGTERM."""
    station = Station(paths, ports, demo=demo)
    if threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: station.stop.set())
    return station.run()


