"""The gateway's MQTT 5 connection (paho-mqtt 2.x, mutual TLS, manual PUBACK after processing).

Kept separate from the device's link: the gateway depends only on the pure protocol module.
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

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from service.domain.errors import SyncError

log = logging.getLogger("sohoa.gateway.mqtt")


class BrokerDown(SyncError):
    """The broker connection is not usable."""


@dataclass(frozen=True, slots=True)
class GatewayTls:
    """CA bundle, gateway certificate (its CN is its broker user) and key."""

    ca_file: Path
    cert_file: Path
    key_file: Path


def backoff_delay(failures: int, initial: float = 0.5, maximum: float = 10.0, jitter: float = 0.5) -> float:
    """Exponential back-off with jitter for reconnects."""
    base = min(maximum, initial * 2 ** max(0, min(failures - 1, 20)))
    return base * (1 - jitter * random.random())


class GatewayLink:
    """Connect, subscribe, publish acks, PUBACK messages once processed."""

    def __init__(self, *, client_id: str, host: str, port: int, tls: GatewayTls | None,
                 on_message: Callable[[mqtt.MQTTMessage], None], session_expiry_s: int, keepalive_s: int = 30) -> None:
        self._host, self._port, self._expiry, self._keepalive = host, port, session_expiry_s, keepalive_s
        self._connected = threading.Event()
        self._lost = threading.Event()
        client = mqtt.Client(callback_api_version=CallbackAPIVersion.VERSION2, client_id=client_id,
                             protocol=mqtt.MQTTv5, manual_ack=True)
        client.max_inflight_messages_set(100)
        if tls is not None:
            ctx = ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cafile=str(tls.ca_file))
            ctx.load_cert_chain(str(tls.cert_file), str(tls.key_file))
            ctx.minimum_version = ssl.TLSVersion.TLSv1_2
            client.tls_set_context(ctx)
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        client.on_message = lambda _c, _u, msg: on_message(msg)
        self.client = client

    def _on_connect(self, client: mqtt.Client, userdata: object, flags: object, reason_code: object,
                    properties: object) -> None:
        if getattr(reason_code, "is_failure", False):
            self._lost.set()
        else:
            self._connected.set()

    def _on_disconnect(self, client: mqtt.Client, userdata: object, flags: object, reason_code: object,
                       properties: object) -> None:
        self._connected.clear()
        self._lost.set()

    @property
    def up(self) -> bool:
        """True while connected."""
        return self._connected.is_set() and not self._lost.is_set()

    def connect(self, subscription: str, timeout_s: float = 10.0) -> None:
        """Connect (session kept ``session_expiry_s``), subscribe QoS 1; :class:`BrokerDown` on failure."""
        props = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
        props.SessionExpiryInterval = self._expiry
        try:
            self.client.connect(self._host, self._port, keepalive=self._keepalive, clean_start=self._expiry == 0,
                                properties=props)
        except (OSError, ssl.SSLError) as exc:
            raise BrokerDown(f"cannot reach the broker ({exc.__class__.__name__})") from exc
        self.client.loop_start()
        deadline = time.monotonic() + timeout_s
        while not self._connected.is_set():
            if self._lost.is_set() or time.monotonic() > deadline:
                self.close()
                raise BrokerDown("broker refused or did not answer the connection")
            time.sleep(0.02)
        result, _ = self.client.subscribe(subscription, qos=1)
        if result != mqtt.MQTT_ERR_SUCCESS:
            self.close()
            raise BrokerDown("subscribe failed")

    def publish(self, topic: str, payload: bytes, properties: Properties) -> None:
        """Queue a QoS 1 publish (paho resends it after a reconnect of this session)."""
        if not self.up:
            raise BrokerDown("link is down")
        info = self.client.publish(topic, payload, qos=1, properties=properties)
        if info.rc not in (mqtt.MQTT_ERR_SUCCESS, mqtt.MQTT_ERR_QUEUE_SIZE):
            raise BrokerDown(f"publish failed ({mqtt.error_string(info.rc)})")

    def ack(self, msg: mqtt.MQTTMessage) -> None:
        """PUBACK a processed message."""
        self.client.ack(msg.mid, msg.qos)

    def close(self) -> None:
        """Disconnect and stop the network thread."""
        try:
            self.client.disconnect()
        except Exception:  # noqa: BLE001 - closing a dead socket must not raise
            log.debug("disconnect on a dead link")
        self.client.loop_stop()
        self._connected.clear()
        self._lost.set()


def ack_properties(correlation: bytes | None, expiry_s: int, content_type: str) -> Properties:
    """PUBLISH properties of an answer: content type, expiry, echoed correlation data."""
    props = Properties(PacketTypes.PUBLISH)  # type: ignore[no-untyped-call]
    props.ContentType = content_type
    props.MessageExpiryInterval = expiry_s
    if correlation is not None:
        props.CorrelationData = correlation
    return props
