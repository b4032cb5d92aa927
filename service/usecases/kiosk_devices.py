"""The kiosk's peripherals in the running service: receipt printer, serial QR reader, GPIO panel.

One :class:`DeviceHub` per kiosk process owns the drivers (the kiosk never calls them directly):

- the ESC/POS printer prints receipts and tickets (:func:`print_receipt`, :func:`print_ticket`); a
  printer that is not ready (paper out, cover open, off) gives a :class:`PrintOutcome` naming the
  fault, and the page offers the A4 PDF instead;
- the QR reader is read by a background thread; each scanned line, checked by the text hygiene
  rule, becomes a ``qr`` event (a bad line a ``qr_error`` event, never a crash);
- the panel's capture button (and the pedal) becomes a ``capture`` event; its LEDs show the
  kiosk's state (ready / working / error) and whether the officer's card is in.

Pages poll the events (``/devices/events``). Events live in memory only, for
:data:`EVENT_TTL_S` seconds: a scanned ID card's QR is personal data and is never logged.
"""

from __future__ import annotations

import collections
import datetime as dt
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from firmware.config import DevicesConfig
from firmware.errors import BadDeviceInput, DeviceFault
from firmware.panel import Panel, PanelState
from firmware.serial_devices import QrReader, ReceiptPrinter
from service.desk.drafts import Draft
from service.domain.text import hygiene_problem
from service.receipts.slip import Slip, receipt_slip, ticket_slip
from service.usecases.kiosk_desk import receipt_of

log = logging.getLogger("sohoa.kiosk.devices")

EventKind = Literal["qr", "qr_error", "capture"]
EVENT_TTL_S = 60.0
ERROR_HOLD_S = 30.0  # the error LED stays on this long after a device fault or a failed job
READ_POLL_S = 0.5
REOPEN_S = 2.0
LIGHTS_POLL_S = 0.25


@dataclass(frozen=True, slots=True)
class DeviceEvent:
    """Something a device did that a page reacts to; ``text`` is a scanned code (``qr`` only)."""

    seq: int
    kind: EventKind
    at: float
    text: str = ""
    message_key: str = ""


@dataclass(frozen=True, slots=True)
class PrintOutcome:
    """How a print went: ``fault`` is empty when printed, else the fault's code (``paper-out``, …)."""

    fault: str = ""
    paper: str = ""

    @property
    def ok(self) -> bool:
        """Whether the slip was printed."""
        return not self.fault


@dataclass(frozen=True, slots=True)
class KioskActivity:
    """What the panel LEDs show: a job running, a job that failed lately, the officer's card in."""

    busy: bool = False
    failed: bool = False
    card: bool = False


class DeviceHub:
    """The kiosk's printer, QR reader and panel; :meth:`start` starts the reader and the lights."""

    def __init__(self, devices: DevicesConfig, activity: Callable[[], KioskActivity] | None = None) -> None:
        """Configure from ``devices``; ``activity`` reports the kiosk's state for the LEDs."""
        self.devices = devices
        self._activity = activity or KioskActivity
        self._events: collections.deque[DeviceEvent] = collections.deque(maxlen=32)
        self._seq = 0
        self._lock = threading.Lock()
        self._print_lock = threading.Lock()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._fault_at = 0.0
        self.reader_fault = ""  # the QR reader's last fault code while it is unusable (for health)
        self.reader_open = threading.Event()  # set while the reader's port is open (scans are heard)
        self.panel: Panel | None = None
        self.lights: PanelState | None = None

    # ------------------------------------------------------------------ life cycle
    def start(self) -> None:
        """Start the QR reader thread and the panel (each only when configured)."""
        if self.devices.qr_reader is not None:
            self._spawn("kiosk-qr-reader", self._read_loop)
        if self.devices.panel is not None:
            try:
                self.panel = Panel(self.devices.panel)
            except DeviceFault as exc:
                log.warning("panel unusable: %s", exc.code)
                self._fault_at = time.monotonic()
                return
            for button in ("capture", "pedal"):
                if button in self.panel.buttons:
                    self.panel.on_press(button, lambda _b: self._emit("capture"))  # type: ignore[arg-type]
            self._spawn("kiosk-panel-lights", self._lights_loop)

    def _spawn(self, name: str, target: Callable[[], None]) -> None:
        thread = threading.Thread(target=target, name=name, daemon=True)
        thread.start()
        self._threads.append(thread)

    def close(self) -> None:
        """Stop the threads and release the pins; safe to call twice."""
        self._stop.set()
        for thread in self._threads:
            thread.join(READ_POLL_S * 4 + 1)
        self._threads = []
        if self.panel is not None:
            self.panel.close()
            self.panel = None

    # ------------------------------------------------------------------ events
    def _emit(self, kind: EventKind, text: str = "", message_key: str = "") -> None:
        with self._lock:
            self._seq += 1
            self._events.append(DeviceEvent(self._seq, kind, time.monotonic(), text, message_key))

    def current_seq(self) -> int:
        """The number of the newest event (a new page starts listening after it)."""
        with self._lock:
            return self._seq

    def events_after(self, seq: int) -> list[DeviceEvent]:
        """The events newer than ``seq`` and younger than :data:`EVENT_TTL_S`, oldest first."""
        cutoff = time.monotonic() - EVENT_TTL_S
        with self._lock:
            return [e for e in self._events if e.seq > seq and e.at >= cutoff]

    def scan_line(self, line: str | None, fault: DeviceFault | None = None) -> None:
        """Turn one read of the QR reader into an event (a refused line becomes ``qr_error``)."""
        if isinstance(fault, BadDeviceInput):
            self._emit("qr_error", message_key="devices.qr_bad")
            return
        if line is None or not line:
            return
        if hygiene_problem("qr_payload", line) is not None:
            self._emit("qr_error", message_key="devices.qr_bad")
            return
        self._emit("qr", text=line)

    # ------------------------------------------------------------------ background threads
    def _read_loop(self) -> None:
        assert self.devices.qr_reader is not None
        reader = QrReader(self.devices.qr_reader)
        try:
            while not self._stop.is_set():
                try:
                    reader.open()
                    self.reader_open.set()
                    line = reader.read_code(READ_POLL_S)
                except BadDeviceInput as exc:
                    self.scan_line(None, exc)
                    continue
                except DeviceFault as exc:
                    if self.reader_fault != exc.code:
                        log.warning("QR reader unusable (%s); retrying every %g s", exc.code, REOPEN_S)
                    self.reader_fault = exc.code
                    self._fault_at = time.monotonic()
                    self.reader_open.clear()
                    reader.close()
                    self._stop.wait(REOPEN_S)
                    continue
                if self.reader_fault:
                    log.info("QR reader back")
                    self.reader_fault = ""
                self.scan_line(line)
        finally:
            reader.close()

    def _lights_loop(self) -> None:
        while not self._stop.wait(LIGHTS_POLL_S):
            try:
                self.show(self._activity())
            except Exception:  # noqa: BLE001 - the lights must not stop because one reading failed
                log.exception("panel lights: reading the kiosk state failed")

    def show(self, activity: KioskActivity) -> PanelState | None:
        """Set the LEDs for ``activity`` (and recent device faults); returns the state shown."""
        panel = self.panel
        if panel is None:
            return None
        recent_fault = time.monotonic() - self._fault_at < ERROR_HOLD_S if self._fault_at else False
        state: PanelState = "error" if activity.failed or recent_fault else ("busy" if activity.busy else "ready")
        if state != self.lights:  # set_state restarts blinking and beeps: only on a change
            panel.set_state(state)
            self.lights = state
        panel.set_card(activity.card)
        return state

    # ------------------------------------------------------------------ printing
    def print_slip(self, slip: Slip) -> PrintOutcome:
        """Print ``slip`` on the roll printer; a fault is returned, not raised (the page offers the PDF)."""
        if self.devices.printer is None:
            return PrintOutcome(fault="not-configured")
        with self._print_lock:
            printer = ReceiptPrinter(self.devices.printer)
            try:
                state = printer.print_receipt(list(slip.lines), qr=slip.qr)
            except DeviceFault as exc:
                log.warning("receipt printer: %s", exc.code)
                self._fault_at = time.monotonic()
                return PrintOutcome(fault=exc.code)
            finally:
                printer.close()
        self._fault_at = 0.0
        return PrintOutcome(paper=state.paper)


def print_receipt(hub: DeviceHub, draft: Draft, *, office_name: str, issuing_system: str,
                  printed_at: dt.datetime) -> PrintOutcome:
    """Print a finalized dossier's receipt on the roll printer (same QR as the A4 PDF)."""
    receipt = receipt_of(draft, office_name=office_name, issuing_system=issuing_system, printed_at=printed_at)
    return hub.print_slip(receipt_slip(receipt))


def print_ticket(hub: DeviceHub, ticket: str, *, office_name: str, issuing_system: str,
                 printed_at: dt.datetime) -> PrintOutcome:
    """Print a citizen's ticket (the number the desk calls) on the roll printer."""
    return hub.print_slip(ticket_slip(ticket, office_name=office_name, issuing_system=issuing_system,
                                      printed_at=printed_at))
