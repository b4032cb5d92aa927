"""The gateway's MQTT 5 connection (paho-mqtt 2.x, mutual TLS, manual PUBACK after processing).

Built on :class:`service.sync.mqttbase.MqttConnection`, the connection base shared with the
device (a pure paho module the gateway may import, see ``docs/ARCHITECTURE.md``).
"""

from __future__ import annotations

from paho.mqtt import client as mqtt
from paho.mqtt.properties import Properties

from service.sync.mqttbase import LinkDown, MessageHandler, MqttConnection, TlsFiles, publish_properties

GatewayTls = TlsFiles
"""CA bundle, gateway certificate (its CN is its broker user) and key."""


class BrokerDown(LinkDown):
    """The broker connection is not usable."""


class GatewayLink(MqttConnection):
    """Connect, subscribe, publish acks, PUBACK messages once processed."""

    down_error = BrokerDown

    def __init__(self, *, client_id: str, host: str, port: int, tls: TlsFiles | None,
                 on_message: MessageHandler, session_expiry_s: int, keepalive_s: int = 30) -> None:
        super().__init__(client_id=client_id, host=host, port=port, tls=tls, on_message=on_message,
                         keepalive_s=keepalive_s, session_expiry_s=session_expiry_s,
                         clean_start=session_expiry_s == 0, max_inflight=100, manual_ack=True,
                         guard_handler=False)

    def connect_subscribed(self, subscription: str, timeout_s: float = 10.0) -> None:
        """Connect (session kept ``session_expiry_s``), subscribe QoS 1; :class:`BrokerDown` on failure."""
        self.connect(timeout_s)
        try:
            self.subscribe(subscription, qos=1)
        except BrokerDown:
            self.close()
            raise

    def ack(self, msg: mqtt.MQTTMessage) -> None:
        """PUBACK a processed message."""
        self.client.ack(msg.mid, msg.qos)


def ack_properties(correlation: bytes | None, expiry_s: int, content_type: str) -> Properties:
    """PUBLISH properties of an answer: content type, expiry, echoed correlation data."""
    return publish_properties(content_type=content_type, expiry_s=expiry_s, correlation=correlation)
