"""A gateway replica: MQTT 5 shared subscription in, PostgreSQL + file store, acks out."""

from __future__ import annotations

import json
import logging
import queue
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
import psycopg

from service.domain.errors import ConfigError, SohoaError
from service.sync import protocol as p
from service.sync.mqttbase import Backoff

from .db import GatewayDb, connect
from .filestore import GatewayFileStore
from .handler import Handler, Outbound, summary
from .mqtt import BrokerDown, GatewayLink, GatewayTls, ack_properties
from .policy import Limits
from .reuse import Resolver
from .verify import SignatureChecker, SignaturePolicy, load_roots

log = logging.getLogger("sohoa.gateway")
ACK_EXPIRY_S = 7 * 86400
RECONNECT_BACKOFF = Backoff(initial=0.5, maximum=10.0, jitter=0.5)  # broker/database reconnects


@dataclass(frozen=True)
class GatewaySettings:
    """Everything a replica needs (built by the CLI)."""

    broker_host: str
    broker_port: int
    tls: GatewayTls | None
    dsn: str
    files_root: Path
    replica_id: str = "gw-1"
    group: str = "gw"
    province: str = "+"
    signatures: SignaturePolicy = SignaturePolicy.REQUIRE
    trust_roots: Path | None = None
    dev_trust_any: bool = False  # DEVELOPMENT ONLY: accept any (e.g. self-signed) signer without trust roots
    max_message_bytes: int = p.MAX_CHUNK_BYTES + 64 * 1024
    # A dead replica's share must move to the others at once: no persistent session (the device
    # resends whatever was in flight), and a short keep-alive to notice a silent death quickly.
    session_expiry_s: int = 0
    keepalive_s: int = 5
    resolvers: list[Resolver] = field(default_factory=list)
    limits: Limits = field(default_factory=Limits)


class StaticResolver:
    """A reuse source read from a JSON export (an offline mirror of a bilateral system or the portal)."""

    def __init__(self, source: p.ReuseSource, path: Path) -> None:
        self.source = source
        try:
            items = json.loads(path.read_text(encoding="utf-8"))
            self._hits = [(str(i["SoDinhDanhChuSoHuu"]),
                           p.ReuseHit.from_json({**i, "Nguon": source.value})) for i in items]
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise ConfigError(f"reuse index {path} unreadable ({exc.__class__.__name__})",
                              remedy="give a JSON list of DanhSachGiayToKetQua items with SoDinhDanhChuSoHuu") from exc

    def find(self, query: p.ReuseQuery) -> list[p.ReuseHit]:
        """The owner's hits whose result code (and number/symbol when asked) or document type match."""
        out = []
        for code, symbol in query.results:
            out += [h for owner, h in self._hits if owner == query.owner_id and h.result_code == code
                    and (symbol is None or h.number_symbol == symbol)]
        out += [h for owner, h in self._hits if owner == query.owner_id and h not in out
                and h.document_type is not None and h.document_type in query.document_types]
        return out


class GatewayReplica:
    """Runs until stopped; reconnects to PostgreSQL and the broker with back-off."""

    def __init__(self, settings: GatewaySettings) -> None:
        self.s = settings
        no_roots = settings.trust_roots is None and not settings.dev_trust_any
        if settings.signatures is not SignaturePolicy.OFF and no_roots:
            raise ConfigError("no trust roots for the signatures",
                              remedy="pass --trust-roots PEM (the signing CAs); on a development box only, "
                                     "--dev-trust-any accepts any signer")
        self.files = GatewayFileStore(settings.files_root)
        self.checker = SignatureChecker(settings.signatures, load_roots(settings.trust_roots))
        self.inbox: queue.Queue[mqtt.MQTTMessage] = queue.Queue(maxsize=2000)
        self.stop = threading.Event()
        self.ready = threading.Event()  # set while subscribed
        self.handled = 0

    def _on_message(self, msg: mqtt.MQTTMessage) -> None:
        self.inbox.put(msg, timeout=30)

    def _publish(self, link: GatewayLink, out: Outbound) -> None:
        link.publish(out.topic, out.payload, properties=ack_properties(out.correlation, ACK_EXPIRY_S, p.CT_JSON))

    def _connect(self) -> tuple[GatewayLink, Handler]:
        conn = connect(self.s.dsn)
        handler = Handler(GatewayDb(conn, self.s.replica_id), self.files, self.checker,
                          max_message_bytes=self.s.max_message_bytes, resolvers=self.s.resolvers, limits=self.s.limits)
        link = GatewayLink(client_id=self.s.replica_id, host=self.s.broker_host, port=self.s.broker_port,
                           tls=self.s.tls, on_message=self._on_message, session_expiry_s=self.s.session_expiry_s,
                           keepalive_s=self.s.keepalive_s)
        try:
            link.connect_subscribed(p.gateway_subscription(self.s.group, self.s.province))
        except BrokerDown:
            conn.close()
            raise
        return link, handler

    def run(self, max_seconds: float | None = None) -> int:
        """Serve until :attr:`stop` is set (or ``max_seconds``); returns messages handled."""
        deadline = time.monotonic() + max_seconds if max_seconds is not None else None
        failures = 0
        while not self.stop.is_set() and (deadline is None or time.monotonic() < deadline):
            link: GatewayLink | None = None
            handler: Handler | None = None
            try:
                link, handler = self._connect()
                log.info("replica %s serving %s", self.s.replica_id,
                         p.gateway_subscription(self.s.group, self.s.province))
                failures = 0
                self.ready.set()
                self._serve(link, handler, deadline)
            except (BrokerDown, psycopg.OperationalError, psycopg.InterfaceError) as exc:
                failures += 1
                delay = RECONNECT_BACKOFF.delay_for(failures)
                log.warning("replica %s: %s; retrying in %.1f s", self.s.replica_id, exc.__class__.__name__, delay)
                self.stop.wait(delay)
            finally:
                self.ready.clear()
                if link is not None:
                    link.close()
                if handler is not None:
                    log.info("replica %s counters: %s", self.s.replica_id, summary(handler.counts))
                    handler.db.conn.close()
                self._drain_inbox()
        return self.handled

    def _drain_inbox(self) -> None:
        """Drop queued messages of a closed session (unacknowledged: the broker or device resends)."""
        for _ in range(self.inbox.qsize()):
            try:
                self.inbox.get_nowait()
            except queue.Empty:
                break

    def _serve(self, link: GatewayLink, handler: Handler, deadline: float | None) -> None:
        next_sweep = time.monotonic()
        while not self.stop.is_set() and (deadline is None or time.monotonic() < deadline):
            if not link.up:
                raise BrokerDown("broker connection lost")
            if time.monotonic() >= next_sweep:
                handler.expire()
                next_sweep = time.monotonic() + self.s.limits.sweep_interval_s
            try:
                msg = self.inbox.get(timeout=0.2)
            except queue.Empty:
                continue
            props: Any = msg.properties
            corr = getattr(props, "CorrelationData", None) if props is not None else None
            user = getattr(props, "UserProperty", None) if props is not None else None
            try:
                outs = handler.handle(msg.topic, bytes(msg.payload), list(user) if user else None,
                                      bytes(corr) if corr is not None else None)
            except SohoaError as exc:  # store failures: leave unacknowledged so it is redelivered
                log.error("replica %s could not process a message: %s", self.s.replica_id, exc.message)
                raise BrokerDown("processing failed; reconnecting") from exc
            except (psycopg.OperationalError, psycopg.InterfaceError):
                raise  # database gone: reconnect with back-off, message stays unacknowledged
            except Exception as exc:  # noqa: BLE001 - a poison message must not stop the replica
                log.error("replica %s dropped an unprocessable message (%s)", self.s.replica_id,
                          exc.__class__.__name__)
                try:
                    handler.db.event("rejected", reason=f"unprocessable:{exc.__class__.__name__}")
                except psycopg.Error:
                    log.error("could not record the refusal")
                outs = []
            for out in outs:
                self._publish(link, out)
            link.ack(msg)
            self.handled += 1
