"""Technician page: device health, models and versions, queue, last sync, disk, errors, self-test."""

from __future__ import annotations

from flask import Blueprint, Response, abort, jsonify, redirect, render_template, url_for

from kiosk_ui import security
from kiosk_ui.app import audit, backend, t
from kiosk_ui.messages import describe

bp = Blueprint("technician", __name__)


@bp.get("/")
@security.require("technician")
def page() -> str:
    """The health overview (read live on every visit)."""
    return render_template("technician/page.html", health=backend().health(),
                           sessions=security.registry().count())


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
    job = backend().jobs.get(job_id, security.current().sid)  # type: ignore[union-attr]
    if job is None:
        abort(404)
    return render_template("progress.html", job=job, poll_url=url_for("technician.job_state", job_id=job.id),
                           show_result=True)


@bp.get("/jobs/<job_id>.json")
@security.require("technician")
def job_state(job_id: str) -> Response:
    """Job progress as JSON."""
    job = backend().jobs.get(job_id, security.current().sid)  # type: ignore[union-attr]
    if job is None:
        abort(404)
    data = job.to_json()
    data["step_text"] = t(job.step, done=job.done, total=job.total)
    if job.exc is not None:
        data["error"], data["remedy"] = describe(job.exc), ""
    data["result"] = job.result
    return jsonify(data)
