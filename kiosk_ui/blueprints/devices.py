"""The station's peripherals on the kiosk pages: device events for ``devices.js`` and receipt printing.

``GET /devices/events`` returns what happened since this session last asked: QR reader scans
(``qr``: the page fills its ``[data-qr-fill]`` input), refused scans (``qr_error``: a Vietnamese
message) and the panel's capture button (``capture``: the capture screen takes a page). A session
never sees events from before its first page was made: that page says the newest event then
(``?since=N``), so a scan between the page appearing and its first poll still reaches it. The poll
is passive: it neither keeps a session alive nor ends one (see ``PASSIVE_ENDPOINTS`` in
:mod:`kiosk_ui.app`). ``POST /devices/receipt/<draft_id>/print`` prints the receipt on the roll
printer; when the printer is not ready the page says why and offers the PDF.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import Blueprint, Response, abort, flash, jsonify, redirect, request, url_for

from kiosk_ui import security
from kiosk_ui.context import audit, backend, drafts, t
from service.errors import NotFoundError
from service.usecases import kiosk_desk, kiosk_devices

bp = Blueprint("devices", __name__)
SEEN_KEY = "devices_seq"


@bp.get("/events")
def events() -> Response:
    """The device events for this session since its last poll (signed-in sessions only)."""
    s = security.current()
    if s is None:  # ended: the page's next real request says why (expired, card pulled)
        return jsonify({"events": []})
    hub = backend().devices
    seen = s.data.get(SEEN_KEY)
    if seen is None or not seen.isdigit():
        now = hub.current_seq()
        since = request.args.get("since", "")
        if not (since.isascii() and since.isdigit() and len(since) < 12 and int(since) <= now):
            s.data[SEEN_KEY] = str(now)
            return jsonify({"events": []})
        seen = s.data[SEEN_KEY] = since
    out = []
    for event in hub.events_after(int(seen)):
        item: dict[str, str] = {"kind": event.kind}
        if event.kind == "qr":
            item["text"] = event.text
        elif event.kind == "qr_error":
            item["message"] = t(event.message_key)
        out.append(item)
        s.data[SEEN_KEY] = str(event.seq)
    return jsonify({"events": out})


@bp.post("/receipt/<draft_id>/print")
@security.require("officer")
def print_receipt(draft_id: str) -> Response:
    """Print a finalized dossier's receipt on the roll printer (the A4 PDF is the fallback)."""
    try:
        d = kiosk_desk.get_draft(drafts(), draft_id)
    except NotFoundError:
        abort(404)
    if d.state != "finalized":
        abort(409)
    b = backend()
    outcome = kiosk_devices.print_receipt(b.devices, d, office_name=b.config.identity.office_name,
                                          issuing_system=b.settings.issuing_system, printed_at=b.now())
    audit("receipt.print_slip", d.id, result=outcome.fault or "printed")
    if outcome.ok:
        flash(t("print.done") + (f" — {t('print.paper_low')}" if outcome.paper == "low" else ""), "ok")
        return redirect(url_for("officer.receipt", draft_id=d.id))  # type: ignore[return-value]
    flash(print_fault_message(outcome.fault), "error")
    return redirect(url_for("officer.receipt", draft_id=d.id, print_fault=outcome.fault))  # type: ignore[return-value]


@dataclass(frozen=True, slots=True)
class PrintNote:
    """What the page says after printing a ticket."""

    ok: bool
    message: str


def print_ticket(ticket: str) -> PrintNote | None:
    """Print a citizen's ticket on the roll printer; None when the station has no printer."""
    b = backend()
    outcome = kiosk_devices.print_ticket(b.devices, ticket, office_name=b.config.identity.office_name,
                                         issuing_system=b.settings.issuing_system, printed_at=b.now())
    if outcome.fault == "not-configured":
        return None
    audit("ticket.print", "", result=outcome.fault or "printed")
    if outcome.ok:
        return PrintNote(True, t("print.ticket_done"))
    return PrintNote(False, t("print.ticket_failed", reason=print_fault_message(outcome.fault)))


def print_fault_message(fault: str) -> str:
    """The page's wording for a printer fault code (paper out, cover open, …)."""
    key = f"print.fault.{fault}"
    text = t(key)
    return text if text != key else t("print.fault.io-error")
