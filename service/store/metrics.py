"""The ``metric_events`` table (migration ``0010_metrics.sql``) and the store queries behind metrics.

:class:`MetricsTable` is a part of :class:`service.store.store.Store` (a mixin). OCR durations and
signing failures are written here by the process that measured them, so a scrape from another
process (``sohoa metrics``, the kiosk's ``/metrics``) reads them from the store, never from memory.
Nothing personal is stored: a metric name, a short label (a failure's reason class) and a number.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from service.store.db import utcnow

#: Upper bounds (seconds) of the OCR duration histogram's buckets (a page takes seconds on a Pi).
OCR_BUCKETS: tuple[float, ...] = (0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0)
_LABEL_RE = re.compile(r"[A-Za-z0-9_.-]{1,64}")


@dataclass(frozen=True, slots=True)
class Histogram:
    """Cumulative bucket counts (``le`` → count), the sum and the count of a measured value."""

    buckets: tuple[tuple[float, int], ...]
    total: float
    count: int


@dataclass(frozen=True, slots=True)
class StoreMetrics:
    """What the store knows for a scrape (counts only)."""

    documents_by_kind: dict[str, int]
    outbox_by_state: dict[str, int]
    last_delivered_at: float | None  # unix seconds of the newest application ack
    ocr_seconds: Histogram
    signing_failures: dict[str, int]


def _epoch(iso: str | None) -> float | None:
    if not iso:
        return None
    try:
        return datetime.fromisoformat(iso).timestamp()
    except ValueError:
        return None


class MetricsTable:
    """Measurements and the counts a metrics scrape reads (mixed into :class:`Store`)."""

    conn: sqlite3.Connection

    if TYPE_CHECKING:  # provided by Store, the class this one is mixed into
        def transaction(self) -> AbstractContextManager[sqlite3.Connection]:
            """A write transaction (``BEGIN IMMEDIATE``)."""

        def outbox_counts(self) -> dict[str, int]:
            """Outbox rows per state."""

        def last_delivered_at(self) -> str | None:
            """The newest delivery time."""

    def record_ocr_seconds(self, seconds: Iterable[float]) -> None:
        """Record the OCR duration of each page (seconds, one row each)."""
        values = [(float(s), utcnow()) for s in seconds if s >= 0]
        if values:
            with self.transaction() as c:
                c.executemany("INSERT INTO metric_events(name, label, value, at) VALUES ('ocr_seconds', '', ?, ?)",
                              values)

    def record_signing_failure(self, reason: str) -> None:
        """Count one failed signature under ``reason`` (an error class name, never a message)."""
        label = reason if _LABEL_RE.fullmatch(reason) else "other"
        with self.transaction() as c:
            c.execute("INSERT INTO metric_events(name, label, value, at) VALUES ('signing_failure', ?, 1, ?)",
                      (label, utcnow()))

    def _histogram(self, name: str, bounds: Sequence[float]) -> Histogram:
        cols = ", ".join(f"COALESCE(SUM(value <= {b!r}), 0)" for b in bounds)
        row = self.conn.execute(f"SELECT COUNT(*), COALESCE(SUM(value), 0), {cols} FROM metric_events "
                                "WHERE name = ?", (name,)).fetchone()
        return Histogram(tuple((b, int(row[i + 2])) for i, b in enumerate(bounds)), float(row[1]), int(row[0]))

    def oldest_queued_at(self, *, due_before: str | None = None) -> float | None:
        """When the oldest version still to send was queued (unix seconds; None when nothing waits).

        The rows :meth:`count_undelivered` counts with the same ``due_before``.
        """
        sql = "SELECT MIN(created_at) FROM outbox WHERE state IN ('queued', 'sending', 'failed')"
        row = (self.conn.execute(sql).fetchone() if due_before is None
               else self.conn.execute(sql + " AND next_attempt_at < ?", (due_before,)).fetchone())
        return _epoch(row[0] if row is not None else None)

    def store_metrics(self) -> StoreMetrics:
        """Every count a scrape reports, read in one go."""
        kinds = {"component": 0, "result": 0}
        for kind, n in self.conn.execute("SELECT COALESCE(kind, 'component'), count(*) FROM documents GROUP BY 1"):
            kinds[str(kind)] = int(n)
        failures = {str(r[0]): int(r[1]) for r in self.conn.execute(
            "SELECT label, count(*) FROM metric_events WHERE name = 'signing_failure' GROUP BY label")}
        return StoreMetrics(kinds, self.outbox_counts(), _epoch(self.last_delivered_at()),
                            self._histogram("ocr_seconds", OCR_BUCKETS), failures)
