"""An ESC/POS receipt printer on a serial port (python-escpos): real-time status and receipts.

Text is rendered to a bitmap with a Unicode font, so Vietnamese prints correctly on printers
without a Vietnamese code page; the QR code is printed as an image.
"""

from __future__ import annotations

import logging
import termios
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import qrcode
import qrcode.exceptions
import serial
from escpos.exceptions import Error as EscposError
from PIL import Image, ImageDraw, ImageFont

from firmware.config import EscposSerialPrinterConfig
from firmware.errors import (
    BadDeviceInput,
    CoverOpen,
    DeviceFault,
    DeviceIOFault,
    DeviceMissing,
    DeviceTimeout,
    PaperOut,
)

log = logging.getLogger(__name__)

DLE_EOT = b"\x10\x04"
FONT_CANDIDATES = ("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
                   "/usr/share/fonts/truetype/noto/NotoSans-Regular.ttf")
PaperLevel = Literal["ok", "low", "out"]
#: Printable dots per line of each roll width at 203 dpi (8 dots/mm).
PAPER_DOTS = {58: 384, 80: 576}


@dataclass(frozen=True)
class PrinterStatus:
    """The printer's real-time status (ESC/POS ``DLE EOT 1``, ``2`` and ``4``)."""

    online: bool
    cover_open: bool
    paper: PaperLevel
    error: bool

    def fault(self, device: str = "printer") -> DeviceFault | None:
        """The fault that prevents printing now, or None when the printer is ready."""
        if self.cover_open:
            return CoverOpen(device, "the printer cover is open", remedy="close the printer cover")
        if self.paper == "out":
            return PaperOut(device, "the printer has no paper", remedy="load a new receipt roll")
        if self.error or not self.online:
            return DeviceIOFault(device, "the printer reports an error or is offline",
                                 remedy="switch the printer off and on; check for a paper jam or a hot head")
        return None


def parse_status(online_byte: int, offline_byte: int, paper_byte: int) -> PrinterStatus:
    """Decode the three status bytes; each must have the fixed bits 0xx1xx10 of ESC/POS."""
    for b in (online_byte, offline_byte, paper_byte):
        if b & 0b10010011 != 0b00010010:
            raise BadDeviceInput("printer", f"status byte {b:#04x} is not an ESC/POS status",
                                 remedy="check the baud rate (devices.printer.baudrate) and that it is ESC/POS")
    paper: PaperLevel = "out" if paper_byte & 0x60 else ("low" if paper_byte & 0x0C else "ok")
    return PrinterStatus(online=not online_byte & 0x08, cover_open=bool(offline_byte & 0x04),
                         paper=paper, error=bool(offline_byte & 0x40))


def render_text(lines: list[str], width_px: int = 384, size: int = 22) -> Image.Image:
    """Render ``lines`` (any Unicode) as a 1-bit image ``width_px`` wide, wrapping long lines."""
    font_path = next((p for p in FONT_CANDIDATES if Path(p).exists()), None)
    font: Any = ImageFont.truetype(font_path, size) if font_path else ImageFont.load_default()
    probe = ImageDraw.Draw(Image.new("1", (1, 1)))
    wrapped: list[str] = []
    for line in lines:
        words, current = line.split(" "), ""
        for word in words:
            trial = f"{current} {word}".strip()
            if current and probe.textlength(trial, font=font) > width_px - 8:
                wrapped.append(current)
                current = word
            else:
                current = trial
        wrapped.append(current)
    step = size + 6
    img = Image.new("1", (width_px, step * len(wrapped) + 8), 1)
    draw = ImageDraw.Draw(img)
    for i, line in enumerate(wrapped):
        draw.text((4, 4 + i * step), line, font=font, fill=0)
    return img


def qr_image(content: str, width_px: int, max_scale: int) -> Image.Image:
    """The QR code of ``content`` as a 1-bit image no wider than ``width_px`` (modules >= 2 px)."""
    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, box_size=1, border=4)
    try:
        code.add_data(content.encode("utf-8"))
        code.make(fit=True)
    except (ValueError, qrcode.exceptions.DataOverflowError) as exc:
        raise BadDeviceInput("printer", f"the QR content cannot be encoded ({exc})",
                             remedy="shorten the QR content") from exc
    modules = code.modules_count + 8
    scale = min(max_scale, width_px // modules)
    if scale < 2:
        raise BadDeviceInput("printer", f"the QR code ({modules} modules) is too dense for {width_px}-dot paper",
                             remedy="shorten the QR content or use wider paper")
    code.box_size = scale
    return code.make_image(fill_color="black", back_color="white").get_image().convert("1")


class ReceiptPrinter:
    """An ESC/POS printer; every exchange is bounded by ``timeout_s``."""

    def __init__(self, config: EscposSerialPrinterConfig, width_px: int | None = None) -> None:
        """Configure; the port is opened by :meth:`open` (or the first call).

        ``width_px`` defaults to the printable width of the configured roll (``paper_mm``).
        """
        self.config = config
        self.width_px = width_px or PAPER_DOTS[config.paper_mm]
        self.name = f"printer({config.port})"
        self._p: Any = None

    def open(self) -> None:
        """Open the serial port (DeviceMissing when it cannot be opened)."""
        if self._p is not None:
            return
        from escpos.exceptions import DeviceNotFoundError
        from escpos.printer import Serial

        printer = Serial(devfile=self.config.port, baudrate=self.config.baudrate,
                         timeout=self.config.timeout_s, dsrdtr=False)
        media = printer.profile.profile_data.setdefault("media", {})
        if not isinstance(media.get("width"), dict) or media["width"].get("pixels") in (None, "Unknown"):
            media["width"] = {"mm": "Unknown", "pixels": self.width_px}  # the generic profile knows no width
        try:
            printer.open()
        except DeviceNotFoundError as exc:
            raise DeviceMissing("printer", f"cannot open {self.config.port}",
                                remedy="plug in the receipt printer or fix devices.printer.port") from exc
        if printer.device is not None:
            # a printer that stops taking data must not block us for ever
            printer.device.write_timeout = self.config.write_timeout_s
        self._p = printer

    def close(self) -> None:
        """Close the port; safe to call twice."""
        p, self._p = self._p, None
        if p is not None:
            try:
                p.close()
            except (serial.SerialException, OSError, termios.error):
                log.debug("printer: close failed")

    def _query(self, n: int) -> int:
        """Send ``DLE EOT n`` and return the one status byte, within the timeout."""
        self.open()
        dev = self._p.device
        try:
            dev.reset_input_buffer()
            dev.write(DLE_EOT + bytes([n]))
            dev.flush()
            deadline = time.monotonic() + self.config.timeout_s
            while time.monotonic() < deadline:
                data = dev.read(1)
                if data:
                    return data[0]
        except (serial.SerialException, OSError) as exc:
            self.close()
            raise DeviceIOFault("printer", f"talking to {self.config.port} failed ({exc})",
                                remedy="replug the printer cable") from exc
        raise DeviceTimeout("printer", f"no answer to a status request within {self.config.timeout_s:g} s",
                            remedy="switch the printer on; check the cable and devices.printer.baudrate")

    def status(self) -> PrinterStatus:
        """Query online, cover and paper state."""
        return parse_status(self._query(1), self._query(2), self._query(4))

    def print_receipt(self, lines: list[str], qr: str | None = None, *, cut: bool = True) -> PrinterStatus:
        """Print a QR code (top) and ``lines``; refuses with a typed fault when not ready.

        Everything is rendered before the status check, so a receipt that cannot be printed
        (a QR too dense for the paper) is refused without printing half of it.
        """
        images = [qr_image(qr, self.width_px, self.config.qr_size)] if qr else []
        images.append(render_text(lines, self.width_px, size=22 if self.width_px <= 384 else 26))
        return self.print_images(images, cut=cut)

    def print_images(self, images: list[Image.Image], *, cut: bool = True) -> PrinterStatus:
        """Print pre-rendered images (e.g. a rasterised receipt), shrunk to the paper width if wider."""
        fitted = []
        for img in images:
            if img.width > self.width_px:
                img = img.resize((self.width_px, max(1, round(img.height * self.width_px / img.width))))
            fitted.append(img.convert("1"))
        state = self.status()
        fault = state.fault()
        if fault is not None:
            raise fault
        p = self._p
        try:
            for img in fitted:
                p.image(img, impl="bitImageRaster")
            if cut:
                p.cut()
            p.device.flush()
        except serial.SerialTimeoutException as exc:
            self.close()
            raise DeviceTimeout("printer", "the printer stopped taking data",
                                remedy="check the printer for a jam or an error light, then reprint") from exc
        except (serial.SerialException, OSError, termios.error, EscposError) as exc:
            self.close()
            raise DeviceIOFault("printer", f"printing failed ({exc})",
                                remedy="check the printer, then reprint") from exc
        return state

    def self_check(self) -> str:
        """Query the status and describe it (raises the fault that blocks printing)."""
        state = self.status()
        fault = state.fault()
        if fault is not None:
            raise fault
        return f"online, paper {state.paper}"
