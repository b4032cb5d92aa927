"""The province view (``sohoa-province-web``): a small read-only web view and JSON API on the gateway's PostgreSQL.

Devices (last seen, queue, sync lag, temperature, disk, versions from telemetry), documents received
per office per day, and an owner's digitized papers for an officer whose office holds the owner's
dossier (TT 01/2023 Art. 24), every look-up logged in ``gw_view_lookup``. Roles and accounts come
from ``web.yaml``; sessions are cookies signed with its shared secret, so any number of replicas
serve it from the same database. Imports of ours: the gateway's own modules and ``service.domain``
/ ``service.sync.protocol`` only; SQL only in ``queries.py``.
"""
