"""Real Mosquitto 2 for tests: the local province's broker and CA (``province_gateway.local``)."""

from province_gateway.local.broker import ACL, Broker, Identity, LabPki, free_port, wait_port

__all__ = ["ACL", "Broker", "Identity", "LabPki", "free_port", "wait_port"]
