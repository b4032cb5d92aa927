"""The narrow interface the sync worker needs from the device store (its outbox)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol


@dataclass(frozen=True, slots=True)
class PendingUpload:
    """One upload the worker owes: a document version (its current PDF) waiting to reach the province.

    The sync room's view of a store :class:`service.store.types.OutboxRow` (id, version, attempts).
    """

    outbox_id: int
    document_id: str
    pdf_sha256: str
    attempts: int = 0


@dataclass(frozen=True, slots=True)
class DocumentPayload:
    """What the manifest says about a document, plus where its PDF lies on disk."""

    name: str  # TenGiayTo
    file_path: Path
    file_name: str
    created: str  # yyyyMMddHHmmss
    result_code: str | None = None
    number_symbol: str | None = None
    procedure_code: str | None = None
    dossier_code: str | None = None
    kind: str = "1"
    metadata: dict[str, str | int] = field(default_factory=dict)


class OutboxSource(Protocol):
    """Device store operations used by the sync worker (implemented over the spine's Store)."""

    def pending(self, limit: int, now: float) -> list[PendingUpload]:
        """Rows in state queued/sending whose ``next_attempt_at`` is due, oldest first."""
        ...

    def load(self, item: PendingUpload) -> DocumentPayload:
        """Manifest fields and the file of one row (raises ``NotFoundError``/``StoreError``)."""
        ...

    def mark_progress(self, item: PendingUpload) -> None:
        """Row is being sent (state ``sending``, attempts + 1)."""
        ...

    def mark_retry(self, item: PendingUpload, error: str, next_attempt_at: float) -> None:
        """Not delivered this time; try again at ``next_attempt_at`` (state back to queued)."""
        ...

    def mark_delivered(self, document_id: str, sha256: str) -> int:
        """The gateway's ack arrived: every row of this version is delivered; returns rows changed."""
        ...

    def mark_failed(self, item: PendingUpload, reason: str) -> None:
        """The gateway refused this version permanently (nothing is deleted)."""
        ...

    def release_local_copy(self, document_id: str, sha256: str) -> bool:
        """Retention expired after delivery: the store may drop its local copy; True if it did."""
        ...

    def queue_depth(self) -> int:
        """Rows not yet delivered (telemetry)."""
        ...

    def health(self) -> dict[str, int | float | str]:
        """The box's health keys for telemetry (``protocol.HEALTH_*``; unknown values left out)."""
        ...

    def audit_head(self) -> tuple[int, str]:
        """The device audit chain's newest ``(seq, hash)`` (telemetry: the province notices a shrunk history)."""
        ...
