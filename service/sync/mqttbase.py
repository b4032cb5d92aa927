"""The one MQTT 5 connection base (paho-mqtt 2.x, mutual TLS) and the one back-off, shared by device and gateway.

Pure enough for the province gateway to import: this module imports only the standard library,
paho-mqtt and :mod:`service.domain`. The device's :class:`service.sync.link.MqttLink` and the
gateway's :class:`province_gateway.mqtt.GatewayLink` subclass :class:`MqttConnection`.

A connection never reconnects on its own: callers see :class:`LinkDown` (or a subclass) and wait
:class:`Backoff` before the next try.
"""

from __future__ import annotations

import logging
import random
import ssl
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from service.domain.errors import SyncError

log = logging.getLogger("sohoa.sync.mqtt")

MessageHandler = Callable[[mqtt.MQTTMessage], None]


class LinkDown(SyncError):
    """The MQTT connection is not (or no longer) usable."""


@dataclass(frozen=True, slots=True)
class TlsFiles:
    """CA bundle, client certificate and key for mutual TLS (``None`` = plain TCP, tests only)."""

    ca_file: Path
    cert_file: Path
    key_file: Path


@dataclass(frozen=True, slots=True)
class Will:
    """Last will: published by the broker if the link dies without a clean disconnect."""

    topic: str
    payload: bytes
    retain: bool = True


class Backoff:
    """Exponential back-off: ``initial * 2**n`` capped at ``maximum``, times a random jitter factor."""

    def __init__(self, initial: float, maximum: float, jitter: float, rng: random.Random | None = None) -> None:
        self.initial, self.maximum, self.jitter = initial, maximum, jitter
        self.failures = 0
        self._rng = rng or random.Random()

    def delay_for(self, failures: int) -> float:
        """Delay after ``failures`` consecutive failures (first failure → about ``initial``)."""
        base = min(self.maximum, self.initial * (2 ** max(0, min(failures - 1, 30))))
        return base * (1 - self.jitter * self._rng.random())

    def next_delay(self) -> float:
        """Register one more failure and return how long to wait."""
        self.failures += 1
        return self.delay_for(self.failures)

    def reset(self) -> None:
        """Back to the initial delay after a success."""
        self.failures = 0


def publish_properties(*, content_type: str | None = None, user: list[tuple[str, str]] | None = None,
                       expiry_s: int | None = None, correlation: bytes | None = None,
                       response_topic: str | None = None) -> Properties:
    """MQTT 5 PUBLISH properties from keyword arguments."""
    props = Properties(PacketTypes.PUBLISH)  # type: ignore[no-untyped-call]
    if content_type:
        props.ContentType = content_type
    if user:
        props.UserProperty = user
    if expiry_s:
        props.MessageExpiryInterval = expiry_s
    if correlation is not None:
        props.CorrelationData = correlation
    if response_topic:
        props.ResponseTopic = response_topic
    return props


def tls_context(tls: TlsFiles) -> ssl.SSLContext:
    """Client TLS context: verify the broker against ``ca_file``, present our certificate, TLS ≥ 1.2."""
    ctx = ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cafile=str(tls.ca_file))
    ctx.load_cert_chain(str(tls.cert_file), str(tls.key_file))
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    return ctx


class MqttConnection:
    """A paho MQTT 5 client with its network loop in a background thread.

    ``on_message`` is called from the paho thread. With ``guard_handler`` an exception in it is
    logged (topic kind only) instead of killing the network thread. Subclasses set
    :attr:`down_error` to the :class:`LinkDown` subclass they raise.
    """

    down_error: ClassVar[type[LinkDown]] = LinkDown

    def __init__(self, *, client_id: str, host: str, port: int, tls: TlsFiles | None,
                 on_message: MessageHandler, keepalive_s: int = 30, session_expiry_s: int = 0,
                 clean_start: bool = True, will: Will | None = None, max_inflight: int = 20,
                 manual_ack: bool = False, guard_handler: bool = True) -> None:
        self.client_id = client_id
        self._host, self._port = host, port
        self._keepalive = keepalive_s
        self._session_expiry = session_expiry_s
        self._clean_start = clean_start
        self._connected = threading.Event()
        self._lost = threading.Event()
        self._connect_rc: str | None = None
        self._user_on_message = on_message
        self._guard = guard_handler
        client = mqtt.Client(callback_api_version=CallbackAPIVersion.VERSION2, client_id=client_id,
                             protocol=mqtt.MQTTv5, manual_ack=manual_ack)
        client.max_inflight_messages_set(max_inflight)
        client.max_queued_messages_set(0)
        if tls is not None:
            client.tls_set_context(tls_context(tls))
        if will is not None:
            wprops = Properties(PacketTypes.WILLMESSAGE)  # type: ignore[no-untyped-call]
            wprops.ContentType = "application/json"
            client.will_set(will.topic, will.payload, qos=1, retain=will.retain, properties=wprops)
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        client.on_message = self._on_message
        self.client = client

    # -- paho callbacks (network thread) -------------------------------------------------
    def _on_connect(self, client: mqtt.Client, userdata: object, flags: object, reason_code: object,
                    properties: object) -> None:
        if getattr(reason_code, "is_failure", False):
            self._connect_rc = str(reason_code)
            self._lost.set()
            return
        self._connected.set()

    def _on_disconnect(self, client: mqtt.Client, userdata: object, flags: object, reason_code: object,
                       properties: object) -> None:
        self._connected.clear()
        self._lost.set()

    def _on_message(self, client: mqtt.Client, userdata: object, msg: mqtt.MQTTMessage) -> None:
        if not self._guard:
            self._user_on_message(msg)
            return
        try:
            self._user_on_message(msg)
        except Exception:  # a handler bug must never kill the network thread
            log.exception("message handler failed on topic kind %s", msg.topic.rsplit("/", 1)[-1])

    # -- API ---------------------------------------------------------------------------
    def connect(self, timeout_s: float = 10.0) -> None:
        """Connect and start the network thread; raises :attr:`down_error` on failure or timeout."""
        props = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
        props.SessionExpiryInterval = self._session_expiry
        try:
            self.client.connect(self._host, self._port, keepalive=self._keepalive,
                                clean_start=self._clean_start, properties=props)
        except (OSError, ssl.SSLError) as exc:
            raise self.down_error(
                f"cannot reach the broker at {self._host}:{self._port} ({exc.__class__.__name__})",
                remedy="check the network, the broker address and the TLS files") from exc
        self.client.loop_start()
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self._connected.is_set():
                return
            if self._lost.is_set():
                break
            time.sleep(0.02)
        self.close()
        raise self.down_error(
            f"broker refused or did not answer the connection ({self._connect_rc or 'timeout'})",
            remedy="check the certificate and the broker's ACL")

    @property
    def up(self) -> bool:
        """True while connected."""
        return self._connected.is_set() and not self._lost.is_set()

    def subscribe(self, topic: str, qos: int = 1) -> None:
        """Subscribe (a granted SUBACK does not prove delivery: the broker ACL may still filter)."""
        result, _mid = self.client.subscribe(topic, qos=qos)
        if result != mqtt.MQTT_ERR_SUCCESS:
            raise self.down_error(f"subscribe failed ({mqtt.error_string(result)})")

    def publish(self, topic: str, payload: bytes, *, qos: int = 1, retain: bool = False,
                properties: Properties | None = None) -> mqtt.MQTTMessageInfo:
        """Queue a publish; raises :attr:`down_error` if the link is down."""
        if not self.up:
            raise self.down_error("link is down")
        info = self.client.publish(topic, payload, qos=qos, retain=retain, properties=properties)
        if info.rc not in (mqtt.MQTT_ERR_SUCCESS, mqtt.MQTT_ERR_QUEUE_SIZE):
            raise self.down_error(f"publish failed ({mqtt.error_string(info.rc)})")
        return info

    def wait_published(self, info: mqtt.MQTTMessageInfo, timeout_s: float) -> None:
        """Wait for the broker's PUBACK (transport only: not delivery); :attr:`down_error` on loss/timeout."""
        deadline = time.monotonic() + timeout_s
        while not info.is_published():
            if self._lost.is_set() or time.monotonic() > deadline:
                raise self.down_error("no PUBACK from the broker (link lost or stalled)")
            info.wait_for_publish(0.05)

    def close(self) -> None:
        """Disconnect cleanly (no last will) and stop the network thread."""
        try:
            self.client.disconnect()
        except Exception:  # noqa: BLE001 - closing a dead socket must not raise
            log.debug("disconnect on a dead link")
        self.client.loop_stop()
        self._connected.clear()
        self._lost.set()
