"""Preview of a paper offered for reuse at the desk: its first page image or its PDF.

Only a local paper of the open draft's owner is served; anything else is a 404.
"""

from __future__ import annotations

from flask import Blueprint, Response, abort

from kiosk_ui import security
from kiosk_ui.context import backend, drafts
from service.errors import NotFoundError
from service.usecases import kiosk_desk

bp = Blueprint("reuse_views", __name__)


@bp.get("/d/<draft_id>/<code>/<kind>")
@security.require("officer")
def preview(draft_id: str, code: str, kind: str) -> Response:
    """``kind`` ``page`` (first page image) or ``pdf``, of a paper of this draft's owner."""
    if kind not in ("page", "pdf"):
        abort(404)
    try:
        d = kiosk_desk.get_draft(drafts(), draft_id)
        data, media = backend().reuse_preview(d, code, kind)
    except NotFoundError:
        abort(404)
    resp = Response(data, mimetype=media)
    resp.headers["Cache-Control"] = "private, no-store"
    resp.headers["Content-Disposition"] = "inline"
    return resp
