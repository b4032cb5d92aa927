"""Device drivers: camera, scanner, operator panel, serial QR reader and printer, PKCS#11 token, health.

Each driver sits behind one small interface with a real and a simulated backend, chosen by
``type`` in its config (``firmware/config.py``). Driver faults are ``DeviceFault`` errors;
``provisioning/errors.py`` maps them onto the service's typed errors.

May import: the standard library and third-party driver libraries only; nothing of ours outside
``firmware`` (no ``service``, ``kiosk_ui``, ``provisioning``, ``province_gateway``). Checked by
``tests/test_architecture.py``.
"""
