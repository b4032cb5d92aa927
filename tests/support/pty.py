"""Pseudo-terminal pairs that play a serial device's side in tests (``provisioning.simdevices``).

``PtyPair`` gives the driver a real tty path (``port``) and the test the master end. The
``FakeEscposPrinter`` thread answers ESC/POS ``DLE EOT n`` status requests with configurable
bytes and records everything it was sent.
"""

from provisioning.simdevices import PtyPair
from provisioning.simdevices import PtyPrinter as FakeEscposPrinter

__all__ = ["FakeEscposPrinter", "PtyPair"]
