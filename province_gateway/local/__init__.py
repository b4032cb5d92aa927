"""A local province for development and tests: a DEVELOPMENT province CA, a private Mosquitto 2
with mutual TLS and dynamic-security roles (rules enforced at SUBSCRIBE and PUBLISH, client id =
certificate identity, province bound per device), and a private PostgreSQL cluster.

``make run`` starts these beside one ``sohoa-gateway`` and enrols its device with
:func:`province_gateway.local.enrol.enrol_device`; the sync tests and benchmarks use the same
classes, so the broker rules tested are the ones the station runs. Imports of ours only the
gateway's own modules (``province_gateway.mqtt``, ``province_gateway.db``), never the device service.
"""
