"""Serial peripherals: the QR/barcode reader and the ESC/POS receipt printer.

May import: the standard library, pyserial and ``firmware`` only.
"""

from firmware.serial_devices.printer import PrinterStatus, ReceiptPrinter, parse_status, render_text
from firmware.serial_devices.qr_reader import QrReader

__all__ = ["PrinterStatus", "QrReader", "ReceiptPrinter", "parse_status", "render_text"]
