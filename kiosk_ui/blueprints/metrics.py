"""``GET /metrics``: the box's Prometheus metrics, for a scraper on the box itself or a signed-in technician.

A request from loopback (the local Prometheus agent / node exporter textfile job) is answered;
from anywhere else only a session whose role may use the technician area is; others get 403
(audited like every refusal). The values come from the use case, read from the store on each scrape.
"""

from __future__ import annotations

from flask import Blueprint, Response, abort, request

from kiosk_ui import security
from kiosk_ui.context import backend
from service.usecases import metrics as metrics_uc

bp = Blueprint("metrics", __name__)
LOOPBACK = frozenset({"127.0.0.1", "::1"})


def allowed() -> bool:
    """Loopback peer, or a signed-in technician (or supervisor)."""
    if request.remote_addr in LOOPBACK:
        return True
    me = security.current()
    return me is not None and me.role in security.AREA_ROLES["technician"]


@bp.get("/metrics")
def scrape() -> Response:
    """Prometheus text exposition (format 0.0.4)."""
    if not allowed():
        abort(403)
    body = metrics_uc.exposition(backend().paths, backend().config)
    return Response(body, status=200, content_type=metrics_uc.CONTENT_TYPE)
