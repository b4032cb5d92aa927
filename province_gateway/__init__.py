"""The reference receiver on the province side (``sohoa-gateway``).

MQTT shared subscription in, hash and signature checks, PostgreSQL + file store, acks out, reuse
look-ups. ``local/`` is the local province (CA, broker, PostgreSQL) for the station and the tests.

May import: ``service.sync.protocol`` (and the pure wire modules it uses), ``service.sync.mqttbase``
(the shared paho connection base and back-off) and ``service.domain``, plus the standard library
and third-party packages. SQL lives only in ``db.py``, ``local/postgres.py``
and ``web/queries.py`` (the province view, ``web/``). Checked by
``tests/test_architecture.py``.
"""
