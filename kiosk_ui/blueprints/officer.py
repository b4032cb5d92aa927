"""Officer desk: open dossier → owner → procedure → reuse → capture → review → sign → receipt."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, abort, flash, jsonify, redirect, render_template, request, url_for

from kiosk_ui import security
from kiosk_ui.blueprints.job_views import job_state_json, own_job
from kiosk_ui.capture_views import (
    apply_capture_action,
    capture_context,
    page_response,
    preview_quality_response,
    preview_response,
)
from kiosk_ui.context import actor, audit, backend, camera, drafts, t
from kiosk_ui.messages import describe, reason_of
from service.errors import NotFoundError, SohoaError
from service.usecases import kiosk_desk, kiosk_dossier, kiosk_flow
from service.usecases.kiosk_desk import RESULT_DRAFT, Draft

bp = Blueprint("officer", __name__)
SEARCH_KEYS = ("name", "owner_id", "code", "status", "date_from", "date_to")
STEPS = ("owner", "procedure", "reuse", "capture", "review", "sign", "receipt")
RESULT_STEPS = ("capture", "review", "sign")  # a result draft: the dossier, its owner and procedure are known


@bp.app_template_global("vn_date")
def vn_date(value: str) -> str:
    """An ISO date as the desk shows it (dd/mm/yyyy)."""
    return kiosk_desk.display_value("owner_birth_date", value)


@bp.app_template_global("note_text")
def note_text(note: str) -> str:
    """An extraction note (English reason) in the page's language."""
    return reason_of(note)


def _draft(draft_id: str, *, open_only: bool = True) -> Draft:
    try:
        d = kiosk_desk.get_draft(drafts(), draft_id)
    except NotFoundError:
        abort(404)
    if open_only and d.state != "open":
        abort(409)
    return d


def _go(endpoint: str, **kw: Any) -> Response:
    return redirect(url_for(endpoint, **kw))  # type: ignore[return-value]


def _step_urls(d: Draft) -> dict[str, str]:
    """Where each step of an open dossier can be revisited (the officer goes back to fix things)."""
    if d.state != "open":
        return {}
    urls = {"owner": url_for("officer.owner", draft_id=d.id)} if not d.dossier_code else {}
    if (d.owner_id or d.owner_name) and d.kind != RESULT_DRAFT:
        urls["procedure"] = url_for("officer.procedure", draft_id=d.id)
    if d.components:
        if d.kind != RESULT_DRAFT:
            urls["reuse"] = url_for("officer.reuse", draft_id=d.id)
        first = next((c.code for c in d.components if not c.reuse_code), None)
        if first is not None:
            urls["capture"] = url_for("officer.capture", draft_id=d.id, component=first)
        if all(c.reuse_code or c.pages for c in d.components):  # typed by hand when OCR cannot run
            urls["review"] = url_for("officer.review", draft_id=d.id)
    return urls


def _render(template: str, draft: Draft | None = None, step: str = "", **kw: object) -> str:
    urls = _step_urls(draft) if draft is not None else {}
    steps = RESULT_STEPS if draft is not None and draft.kind == RESULT_DRAFT else STEPS
    return render_template(template, draft=draft, step=step, steps=steps, step_urls=urls, **kw)


@bp.get("/")
@security.require("officer")
def desk() -> str:
    """The desk: start a new dossier, continue an open one, find dossiers (owner name, identifier,
    code, status, dates dd/mm/yyyy) and open one's detail."""
    listed = kiosk_desk.list_drafts(drafts())
    query = kiosk_dossier.DossierQuery(**{k: request.args.get(k, "").strip() for k in SEARCH_KEYS})
    b = backend()
    try:
        rows = kiosk_dossier.search(query, drafts(), b.procedures(), paths=b.paths, config=b.config, limit=50)
    except SohoaError as exc:
        flash(t("dossiers.refused", message=describe(exc)), "error")
        rows = []
    return _render("officer/desk.html", open_drafts=[d for d in listed if d.state == "open"][:20],
                   submitted=[d for d in listed if d.state == "submitted"][:20], rows=rows, query=query,
                   statuses=kiosk_dossier.STATUSES)


@bp.post("/d/<draft_id>/discard")
@security.require("officer")
def discard(draft_id: str) -> Response:
    """Abandon a dossier that was never finalized (its captured images are deleted)."""
    d = _draft(draft_id)
    try:
        withdrawn = backend().discard(d, actor(), request.form.get("reason", ""))
    except SohoaError as exc:
        flash(describe(exc), "error")
        return _go("officer.desk")
    audit("dossier.discard", d.id, **({"withdrawn": withdrawn} if withdrawn else {}))
    flash(t("desk.discarded_withdrawn", code=withdrawn) if withdrawn else t("desk.discarded"), "ok")
    return _go("officer.desk")


@bp.post("/d/<draft_id>/take")
@security.require("officer")
def take(draft_id: str) -> Response:
    """Take over a dossier a citizen scanned at the self-service kiosk."""
    d = _draft(draft_id, open_only=False)
    if d.state != "submitted":
        abort(409)
    kiosk_desk.take_draft(drafts(), d, security.current().user_id)  # type: ignore[union-attr]
    audit("dossier.take", d.id)
    return _go("officer.owner", draft_id=d.id)


@bp.post("/new")
@security.require("officer")
def new() -> Response:
    """Open a new dossier."""
    d = kiosk_desk.open_draft(drafts(), "officer", security.current().user_id)  # type: ignore[union-attr]
    audit("dossier.open", d.id)
    return _go("officer.owner", draft_id=d.id)


@bp.get("/api/validate-id")
@security.require("officer")
def validate_id() -> Response:
    """Live validation of a typed identifier (CCCD, old ID, passport, tax code, organisation)."""
    check = kiosk_desk.check_owner(request.args.get("value", ""))
    params = {**check.params, **({"reason": reason_of(check.params["reason"])} if "reason" in check.params else {})}
    return jsonify({"ok": check.ok, "kind": check.kind, "message": t(check.message_key, **params)})


@bp.route("/d/<draft_id>/owner", methods=["GET", "POST"])
@security.require("officer")
def owner(draft_id: str) -> Response | str:
    """Identify the owner: type the identifier, or scan the ID card's QR (reader types the payload)."""
    d = _draft(draft_id)
    if d.dossier_code:  # received: the owner is the dossier's now
        return _go("officer.procedure", draft_id=d.id)
    error = ""
    if request.method == "POST":
        qr = request.form.get("qr_payload", "").strip()
        try:
            if request.form.get("action") == "qr_camera":
                kiosk_flow.owner_from_qr_image(drafts(), d, kiosk_desk.camera_still(camera()))
                audit("owner.qr_camera", d.id)
            elif qr:
                kiosk_flow.owner_from_qr(drafts(), d, qr)
                audit("owner.qr", d.id)
            else:
                kiosk_desk.set_owner(drafts(), d, request.form.get("owner_id", ""), request.form.get("owner_name", ""),
                                     request.form.get("owner_birth_date", ""))
                audit("owner.typed", d.id)
            return _go("officer.procedure", draft_id=d.id)
        except SohoaError as exc:
            error = t("owner.invalid", reason=describe(exc))
    return _render("officer/owner.html", d, "owner", error=error)


@bp.route("/d/<draft_id>/procedure", methods=["GET", "POST"])
@security.require("officer")
def procedure(draft_id: str) -> Response | str:
    """Choose the field and procedure from the catalogue, tick the components received."""
    d = _draft(draft_id)
    cat = backend().procedures()
    code = request.values.get("procedure") or d.procedure_code
    chosen = None
    if code:
        try:
            chosen = cat.procedure(code)
        except NotFoundError:
            flash(t("procedure.unknown"), "error")
    if request.method == "POST" and chosen is not None and request.form.get("confirm"):
        picked = request.form.getlist("component")
        if not picked:
            flash(t("procedure.none_ticked"), "error")
        else:
            pages = {c: request.form.get(f"pages_{c}", "") for c in picked}
            kiosk_desk.set_procedure(drafts(), d, chosen, picked, pages)
            audit("dossier.procedure", d.id, procedure=chosen.code)
            try:  # received now: the reuse step asks the province under the dossier's code
                code = backend().receive(d, actor())
            except SohoaError as exc:
                flash(t("procedure.not_received", message=describe(exc)), "error")
                return _render("officer/procedure.html", d, "procedure", catalogue=cat, chosen=chosen)
            audit("dossier.received", d.id, dossier=code)
            return _go("officer.reuse", draft_id=d.id)
    return _render("officer/procedure.html", d, "procedure", catalogue=cat, chosen=chosen)


@bp.route("/d/<draft_id>/reuse", methods=["GET", "POST"])
@security.require("officer")
def reuse(draft_id: str) -> Response | str:
    """Offer, per component, the owner's papers of its expected types (own store, then the province or
    its saved answer, with its age) instead of scanning them again; local papers can be previewed."""
    d = _draft(draft_id)
    if request.method == "POST":  # the offers the page showed: local papers and the answers just cached
        offers, _ = backend().reuse_offers(d, offline=True)
        chosen = {c.code: request.form.get(f"reuse_{c.code}", "") for c in d.components}
        try:
            backend().set_reuse(d, chosen, offers)
        except SohoaError:
            flash(t("reuse.not_offered"), "error")
            return _go("officer.reuse", draft_id=d.id)
        audit("dossier.reuse", d.id, reused=str(sum(1 for v in chosen.values() if v)))
        nxt = next((c.code for c in d.components if not c.reuse_code), None)
        if nxt is None:
            return _go("officer.review", draft_id=d.id)
        return _go("officer.capture", draft_id=d.id, component=nxt)
    offers, province = backend().reuse_offers(d, offline=request.args.get("offline") == "1")
    return _render("officer/reuse.html", d, "reuse", candidates=offers, province=province)


@bp.route("/d/<draft_id>/capture/<component>", methods=["GET", "POST"])
@security.require("officer")
def capture(draft_id: str, component: str) -> Response | str:
    """Capture one component's pages with the live preview and page counter."""
    d = _draft(draft_id)
    try:
        comp = d.component(component)
    except NotFoundError:
        abort(404)
    if request.method == "POST":
        apply_capture_action(d, component, request.form, request.files)
        return _go("officer.capture", draft_id=d.id, component=component)
    todo = [c for c in d.components if not c.reuse_code]
    idx = next(i for i, c in enumerate(todo) if c.code == component) if comp in todo else 0
    nxt = todo[idx + 1].code if idx + 1 < len(todo) else None
    if nxt is not None:
        next_step = {"url": url_for("officer.capture", draft_id=d.id, component=nxt), "post": False,
                     "label": t("capture.next_component"), "testid": "next-component"}
    else:
        next_step = {"url": url_for("officer.extract", draft_id=d.id), "post": True,
                     "label": t("capture.to_review"), "testid": "to-review"}
    return _render("officer/capture.html", d, "capture", comp=comp, todo=todo, next_step=next_step,
                   page_url=lambda sha: url_for("officer.page", draft_id=d.id, sha=sha),
                   preview_url=url_for("officer.preview"), qc_url=url_for("officer.preview_quality"),
                   **capture_context(comp))


@bp.get("/camera/quality.json")
@security.require("officer")
def preview_quality() -> Response:
    """Live quality control of the preview frame (the capture screen polls it)."""
    return preview_quality_response()


@bp.get("/camera/preview.jpg")
@security.require("officer")
def preview() -> Response:
    """Live preview frame of the desk camera."""
    return preview_response()


@bp.get("/d/<draft_id>/page/<sha>")
@security.require("officer")
def page(draft_id: str, sha: str) -> Response:
    """A captured page image (thumbnail and full view)."""
    return page_response(_draft(draft_id, open_only=False), sha)


@bp.post("/d/<draft_id>/extract")
@security.require("officer")
def extract(draft_id: str) -> Response:
    """Run OCR + extraction for the captured components in the background, then review."""
    d = _draft(draft_id)
    missing = [c.name for c in d.components if not c.reuse_code and not c.pages]
    if missing:
        flash(t("capture.missing_pages", names=", ".join(missing)), "error")
        first = next(c.code for c in d.components if not c.reuse_code and not c.pages)
        return _go("officer.capture", draft_id=d.id, component=first)
    sid = security.current().sid  # type: ignore[union-attr]
    b = backend()  # bound now: the job runs outside the request
    job = b.jobs.submit(sid, "extract", url_for("officer.review", draft_id=d.id),
                        lambda progress: b.extract(d.id, progress),
                        retry_url=url_for("officer.review", draft_id=d.id), retry_label="job.manual")
    audit("extract.start", d.id)
    return _go("officer.progress", job_id=job.id)


@bp.route("/d/<draft_id>/review", methods=["GET", "POST"])
@security.require("officer")
def review(draft_id: str) -> Response | str:
    """Review extracted fields: low-confidence ones highlighted, manual entry for the rest."""
    d = _draft(draft_id)
    if request.method == "POST":
        try:
            changed = backend().apply_review(d, request.form, actor())
        except SohoaError as exc:
            flash(describe(exc), "error")
            return _go("officer.review", draft_id=d.id)
        audit("review.save", d.id, corrected=str(changed))
        return _go("officer.sign", draft_id=d.id)
    return _render("officer/review.html", d, "review", fields=backend().review_rows(d),
                   checks=kiosk_desk.consistency_checks(d), date_fields=kiosk_desk.DATE_FIELDS,
                   page_url=lambda sha: url_for("officer.page", draft_id=d.id, sha=sha))


@bp.get("/d/<draft_id>/sign")
@security.require("officer")
def sign(draft_id: str) -> str:
    """Confirm with the card PIN."""
    d = _draft(draft_id)
    return _render("officer/sign.html", d, "sign", checks=kiosk_desk.consistency_checks(d),
                   result=d.kind == RESULT_DRAFT)


@bp.post("/d/<draft_id>/sign")
@security.require("officer")
def sign_post(draft_id: str) -> Response:
    """Digitize, sign with the officer's card, store and queue every component (background job)."""
    d = _draft(draft_id)
    pin = request.form.get("pin", "")
    if not pin.isdigit():
        flash(t("auth.pin_format"), "error")
        return _go("officer.sign", draft_id=d.id)
    checks = kiosk_desk.consistency_checks(d)  # checked before the PIN reaches the card
    if any(c.level == "fix" for c in checks):
        flash(t("check.fix_needed"), "error")
        return _go("officer.review", draft_id=d.id)
    if any(c.ack for c in checks) and not request.form.get("ack"):
        flash(t("check.ack_needed"), "error")
        return _go("officer.sign", draft_id=d.id)
    me = security.current()
    assert me is not None
    b = backend()  # bound now: the job runs outside the request
    done_url = url_for("dossiers.detail", code=d.dossier_code) if d.kind == RESULT_DRAFT \
        else url_for("officer.receipt", draft_id=d.id)
    job = b.jobs.submit(me.sid, "sign", done_url,
                        lambda progress: b.finalize(d.id, pin, me.display_name, me.user_id, progress),
                        retry_url=url_for("officer.sign", draft_id=d.id))
    audit("sign.start", d.id)
    return _go("officer.progress", job_id=job.id)


@bp.get("/jobs/<job_id>")
@security.require("officer")
def progress(job_id: str) -> str:
    """A progress page that polls the job and moves on when it ends."""
    job = own_job(job_id)
    return _render("progress.html", job=job, poll_url=url_for("officer.job_state", job_id=job.id))


@bp.get("/jobs/<job_id>.json")
@security.require("officer")
def job_state(job_id: str) -> Response:
    """Progress of a background job (only its own session sees it)."""
    data = job_state_json(own_job(job_id))
    return jsonify(data)


@bp.get("/d/<draft_id>/receipt")
@security.require("officer")
def receipt(draft_id: str) -> str:
    """The receipt summary with the result codes and the printable PDF."""
    d = _draft(draft_id, open_only=False)
    if d.state != "finalized":
        abort(409)
    status = kiosk_flow.dossier_status(drafts(), backend().paths, d.dossier_code)
    return _render("officer/receipt.html", d, "receipt", status=status)


@bp.get("/d/<draft_id>/status.json")
@security.require("officer")
def status(draft_id: str) -> Response:
    """Live store/sync state of the dossier's documents (the receipt screen polls it)."""
    d = _draft(draft_id, open_only=False)
    st = kiosk_flow.dossier_status(drafts(), backend().paths, d.dossier_code) if d.state == "finalized" else None
    docs = {code: f"{t('state.' + s.state)} · {t('delivery.' + s.delivery)}"
            for code, s in (st.documents.items() if st else [])}
    return jsonify({"overall": t("dossier." + st.overall) if st else "", "documents": docs})


@bp.get("/d/<draft_id>/receipt.pdf")
@security.require("officer")
def receipt_pdf(draft_id: str) -> Response:
    """The phiếu tiếp nhận as PDF with the QR code at the top-left."""
    d = _draft(draft_id, open_only=False)
    if d.state != "finalized":
        abort(409)
    audit("receipt.print", d.id)
    resp = Response(kiosk_desk.receipt_pdf(d, office_name=backend().config.identity.office_name,
                                            issuing_system=backend().settings.issuing_system,
                                            printed_at=backend().now()), mimetype="application/pdf")
    resp.headers["Content-Disposition"] = f'inline; filename="phieu-tiep-nhan-{d.dossier_code}.pdf"'
    return resp


@bp.route("/catalogue", methods=["GET", "POST"])
@security.require("officer")
def catalogue() -> Response | str:
    """Supervisors import the procedure catalogue (JSON or CSV); a bad file changes nothing."""
    if security.current().role != "supervisor":  # type: ignore[union-attr]
        abort(403)
    if request.method == "POST":
        upload = request.files.get("file")
        if upload is None or not upload.filename:
            flash(t("catalogue.no_file"), "error")
        else:
            try:
                cat = kiosk_desk.import_procedures(upload.read(), upload.filename, backend().kiosk_home)
                flash(t("catalogue.imported", n=sum(len(f.procedures) for f in cat.fields)), "ok")
                audit("catalogue.import", "", procedures=str(sum(len(f.procedures) for f in cat.fields)))
            except SohoaError as exc:
                flash(t("catalogue.refused", message=exc.message), "error")
                audit("catalogue.refused", "")
        return _go("officer.catalogue")
    return _render("officer/catalogue.html", catalogue=backend().procedures())
