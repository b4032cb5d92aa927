"""The desk's dossiers after reception: detail, reopen, additional papers (with the slip), result, return.

Every change goes through :mod:`service.usecases.kiosk_dossier` (the lifecycle of
:mod:`service.usecases.dossier`); a refusal of the lifecycle rules is shown in the page's language
from the message catalogue.
"""

from __future__ import annotations

from collections.abc import Callable

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for

from kiosk_ui import security
from kiosk_ui.context import actor, audit, backend, drafts, t
from kiosk_ui.messages import describe
from service.errors import NotFoundError, SohoaError
from service.usecases import kiosk_dossier
from service.usecases.kiosk_desk import Draft
from service.usecases.kiosk_dossier import RESULT_COMPONENT

bp = Blueprint("dossiers", __name__)


@bp.app_template_global("actor_label")
def actor_label(actor: str) -> str:
    """``role:id`` of the history as the page shows it: the role in the page's language, then the id."""
    role, _, ident = actor.partition(":")
    label = t(f"role.{role}")
    return f"{label if label != f'role.{role}' else role} {ident}".strip()


def _back(code: str) -> Response:
    return redirect(url_for("dossiers.detail", code=code))  # type: ignore[return-value]


def _refused(exc: SohoaError, code: str) -> Response:
    flash(t("dossier.refused_msg", message=describe(exc)), "error")
    return _back(code)


@bp.get("/<code>")
@security.require("officer")
def detail(code: str) -> str:
    """Status history (actor, time), documents (component / result, state), and the next steps."""
    b = backend()
    try:
        det = kiosk_dossier.detail(code, drafts(), b.procedures(), paths=b.paths, config=b.config)
    except NotFoundError:
        abort(404)
    return render_template("officer/dossier.html", d=det, draft=None, step="")


def _start(code: str, make: Callable[..., Draft], action: str) -> Draft | Response:
    """A new draft of dossier ``code`` made by ``make`` (the refusal shown on the detail instead)."""
    b = backend()
    try:
        d = make(code, drafts(), security.current().user_id,  # type: ignore[union-attr]
                 paths=b.paths, config=b.config, cat=b.procedures())
    except SohoaError as exc:
        return _refused(exc, code)
    audit(action, d.id)
    return d


@bp.post("/<code>/reopen")
@security.require("officer")
def reopen(code: str) -> Response:
    """Receive more papers for the dossier (e.g. the additional papers asked for)."""
    d = _start(code, kiosk_dossier.reopen, "dossier.reopen")
    if isinstance(d, Response):
        return d
    return redirect(url_for("officer.procedure", draft_id=d.id))  # type: ignore[return-value]


@bp.post("/<code>/result")
@security.require("officer")
def result(code: str) -> Response:
    """Digitize the procedure's result: capture → review → officer then agency signature."""
    d = _start(code, kiosk_dossier.result_draft, "dossier.result_draft")
    if isinstance(d, Response):
        return d
    return redirect(url_for("officer.capture", draft_id=d.id, component=RESULT_COMPONENT))  # type: ignore[return-value]


@bp.post("/<code>/papers")
@security.require("officer")
def papers(code: str) -> Response:
    """Ask for additional papers (yêu cầu bổ sung): the components ticked and the reason."""
    b = backend()
    try:
        kiosk_dossier.request_papers(code, request.form.get("reason", ""), request.form.getlist("component"),
                                     actor(), paths=b.paths, config=b.config)
    except SohoaError as exc:
        return _refused(exc, code)
    audit("dossier.request_papers", code, papers=str(len(request.form.getlist("component"))))
    flash(t("dossier.papers_ok"), "ok")
    return _back(code)


@bp.get("/<code>/papers-slip.pdf")
@security.require("officer")
def papers_slip(code: str) -> Response:
    """The printed slip of the latest additional-papers request (PDF, QR code top-left)."""
    b = backend()
    try:
        pdf = kiosk_dossier.papers_slip_pdf(code, drafts(), b.procedures(), paths=b.paths, config=b.config,
                                            office_name=b.config.identity.office_name,
                                            issuing_system=b.settings.issuing_system,
                                            officer_name=security.current().display_name,  # type: ignore[union-attr]
                                            printed_at=b.now())
    except NotFoundError:
        abort(404)
    audit("dossier.papers_slip", code)
    resp = Response(pdf, mimetype="application/pdf")
    resp.headers["Content-Disposition"] = f'inline; filename="phieu-yeu-cau-bo-sung-{code}.pdf"'
    return resp


@bp.post("/<code>/return")
@security.require("officer")
def return_result(code: str) -> Response:
    """The result was handed back (trả kết quả); refused without a result signed by both."""
    b = backend()
    try:
        kiosk_dossier.return_result(code, actor(), paths=b.paths, config=b.config)
    except SohoaError as exc:
        return _refused(exc, code)
    audit("dossier.return", code)
    flash(t("dossier.returned_ok"), "ok")
    return _back(code)
