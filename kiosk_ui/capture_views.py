"""The capture panel shared by the officer desk and the citizen kiosk: capture, sticky, retake, reorder."""

from __future__ import annotations

from collections.abc import Mapping

from flask import Response, abort, flash

from kiosk_ui.context import audit, camera, drafts, t
from service.errors import DeviceError, NotFoundError
from service.usecases import kiosk_desk
from service.usecases.kiosk_desk import Draft, DraftComponent


def apply_capture_action(draft: Draft, component: str, form: Mapping[str, str]) -> None:
    """Carry out one button of the capture panel and flash the feedback to show next."""
    action = form.get("action", "")
    name, _, arg = action.partition(":")
    try:
        if name in ("capture", "sticky", "retake"):
            index = int(arg) if name == "retake" else None
            fb = kiosk_desk.capture_page(drafts(), camera(), draft, component, sticky=name == "sticky",
                                         replace_index=index)
            if not fb.accepted:
                flash(t("capture.refused_" + fb.kind, message=fb.message, remedy=fb.remedy), "error")
                audit("capture.refused", draft.id, component=component)
                return
            key = "capture.blank" if fb.blank else "capture.ok"
            flash(t(key, dpi=f"{fb.dpi:.0f}"), "warn" if fb.blank else "ok")
            for warning in fb.warnings:  # live quality control: accepted, but worth a retake
                flash(warning, "warn")
            audit(f"capture.{name}", draft.id, component=component)
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
    except DeviceError as exc:
        flash(t("capture.device", message=exc.message), "error")
        audit("capture.device_error", draft.id)
    except NotFoundError:
        abort(404)


def page_rows(comp: DraftComponent) -> list[dict[str, object]]:
    """The page strip: each page with its paper page number (a sticky-note capture shares its page's)."""
    numbers: dict[str, int] = {}
    rows: list[dict[str, object]] = []
    for p in comp.pages:
        if p.sticky_of is None:
            numbers[p.sha256] = len(numbers) + 1
    for i, p in enumerate(comp.pages):
        n = numbers.get(p.sticky_of or p.sha256, 0)
        rows.append({"i": i, "page": p, "n": n})
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


def page_response(draft: Draft, sha256: str) -> Response:
    """One captured page image of ``draft``."""
    try:
        data, media = kiosk_desk.page_image(drafts(), draft, sha256)
    except NotFoundError:
        abort(404)
    resp = Response(data, mimetype=media)
    resp.headers["Cache-Control"] = "private, max-age=300"
    return resp
