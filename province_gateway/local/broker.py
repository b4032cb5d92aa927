"""A private Mosquitto 2 broker of the local province: DEVELOPMENT CA, mutual TLS, dynamic-security
roles (see :mod:`.dynsec`), client id = certificate identity, persistence.

Started on a free (or given) 127.0.0.1 port with a private config in its own folder. Run as root,
Mosquitto drops to user ``mosquitto``, so the folder is chowned to it.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import json
import os
import pwd
import queue
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from province_gateway.mqtt import GatewayLink, GatewayTls, ack_properties

from . import dynsec

MOSQUITTO = shutil.which("mosquitto") or "/usr/sbin/mosquitto"


def free_port() -> int:
    """A currently free TCP port on 127.0.0.1."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_port(port: int, timeout: float = 15.0) -> None:
    """Wait until something accepts TCP connections on 127.0.0.1:port."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise TimeoutError(f"nothing listens on 127.0.0.1:{port}")


@dataclass(frozen=True)
class Identity:
    """A client certificate and key (CN = broker user name)."""

    name: str
    cert: Path
    key: Path


def _write_key(key: ec.EllipticCurvePrivateKey, path: Path) -> None:
    path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                       serialization.NoEncryption()))


class LabPki:
    """A province CA that issues the broker's server certificate and client certificates.

    In a temporary folder (tests) it is new each time; in a kept folder (``make run``) the CA key and
    certificate are written there and loaded again, so device and gateway certificates stay valid.
    Every name carries DEVELOPMENT: this CA is never a production trust root.
    """

    def __init__(self, folder: Path, *, days: int = 2, ca_name: str = "sohoa DEVELOPMENT province CA") -> None:
        self.folder = folder
        self.days = days
        folder.mkdir(parents=True, exist_ok=True)
        self.ca_file = folder / "ca.pem"
        ca_key_file = folder / "ca.key"
        if self.ca_file.exists() and ca_key_file.exists():
            loaded = serialization.load_pem_private_key(ca_key_file.read_bytes(), password=None)
            assert isinstance(loaded, ec.EllipticCurvePrivateKey)
            self.ca_key = loaded
            self.ca_cert = x509.load_pem_x509_certificate(self.ca_file.read_bytes())
        else:
            self.ca_key = ec.generate_private_key(ec.SECP256R1())
            name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, ca_name)])
            now = dt.datetime.now(dt.UTC)
            self.ca_cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
                            .public_key(self.ca_key.public_key()).serial_number(x509.random_serial_number())
                            .not_valid_before(now - dt.timedelta(minutes=5))
                            .not_valid_after(now + dt.timedelta(days=days))
                            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
                            .sign(self.ca_key, hashes.SHA256()))
            _write_key(self.ca_key, ca_key_file)
            os.chmod(ca_key_file, 0o600)
            self.ca_file.write_bytes(self.ca_cert.public_bytes(serialization.Encoding.PEM))
        self.server = self.issue("localhost", server=True)

    def issue(self, cn: str, *, server: bool = False) -> Identity:
        """Issue a certificate and key with common name ``cn`` (server: SAN 127.0.0.1 + localhost)."""
        key = ec.generate_private_key(ec.SECP256R1())
        cert = self._certificate(cn, key.public_key(), server=server)
        cert_path, key_path = self.folder / f"{cn}.crt", self.folder / f"{cn}.key"
        cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        _write_key(key, key_path)
        os.chmod(key_path, 0o640)
        return Identity(cn, cert_path, key_path)

    def sign_csr(self, csr_pem: bytes) -> bytes:
        """Sign a device's CSR (its common name becomes the broker identity); returns the PEM certificate."""
        csr = x509.load_pem_x509_csr(csr_pem)
        if not csr.is_signature_valid:
            raise ValueError("the CSR's signature does not verify")
        cns = csr.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
        if len(cns) != 1:
            raise ValueError("the CSR must carry exactly one common name")
        return self._certificate(str(cns[0].value), csr.public_key(), server=False).public_bytes(
            serialization.Encoding.PEM)

    def _certificate(self, cn: str, public_key: object, *, server: bool) -> x509.Certificate:
        now = dt.datetime.now(dt.UTC)
        builder = (x509.CertificateBuilder()
                   .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)]))
                   .issuer_name(self.ca_cert.subject).public_key(public_key)  # type: ignore[arg-type]
                   .serial_number(x509.random_serial_number())
                   .not_valid_before(now - dt.timedelta(minutes=5))
                   .not_valid_after(min(now + dt.timedelta(days=self.days), self.ca_cert.not_valid_after_utc))
                   .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True))
        if server:
            builder = builder.add_extension(x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
            builder = builder.add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        else:
            builder = builder.add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
        return builder.sign(self.ca_key, hashes.SHA256())


class Broker:
    """One Mosquitto process; :meth:`kill` (SIGKILL) and :meth:`start` again keep the port and data.

    Its registry of identities is the dynamic-security file in its folder: ``gateway_user`` and
    ``gateways`` get the gateway role; devices are added by :meth:`enrol` (through
    :func:`province_gateway.local.enrol.enrol_device`), removed by :meth:`revoke`.
    """

    def __init__(self, pki: LabPki, *, gateway_user: str = "gateway-70", max_packet_size: int = 2 * 1024 * 1024,
                 port: int | None = None, folder: Path | None = None, gateways: tuple[str, ...] = (),
                 group: str = "gw") -> None:
        self.pki = pki
        self.port = port or free_port()
        self.keep = folder is not None
        self.dir = folder if folder is not None else Path(tempfile.mkdtemp(prefix="sohoa-mosq-"))
        (self.dir / "data").mkdir(parents=True, exist_ok=True)
        for f in (pki.ca_file, pki.server.cert, pki.server.key):
            shutil.copy(f, self.dir / f.name)
        self.admin = pki.issue(dynsec.ADMIN_USER)
        self.dynsec_file = self.dir / "dynamic-security.json"
        wanted = [gateway_user, *gateways]
        if not self.dynsec_file.exists():
            self.dynsec_file.write_text(json.dumps(dynsec.initial_config(wanted, group), indent=1))
        else:  # a kept folder: enrolled devices stay; add gateway identities it lacks
            known = {c["username"] for c in json.loads(self.dynsec_file.read_text())["clients"]}
            for g in wanted:
                if g not in known:
                    dynsec.apply_offline(self.dynsec_file, dynsec.commands_add_gateway(g))
        lines = [
            "per_listener_settings false", "persistence true", f"persistence_location {self.dir}/data/",
            "autosave_interval 1", f"log_dest file {self.dir}/mosquitto.log",
            "log_type error", "log_type warning", "log_type notice", "log_type information",
            "allow_anonymous false", f"plugin {dynsec.plugin_path()}",
            f"plugin_opt_config_file {self.dynsec_file}", f"max_packet_size {max_packet_size}",
            "max_queued_messages 100000", "max_inflight_messages 100", "set_tcp_nodelay true",
            f"listener {self.port} 127.0.0.1", f"cafile {self.dir}/{pki.ca_file.name}",
            f"certfile {self.dir}/{pki.server.cert.name}", f"keyfile {self.dir}/{pki.server.key.name}",
            "require_certificate true", "use_identity_as_username true", "use_username_as_clientid true",
            "tls_version tlsv1.2",
        ]
        if os.geteuid() == 0:
            lines.append("user mosquitto")
        (self.dir / "mosquitto.conf").write_text("\n".join(lines) + "\n")
        self._chown()
        self.proc: subprocess.Popen[bytes] | None = None
        self.kills = 0

    def _chown(self) -> None:
        if os.geteuid() == 0:
            pw = pwd.getpwnam("mosquitto")
            for path in [self.dir, *self.dir.rglob("*")]:
                os.chown(path, pw.pw_uid, pw.pw_gid)

    # -- registry (dynamic security) ------------------------------------------------------
    def control(self, commands: list[dict[str, Any]]) -> None:
        """Apply dynsec commands: live through ``$CONTROL`` when running, to the file when stopped."""
        if not self.running():
            dynsec.apply_offline(self.dynsec_file, commands)
            self._chown()
            return
        answers: queue.Queue[bytes] = queue.Queue()
        link = GatewayLink(client_id=dynsec.ADMIN_USER, host="127.0.0.1", port=self.port,
                           tls=GatewayTls(self.pki.ca_file, self.admin.cert, self.admin.key),
                           on_message=lambda m: answers.put(bytes(m.payload)), session_expiry_s=0)
        subscribed = threading.Event()
        link.client.on_subscribe = lambda *_args: subscribed.set()
        try:
            link.connect_subscribed(dynsec.RESPONSE_TOPIC)
            subscribed.wait(10)  # responses go to the subscription: have it before the command
            link.publish(dynsec.CONTROL_TOPIC, json.dumps({"commands": commands}).encode(),
                         properties=ack_properties(None, 60, "application/json"))
            try:
                reply = json.loads(answers.get(timeout=10))
            except queue.Empty as exc:
                raise RuntimeError("the broker did not answer the dynamic-security command") from exc
        finally:
            link.close()
        for cmd, res in zip(commands, reply.get("responses", []), strict=False):
            if res.get("error") and not cmd["command"].startswith("delete"):
                raise RuntimeError(f"dynsec {cmd['command']} failed: {res['error']}")

    def enrol(self, device: str, province: str) -> None:
        """Register a device identity bound to its province (kicks a live session of the same name)."""
        self.control(dynsec.commands_enrol_device(device, province))

    def add_gateway(self, name: str) -> None:
        """Register one more gateway identity (each replica needs its own: client id = identity)."""
        self.control(dynsec.commands_add_gateway(name))

    def revoke(self, device: str) -> None:
        """Remove a device (a stolen box): its session is kicked and, unenrolled, it may do nothing.

        (``disableClient`` only blocks password log-ins; a certificate client must be deleted.)
        """
        self.control([{"command": "deleteClient", "username": device},
                      {"command": "deleteRole", "rolename": dynsec.device_role_name(device)}])

    def start(self) -> Broker:
        """Start (or restart) the broker and wait for its port."""
        self.proc = subprocess.Popen([MOSQUITTO, "-c", str(self.dir / "mosquitto.conf")],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        try:
            wait_port(self.port)
        except TimeoutError as exc:
            raise RuntimeError(f"mosquitto did not start: {self.log_tail()}") from exc
        return self

    def kill(self) -> None:
        """SIGKILL the broker (no clean shutdown, no final persistence save)."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)
            self.kills += 1

    def stop(self) -> None:
        """Terminate the broker and remove its folder (a kept folder stays)."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        if not self.keep:
            shutil.rmtree(self.dir, ignore_errors=True)

    def running(self) -> bool:
        """Whether the broker process is alive."""
        return self.proc is not None and self.proc.poll() is None

    def log_tail(self, n: int = 30) -> str:
        """Last lines of the broker log."""
        try:
            return "\n".join((self.dir / "mosquitto.log").read_text(errors="replace").splitlines()[-n:])
        except OSError:
            return "(no log)"
