"""Serial peripherals: the QR/barcode reader and the ESC/POS receipt printer."""

from firmware.serial_devices.printer import PrinterStatus, ReceiptPrinter, parse_status, render_text
from firmware.serial_devices.qr_reader import QrReader

__all__ = ["PrinterStatus", "QrReader", "ReceiptPrinter", "parse_status", "render_text"]
