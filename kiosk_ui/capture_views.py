"""The capture panel shared by the officer desk and the citizen kiosk.

Sources chosen per capture: the desk camera (capture, sticky-note re-capture of a chosen page,
retake), the document scanner (ADF, simplex or duplex) and file upload (an image or a PDF of
scans); then reorder and delete. Also the live preview and its quality verdict (polled by the page).
"""

from __future__ import annotations

from collections.abc import Mapping

from flask import Response, abort, flash, jsonify
from werkzeug.datastructures import FileStorage

from kiosk_ui.context import audit, camera, drafts, lang, scanner, t
from kiosk_ui.i18n import catalogue, error_text
from kiosk_ui.messages import describe
from service.errors import DeviceError, NotFoundError
from service.usecases import kiosk_capture, kiosk_desk
from service.usecases.kiosk_capture import CaptureSources, ScannerFault
from service.usecases.kiosk_desk import CaptureFeedback, Draft, DraftComponent


def _index(text: str) -> int | None:
    """A 0-based page position from a form field ("" = none)."""
    return int(text) if text.strip() else None


def feedback_text(text: str) -> str:
    """A capture, quality or driver feedback text in the page's language, from the message catalogue
    (an ``errtext.*`` entry whose ``match`` fits it); a text the catalogue does not know is never
    shown on a Vietnamese page as it came: the generic refusal replaces it."""
    found = error_text(text, lang())
    if found is not None:
        return found
    return text if lang() == "en" else t("capture.feedback_unknown")


def _flash_feedback(fb: CaptureFeedback, n: int | None = None) -> bool:
    """Flash what became of one image (``n``: its number in a scan or upload batch); True if accepted."""
    prefix = t("capture.batch_page", n=n) if n is not None else ""
    if fb.accepted:
        if fb.blank and fb.side == "back":
            flash(prefix + t("capture.blank_back"), "warn")
        elif fb.blank:
            flash(prefix + t("capture.blank", dpi=f"{fb.dpi:.0f}"), "warn")
        elif n is None:
            flash(t("capture.ok", dpi=f"{fb.dpi:.0f}"), "ok")
        for warning in fb.warnings:  # live quality control: accepted, but worth a retake
            flash(prefix + t("capture.warning", message=feedback_text(warning)), "warn")
        return True
    if fb.kind == "quality":
        text = t("capture.refused_quality", message="; ".join(map(feedback_text, fb.problems)) or t("capture.qc_rules"),
                 remedy=t("capture.qc_remedy"))
    elif fb.kind == "unreadable":
        key = f"capture.unreadable_{fb.reason}"
        text = t("capture.refused_unreadable", message=t(key if key in catalogue() else "capture.unreadable_corrupt"),
                 remedy=t("capture.unreadable_remedy"))
    else:
        key = f"capture.refused_{fb.kind}"
        text = t(key if key in catalogue() else "capture.refused_other", message=feedback_text(fb.message))
    flash(prefix + text, "error")
    return False


def _flash_batch(feedbacks: tuple[CaptureFeedback, ...]) -> tuple[int, int, int]:
    """Flash a scan or upload batch: a summary line, then each refused or noteworthy page."""
    single = len(feedbacks) == 1
    results = [_flash_feedback(fb, None if single else i + 1) for i, fb in enumerate(feedbacks)]
    backs = sum(1 for fb in feedbacks if fb.accepted and fb.blank and fb.side == "back")
    added = sum(results) - backs
    refused = len(results) - sum(results)
    if not single:
        flash(t("capture.batch", added=added, backs=backs, refused=refused), "ok" if not refused else "warn")
    return added, backs, refused


def _scanner_fault(exc: ScannerFault, kept: int) -> None:
    """Flash a scanner fault in Vietnamese with its remedy (and the pages kept before it)."""
    key = f"scanner.{exc.kind}"
    flash(t(key if key in catalogue() else "scanner.other") + (" " + t("scanner.kept", n=kept) if kept else ""),
          "error")


def apply_capture_action(draft: Draft, component: str, form: Mapping[str, str],
                         files: Mapping[str, FileStorage] | None = None) -> None:
    """Carry out one button of the capture panel and flash the feedback to show next."""
    action = form.get("action", "")
    name, _, arg = action.partition(":")
    try:
        if name in ("capture", "sticky", "retake"):
            target = _index(form.get("sticky_page", "")) if name == "sticky" else None
            fb = kiosk_capture.from_camera(drafts(), camera(), draft, component, sticky=name == "sticky",
                                           sticky_index=target, replace_index=int(arg) if name == "retake" else None)
            accepted = _flash_feedback(fb)
            audit(f"capture.{name}" if accepted else "capture.refused", draft.id, component=component)
        elif name == "scan":
            outcome = kiosk_capture.from_scanner(drafts(), scanner(), draft, component,
                                                 duplex=form.get("duplex") == "1")
            added, backs, refused = _flash_batch(outcome.pages) if outcome.pages else (0, 0, 0)
            if outcome.fault is not None:
                _scanner_fault(outcome.fault, len(outcome.pages))
            audit("capture.scan", draft.id, component=component, added=str(added), blank_backs=str(backs),
                  refused=str(refused), fault=outcome.fault.kind if outcome.fault else "")
        elif name == "upload":
            upload = (files or {}).get("file")
            if upload is None or not upload.filename:
                flash(t("capture.upload_none"), "error")
                return
            added, backs, refused = _flash_batch(kiosk_capture.from_upload(drafts(), draft, component, upload.read()))
            audit("capture.upload", draft.id, component=component, added=str(added), refused=str(refused))
        elif name in ("up", "down"):
            kiosk_desk.move_page(drafts(), draft, component, int(arg), -1 if name == "up" else 1)
            audit("capture.reorder", draft.id, component=component)
        elif name == "delete":
            kiosk_desk.delete_page(drafts(), draft, component, int(arg))
            flash(t("capture.deleted"), "ok")
            audit("capture.delete", draft.id, component=component)
        else:
            abort(400)
    except ValueError:
        abort(400)
    except ScannerFault as exc:
        _scanner_fault(exc, 0)
        audit("capture.device_error", draft.id, device="scanner", fault=exc.kind)
    except DeviceError as exc:
        flash(t("capture.device", message=describe(exc)), "error")
        audit("capture.device_error", draft.id)
    except NotFoundError:
        abort(404)


def capture_context(comp: DraftComponent) -> dict[str, object]:
    """What ``_capture.html`` needs besides the URLs: sources, page rows, sticky-note targets."""
    sources: CaptureSources = kiosk_capture.capture_sources(camera(), scanner())
    rows = page_rows(comp)
    targets = [r for r in rows if not r["page"].sticky_of and r["page"].counted  # type: ignore[attr-defined]
               and not any(q.sticky_of == r["page"].sha256 for q in comp.pages)]  # type: ignore[attr-defined]
    return {"sources": sources, "page_rows": lambda _c: rows, "sticky_targets": targets,
            "upload_mb": f"{drafts().capture.upload_max_bytes / 1024 / 1024:.0f}"}


def page_rows(comp: DraftComponent) -> list[dict[str, object]]:
    """The page strip: each page with its paper page number (a sticky-note capture shares its page's;
    a blank back shares its front's and is not counted)."""
    numbers: list[int] = []
    rows: list[dict[str, object]] = []
    n = 0
    for p in comp.pages:
        if p.counted:
            n += 1
        numbers.append(n)
    by_sha = {p.sha256: numbers[i] for i, p in enumerate(comp.pages) if p.sticky_of is None}
    for i, p in enumerate(comp.pages):
        rows.append({"i": i, "page": p, "n": by_sha.get(p.sticky_of, 0) if p.sticky_of else max(numbers[i], 1)})
    return rows


def preview_response() -> Response:
    """The live preview frame as JPEG (never cached)."""
    try:
        data = kiosk_desk.preview_jpeg(camera())
    except DeviceError:
        return Response(status=503)
    resp = Response(data, mimetype="image/jpeg")
    resp.headers["Cache-Control"] = "no-store"
    return resp


def preview_quality_response() -> Response:
    """The live quality verdict on the preview frame: ``{"ok", "problems": [{kind, severity, message}]}``."""
    try:
        q = kiosk_capture.preview_quality(drafts(), camera())
    except DeviceError:
        resp = jsonify({"ok": False, "offline": True, "problems": []})
        resp.status_code = 503
        return resp
    resp = jsonify({"ok": q.ok, "offline": False, "ok_text": t("capture.qc_ok"),
                    "problems": [{"kind": p.kind, "severity": p.severity, "message": feedback_text(p.message)}
                                 for p in q.problems]})
    resp.headers["Cache-Control"] = "no-store"
    return resp


def page_response(draft: Draft, sha256: str) -> Response:
    """One captured page image of ``draft``."""
    try:
        data, media = kiosk_desk.page_image(drafts(), draft, sha256)
    except NotFoundError:
        abort(404)
    resp = Response(data, mimetype=media)
    resp.headers["Cache-Control"] = "private, max-age=300"
    return resp
