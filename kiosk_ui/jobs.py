"""Long steps (OCR, signing, sync, self-test) run in one background worker; pages poll progress."""

from __future__ import annotations

import logging
import secrets
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from service.errors import SohoaError
from service.usecases.progress import Progress

log = logging.getLogger("sohoa.kiosk.jobs")



@dataclass
class Job:
    """One background job's visible state; only its owner session may read it."""

    id: str
    owner_sid: str
    kind: str
    done_url: str
    retry_url: str = ""
    retry_label: str = "job.retry"
    step: str = "job.queued"
    done: int = 0
    total: int = 1
    state: str = "running"  # running | ok | failed
    error: str = ""
    remedy: str = ""
    result: dict[str, str] = field(default_factory=dict)
    exc: SohoaError | None = None  # the typed failure, worded by the page in the user's language

    def to_json(self) -> dict[str, object]:
        """What the progress page polls."""
        return {"id": self.id, "state": self.state, "step": self.step, "done": self.done, "total": self.total,
                "error": self.error, "remedy": self.remedy, "done_url": self.done_url, "retry_url": self.retry_url}


class JobRunner:
    """A single worker thread: the box has few cores and one card reader."""

    def __init__(self) -> None:
        """Start with no jobs."""
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="kiosk-job")
        self._jobs: dict[str, Job] = {}
        self._lock = threading.Lock()
        self.failed_at = 0.0  # time.monotonic() of the last job that failed (0: none yet)

    def running(self) -> bool:
        """Whether a job is queued or running (the panel's "working" light)."""
        with self._lock:
            return any(j.state == "running" for j in self._jobs.values())

    def submit(self, owner_sid: str, kind: str, done_url: str,
               work: Callable[[Progress], dict[str, str] | None], retry_url: str = "",
               retry_label: str = "job.retry") -> Job:
        """Queue ``work``; it reports progress through the callback it is given.

        ``done_url`` is where the page goes when the job succeeds, ``retry_url`` where the
        user goes back to after a failure (the step that started it).
        """
        job = Job(secrets.token_hex(8), owner_sid, kind, done_url, retry_url or done_url, retry_label)
        with self._lock:
            self._jobs[job.id] = job

        def progress(step: str, done: int, total: int) -> None:
            job.step, job.done, job.total = step, done, max(total, 1)

        def run() -> None:
            try:
                job.result = work(progress) or {}
                job.step, job.done, job.state = "job.done", job.total, "ok"
            except SohoaError as exc:
                job.error, job.remedy, job.exc, job.state = exc.message, exc.remedy or "", exc, "failed"
                log.warning("job %s (%s) failed: %s", job.id, kind, type(exc).__name__)
                self.failed_at = time.monotonic()
            except Exception:  # an unexpected fault must still end the job visibly
                log.exception("job %s (%s) crashed", job.id, kind)
                job.error, job.state = "internal error", "failed"
                self.failed_at = time.monotonic()

        self._pool.submit(run)
        return job

    def get(self, job_id: str, owner_sid: str) -> Job | None:
        """The job if it exists and belongs to ``owner_sid``."""
        with self._lock:
            job = self._jobs.get(job_id)
        return job if job is not None and job.owner_sid == owner_sid else None

    def shutdown(self) -> None:
        """Stop accepting work and wait for the running job."""
        self._pool.shutdown(wait=True)
