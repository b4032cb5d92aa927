"""Technician tools: device identity and enrolment, config check, self-test, development tokens,
backup / restore, factory reset, the systemd launcher and watchdog, and the development station.

May import: ``service``, ``firmware`` and (for the station only) ``province_gateway.local``.
Reads and writes of the device database go through ``service.store``.
"""
