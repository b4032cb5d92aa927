"""A local province for development and tests: a DEVELOPMENT province CA, a private Mosquitto 2
with mutual TLS and the per-device ACL, and a private PostgreSQL cluster.

``make run`` starts these beside one ``sohoa-gateway``; the sync tests and benchmarks use the same
classes, so the broker rules tested are the ones the station runs. Imports nothing of the device
service.
"""
