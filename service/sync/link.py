"""The device's MQTT 5 link (mutual TLS, last will), used by the sync worker and the tests' raw clients.

A thin subclass of :class:`service.sync.mqttbase.MqttConnection`: the connection code is shared
with the province gateway. The link never reconnects on its own: callers see :class:`LinkDown`
and wait a :class:`~service.sync.mqttbase.Backoff`.
"""

from __future__ import annotations

from service.sync.mqttbase import (
    LinkDown,
    MessageHandler,
    MqttConnection,
    TlsFiles,
    Will,
    publish_properties,
)

__all__ = ["LinkDown", "MessageHandler", "MqttLink", "TlsFiles", "Will", "publish_properties"]


class MqttLink(MqttConnection):
    """A connected device MQTT 5 client; ``on_message`` is called from the paho thread (errors logged)."""

    def __init__(self, *, client_id: str, host: str, port: int, tls: TlsFiles | None,
                 on_message: MessageHandler, keepalive_s: int = 30, session_expiry_s: int = 0,
                 clean_start: bool = True, will: Will | None = None,
                 max_inflight: int = 20) -> None:
        super().__init__(client_id=client_id, host=host, port=port, tls=tls, on_message=on_message,
                         keepalive_s=keepalive_s, session_expiry_s=session_expiry_s, clean_start=clean_start,
                         will=will, max_inflight=max_inflight)
