"""Real Mosquitto 2 for tests: the local province's broker and CA (``province_gateway.local``)."""

from province_gateway.local.broker import Broker, Identity, LabPki, free_port, wait_port
from province_gateway.local.enrol import enrol_device, enrol_lab_device, revoke_enrolment

__all__ = ["Broker", "Identity", "LabPki", "enrol_device", "enrol_lab_device", "free_port", "revoke_enrolment",
           "wait_port"]
