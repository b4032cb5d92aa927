"""Message-level faults for the sync fault bench: a chaos client that duplicates and reorders MQTT messages.

It is a broker client of its own (certificate ``chaos-70``) whose dynamic-security role lets it read
and write one device's topics, the way a misbehaving network element or a broker bridge that
re-delivers would. It copies manifests, chunks and acks with all their MQTT 5 properties: a
*duplicate* is sent again at once, a *reordered* copy is held back 0.2–2 s so it arrives after
messages sent later. ``No Local`` keeps it from copying its own copies. Nothing in the device or
gateway code knows it exists.
"""

from __future__ import annotations

import heapq
import random
import threading
import time

import paho.mqtt.client as mqtt
from paho.mqtt.subscribeoptions import SubscribeOptions

from service.sync.link import LinkDown, MqttLink, TlsFiles, publish_properties
from tests.support.mosquitto import Broker, LabPki

CHAOS_USER = "chaos-70"
KINDS = ("/up/manifest", "/up/chunk", "/down/ack")


def allow_chaos(broker: Broker, province: str, device: str) -> None:
    """Give the chaos identity read/write on one device's topics (test-side registry change)."""
    base = f"sohoa/v1/{province}/{device}/#"
    acls = [{"acltype": k, "topic": base, "priority": 0, "allow": True}
            for k in ("publishClientSend", "publishClientReceive", "subscribePattern")]
    broker.control([{"command": "deleteClient", "username": CHAOS_USER}, {"command": "deleteRole", "rolename": "chaos"},
                    {"command": "createRole", "rolename": "chaos", "acls": acls},
                    {"command": "createClient", "username": CHAOS_USER, "roles": [{"rolename": "chaos"}]}])


class Replayer:
    """Duplicates (``p_dup``) and reorders (``p_reorder``) a device's messages until ``budget`` copies are sent."""

    def __init__(self, pki: LabPki, port: int, province: str, device: str, *, p_dup: float, p_reorder: float,
                 budget: int, seed: int = 11) -> None:
        self.ident = pki.issue(CHAOS_USER)
        self.tls = TlsFiles(pki.ca_file, self.ident.cert, self.ident.key)
        self.port, self.topic = port, f"sohoa/v1/{province}/{device}/#"
        self.p_dup, self.p_reorder, self.budget = p_dup, p_reorder, budget
        self.rng = random.Random(seed)
        self.counts = {"duplicate": 0, "reorder": 0}
        self._held: list[tuple[float, int, str, str, bytes, object]] = []
        self._lock = threading.Lock()
        self._n = 0
        self.stop = threading.Event()
        self.link: MqttLink | None = None
        self._thread = threading.Thread(target=self._run, daemon=True, name="chaos")
        self._thread.start()

    def _on_message(self, msg: mqtt.MQTTMessage) -> None:
        if not msg.topic.endswith(KINDS) or sum(self.counts.values()) + len(self._held) >= self.budget:
            return
        roll = self.rng.random()
        props = msg.properties
        copy = publish_properties(content_type=getattr(props, "ContentType", None),
                                  user=list(getattr(props, "UserProperty", []) or []) or None,
                                  correlation=getattr(props, "CorrelationData", None),
                                  response_topic=getattr(props, "ResponseTopic", None), expiry_s=3600)
        with self._lock:
            if roll < self.p_dup:
                heapq.heappush(self._held, (time.monotonic(), self._n, "duplicate", msg.topic, bytes(msg.payload),
                                            copy))
            elif roll < self.p_dup + self.p_reorder:
                due = time.monotonic() + self.rng.uniform(0.2, 2.0)
                heapq.heappush(self._held, (due, self._n, "reorder", msg.topic, bytes(msg.payload), copy))
            self._n += 1

    def _connect(self) -> MqttLink:
        link = MqttLink(client_id=CHAOS_USER, host="127.0.0.1", port=self.port, tls=self.tls,
                        on_message=self._on_message, max_inflight=50)
        link.connect(timeout_s=5)
        link.client.subscribe(self.topic, options=SubscribeOptions(qos=1, noLocal=True))
        return link

    def _run(self) -> None:
        due: list[tuple[float, int, str, str, bytes, object]] = []
        while not self.stop.is_set():
            try:
                if self.link is None or not self.link.up:
                    if self.link is not None:
                        self.link.close()
                    self.link = self._connect()
                with self._lock:
                    due = [heapq.heappop(self._held) for _ in range(len(self._held))
                           if self._held and self._held[0][0] <= time.monotonic()]
                while due:
                    _due, _n, kind, topic, payload, props = due[0]
                    self.link.publish(topic, payload, properties=props)  # type: ignore[arg-type]
                    self.counts[kind] += 1  # counted once actually sent
                    due.pop(0)
                self.stop.wait(0.02)
            except LinkDown:
                with self._lock:
                    for item in due:
                        heapq.heappush(self._held, item)  # the broker is being killed: send them later
                due = []
                self.link = None
                self.stop.wait(0.3)

    def close(self) -> None:
        """Stop and disconnect."""
        self.stop.set()
        self._thread.join(10)
        if self.link is not None:
            self.link.close()
