"""Shared pieces of the progress views: a session's own background job and its JSON state."""

from __future__ import annotations

from typing import Any

from flask import abort

from kiosk_ui import security
from kiosk_ui.context import backend, t
from kiosk_ui.jobs import Job
from kiosk_ui.messages import describe


def own_job(job_id: str) -> Job:
    """The job ``job_id`` if it belongs to the current session; 404 otherwise."""
    job = backend().jobs.get(job_id, security.current().sid)  # type: ignore[union-attr]
    if job is None:
        abort(404)
    return job


def job_state_json(job: Job) -> dict[str, Any]:
    """A job's progress for the polling page: its state, localized step text and any error."""
    data = job.to_json()
    data["step_text"] = t(job.step, done=job.done, total=job.total)
    if job.exc is not None:
        data["error"], data["remedy"] = describe(job.exc), ""
    return data
