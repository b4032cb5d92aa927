"""Citizen self-service: scan one's own papers into a dossier, look up a dossier's status.

A citizen session is anonymous and short: it sees only the draft it created (one procedure,
several papers per ticket), the status lookup shows the lifecycle status in plain words and
dates but no names or identifiers, and an idle timeout (enforced by the server; the page warns
first, "Bạn cần thêm thời gian?", in ``static/citizen.js``) ends the session and discards an
unsent draft. Officer tools are not shown on citizen pages.
"""

from __future__ import annotations

import json
import secrets
from typing import Any

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for

from kiosk_ui import security
from kiosk_ui.blueprints.devices import print_ticket
from kiosk_ui.capture_views import (
    apply_capture_action,
    capture_context,
    page_response,
    preview_quality_response,
    preview_response,
)
from kiosk_ui.context import audit, backend, camera, drafts, t
from service.errors import NotFoundError, SohoaError
from service.usecases import kiosk_desk, kiosk_flow
from service.usecases.citizen_status import citizen_status
from service.usecases.kiosk_desk import Draft

bp = Blueprint("citizen", __name__)


def _go(endpoint: str, **kw: Any) -> Response:
    return redirect(url_for(endpoint, **kw))  # type: ignore[return-value]


def _own_draft() -> Draft:
    """The draft of this citizen session (never anyone else's)."""
    s = security.current()
    draft_id = s.data.get("draft") if s is not None else None
    if not draft_id:
        abort(404)
    try:
        d = kiosk_desk.get_draft(drafts(), draft_id)
    except NotFoundError:
        abort(404)
    if d.kind != "citizen" or d.created_by != f"citizen:{s.data.get('owner')}":  # type: ignore[union-attr]
        abort(403)
    return d


@bp.get("/")
def start() -> str:
    """The start screen (also where an idle timeout lands)."""
    s = security.current()
    reason = request.args.get("expired") or request.args.get("idle")
    return render_template("citizen/start.html", active=s is not None and s.role == "citizen", ended=bool(reason))


@bp.post("/begin")
def begin() -> Response:
    """Start an anonymous citizen session for scanning or for a status lookup."""
    mode = request.form.get("mode", "lookup")
    s = security.sign_in("citizen", "kiosk", t("role.citizen"))
    audit("citizen.begin", "", mode=mode)
    if mode == "scan":
        s.data["owner"] = secrets.token_hex(8)  # ties the draft to this session without storing the sid
        d = kiosk_desk.open_draft(drafts(), "citizen", f"citizen:{s.data['owner']}")
        s.data["draft"] = d.id
        return _go("citizen.scan")
    return _go("citizen.lookup")


@bp.route("/scan", methods=["GET", "POST"])
@security.require("citizen")
def scan() -> Response | str:
    """Pick one procedure and the papers to hand in (several per ticket), then capture each."""
    d = _own_draft()
    cat = backend().procedures()
    if request.method == "POST":
        picks = [v.partition("|") for v in request.form.getlist("pick")]
        procs = {p for p, _, _ in picks}
        captured = {c.code for c in d.components if c.pages}
        if not picks:
            flash(t("citizen.pick_none"), "error")
            return _go("citizen.scan")
        if len(procs) > 1 or (captured and d.procedure_code not in procs):
            flash(t("citizen.one_procedure"), "error")  # a ticket is one dossier: one procedure
            return _go("citizen.scan")
        try:
            proc = cat.procedure(procs.pop())
            codes = [proc.component(code).code for _, _, code in picks]
            kiosk_desk.set_procedure(drafts(), d, proc, sorted(set(codes) | captured), {})
        except SohoaError:
            flash(t("citizen.pick_unknown"), "error")
            return _go("citizen.scan")
        audit("citizen.pick", d.id, papers=str(len(d.components)))
        first = next((c for c in d.components if not c.pages), d.components[0])
        return _go("citizen.capture", component=first.code)
    chosen = {c.code for c in d.components}
    return render_template("citizen/scan.html", draft=d, catalogue=cat, chosen=chosen)


@bp.route("/capture/<component>", methods=["GET", "POST"])
@security.require("citizen")
def capture(component: str) -> Response | str:
    """Capture the citizen's own pages (same rules and feedback as at the desk)."""
    d = _own_draft()
    try:
        comp = d.component(component)
    except NotFoundError:
        abort(404)
    if request.method == "POST":
        apply_capture_action(d, component, request.form, request.files)
        return _go("citizen.capture", component=component)
    next_step = {"url": url_for("citizen.submit"), "post": True, "label": t("citizen.submit"),
                 "testid": "citizen-submit"}
    return render_template("citizen/capture.html", draft=d, comp=comp, next_step=next_step,
                           page_url=lambda sha: url_for("citizen.page", sha=sha),
                           preview_url=url_for("citizen.preview"), qc_url=url_for("citizen.preview_quality"),
                           **capture_context(comp))


@bp.get("/camera/quality.json")
@security.require("citizen")
def preview_quality() -> Response:
    """Live quality control of the citizen's preview frame."""
    return preview_quality_response()


@bp.get("/camera/preview.jpg")
@security.require("citizen")
def preview() -> Response:
    """Live preview for the citizen."""
    return preview_response()


@bp.get("/page/<sha>")
@security.require("citizen")
def page(sha: str) -> Response:
    """One of the citizen's own captured pages."""
    return page_response(_own_draft(), sha)


@bp.post("/submit")
@security.require("citizen")
def submit() -> Response | str:
    """Hand the scanned papers to the desk; the citizen gets the draft's ticket number."""
    d = _own_draft()
    if not any(c.pages for c in d.components):
        flash(t("citizen.nothing_scanned"), "error")
        return _go("citizen.scan")
    kiosk_desk.submit_draft(drafts(), d)
    audit("citizen.submit", d.id, papers=str(sum(1 for c in d.components if c.pages)))
    ticket = d.id[:6].upper()
    papers = [c.name for c in d.components if c.pages]
    security.sign_out()
    return render_template("citizen/submitted.html", ticket=ticket, papers=papers, printed=print_ticket(ticket))


@bp.post("/alive")
@security.require("citizen")
def alive() -> Response:
    """The citizen answered "Bạn cần thêm thời gian?": the session's idle time starts again (nothing else)."""
    return Response(status=204)


def _code_from(text: str) -> str:
    """A dossier code typed, or read from a receipt QR (JSON payload) by the QR reader."""
    text = text.strip()
    if text.startswith("{"):
        try:
            data = json.loads(text)
        except json.JSONDecodeError:
            return ""
        value = data.get("ma_ho_so") if isinstance(data, dict) else None
        return value if isinstance(value, str) else ""
    return text


@bp.route("/lookup", methods=["GET", "POST"])
@security.require("citizen")
def lookup() -> str:
    """Status by dossier code (on-screen keypad, QR reader) or receipt QR under the camera: the
    lifecycle status in plain words and dates only, no personal data."""
    status = None
    asked = False
    no_qr = False
    if request.method == "POST":
        asked = True
        text = request.form.get("code", "")
        if request.form.get("action") == "camera":
            try:
                text = next(iter(kiosk_flow.qr_texts(kiosk_desk.camera_still(camera()))), "")
            except SohoaError:
                text, no_qr = "", True
        code = _code_from(text)
        b = backend()
        status = citizen_status(code, drafts=drafts(), paths=b.paths, catalogue=b.procedures()) if code else None
        audit("citizen.lookup", "", found="yes" if status else "no")
    return render_template("citizen/lookup.html", status=status, asked=asked and not no_qr, no_qr=no_qr,
                           unit_code=backend().config.identity.unit_code)


@bp.route("/end", methods=["GET", "POST"])
def end() -> Response:
    """End the citizen session (button or idle timer) and discard an unsent draft."""
    s = security.current()
    if s is not None and s.role == "citizen":
        audit("citizen.end", "", reason=request.values.get("reason", "button"))
        closed = security.sign_out()
        if closed is not None:
            backend().discard_unsent(closed)
    return _go("citizen.start", idle="1" if request.values.get("reason") == "idle" else "")
