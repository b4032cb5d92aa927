"""Technician page: device health, models and versions, queue, last sync, disk, errors, self-test."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify, redirect, render_template, url_for

from kiosk_ui import security
from kiosk_ui.blueprints.job_views import job_state_json, own_job
from kiosk_ui.context import audit, backend, camera
from service.usecases import kiosk_tech

bp = Blueprint("technician", __name__)


@bp.get("/")
@security.require("technician")
def page() -> str:
    """The health overview (read live on every visit)."""
    health = kiosk_tech.health(backend().paths, backend().config, camera())
    return render_template("technician/page.html", health=health, sessions=security.registry().count())


@bp.post("/selftest")
@security.require("technician")
def selftest() -> Response:
    """Run the self-test in the background and show its progress."""
    me = security.current()
    assert me is not None
    job = backend().jobs.submit(me.sid, "selftest", url_for("technician.page"), backend().self_test)
    audit("selftest.start", "")
    return redirect(url_for("technician.progress", job_id=job.id))  # type: ignore[return-value]


@bp.get("/jobs/<job_id>")
@security.require("technician")
def progress(job_id: str) -> str:
    """Self-test progress, then its results."""
    job = own_job(job_id)
    return render_template("progress.html", job=job, poll_url=url_for("technician.job_state", job_id=job.id),
                           show_result=True)


@bp.get("/jobs/<job_id>.json")
@security.require("technician")
def job_state(job_id: str) -> Response:
    """Job progress as JSON."""
    job = own_job(job_id)
    data = job_state_json(job)
    data["result"] = job.result
    return jsonify(data)
