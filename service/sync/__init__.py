"""Sync to the province: the device worker, its MQTT link, pacing, and the pure wire protocol.

``protocol.py``, ``reuse_msgs.py`` and ``wire.py`` are pure and ``mqttbase.py`` (the paho
connection base and the back-off shared with the gateway) imports only paho and
``service.domain``: these are the modules ``province_gateway`` may import.

May import: ``service.domain``, ``service.configbase``, ``service.store`` (outbox and sync
progress through store methods); no UI, no ``provisioning``.
"""
