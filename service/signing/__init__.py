"""Signing: PKCS#11 tokens, PAdES signatures (officer + agency), verification.

pyHanko and its certificate validator log certificate subjects (personal names) when a path
cannot be built, and fontTools lists the glyphs of the stamp text (a name): personal data never
goes to our logs, so their loggers only pass CRITICAL.

May import: ``service.domain``, ``service.pdf``, ``service.store`` (signature records through store
methods), ``service.paths``, ``service.configbase`` and ``firmware.token``.
"""

import logging

for _name in ("pyhanko", "pyhanko_certvalidator", "fontTools"):
    logging.getLogger(_name).setLevel(logging.CRITICAL)
