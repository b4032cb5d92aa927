"""The :class:`OutboxSource` over the spine's :class:`service.store.store.Store`.

Maps a stored document onto manifest fields: Art. 9 metadata goes out under the
NĐ 30/2020 Phụ lục VI names (``TypeName``, ``CodeNotation``, ``IssuedDate``, ``OrganName``,
``Subject``, ``PageAmount`` ...) plus the owner fields the province needs for reuse look-ups.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path

from service.store.store import Store
from service.store.types import OutboxState
from service.sync.source import DocumentPayload, PendingUpload

# Art. 9 field → manifest ThongTinMoTa key (NĐ 30/2020 names where one exists).
META_KEYS: dict[str, str] = {
    "number_symbol": "CodeNotation",
    "issue_date": "IssuedDate",
    "issuing_agency": "OrganName",
    "summary": "Subject",
    "document_name": "TypeName",
    "valid_until": "ValidUntil",
    "validity_scope": "ValidityScope",
    "organization_name": "OrganizationName",
    "organization_founded_year": "OrganizationFoundedYear",
    "owner_id": "SoDinhDanhChuSoHuu",
    "owner_name": "TenChuSoHuu",
    "owner_birth_date": "NgaySinhChuSoHuu",
}
ACTOR = "sync"  # who the audit chain names for outbox changes made by the sync worker
NEVER = "9999-12-31T00:00:00+00:00"  # next_attempt_at of a row the gateway refused for good


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="microseconds")


def _stamp(iso: str) -> str:
    try:
        return datetime.fromisoformat(iso).astimezone(UTC).strftime("%Y%m%d%H%M%S")
    except ValueError:
        return datetime.now(UTC).strftime("%Y%m%d%H%M%S")


def loai_so_hoa(kind: str | None) -> str:
    """The manifest's ``LoaiSoHoa``: "1" for a procedure's result, "0" for a component (no kind = component)."""
    return "1" if kind == "result" else "0"


class StoreOutbox:
    """Adapter from the spine store to the sync worker (call from one thread)."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def pending(self, limit: int, now: float) -> list[PendingUpload]:
        """Due queued/failed rows, plus rows left ``sending`` by a worker that died mid-transfer."""
        rows = list(self.store.pending_outbox(now=_iso(now), limit=limit))
        if len(rows) < limit:
            known = {r.id for r in rows}
            rows += [r for r in self.store.sending_outbox(limit=limit - len(rows)) if r.id not in known]
        return [PendingUpload(r.id, r.document_id, r.pdf_sha256, r.attempts) for r in rows[:limit]]

    def load(self, item: PendingUpload) -> DocumentPayload:
        """Manifest fields from the document's metadata; the PDF of this outbox row's version."""
        doc = self.store.get(item.document_id)
        meta: dict[str, str | int] = {"TypeName": doc.document_type_code, "PageAmount": doc.page_count,
                                      "MaLoaiGiayTo": doc.document_type_code}  # reuse look-ups go by type
        for field, key in META_KEYS.items():
            fv = doc.metadata.get(field)
            if fv is not None and fv.value:
                meta[key] = fv.value[:1000]
        if "TypeName" in meta and doc.metadata.get("document_name") is None:
            meta["TypeName"] = doc.document_type_code
        name_fv = doc.metadata.get("document_name")
        symbol_fv = doc.metadata.get("number_symbol")
        path = self.store.files.path_for(item.pdf_sha256)
        ctx = self.store.sync_context(doc.id)
        procedure = ctx["procedure_code"]
        return DocumentPayload(
            name=(name_fv.value if name_fv is not None and name_fv.value else doc.document_type_code)[:500],
            file_path=Path(path), file_name=f"{doc.result_code}.pdf"[:255], created=_stamp(doc.created_at),
            result_code=doc.result_code, number_symbol=symbol_fv.value[:64] if symbol_fv is not None else None,
            procedure_code=procedure[:64] if procedure else None, dossier_code=(ctx["dossier_code"] or "")[:64],
            kind=loai_so_hoa(ctx["kind"]), metadata=meta)

    def mark_progress(self, item: PendingUpload) -> None:
        """State ``sending``, attempts + 1 (audited by the store)."""
        self.store.mark_sending(item.outbox_id, actor=ACTOR)

    def mark_retry(self, item: PendingUpload, error: str, next_attempt_at: float) -> None:
        """State ``failed`` with a retry time (the store's pending list picks it up again)."""
        self.store.mark_failed(item.outbox_id, error, next_attempt_at=_iso(next_attempt_at), actor=ACTOR)

    def mark_delivered(self, document_id: str, sha256: str) -> int:
        """Every undelivered row of this version becomes ``delivered``."""
        changed = 0
        for row in self.store.outbox_for(document_id):
            if row.pdf_sha256 == sha256 and row.state is not OutboxState.DELIVERED:
                self.store.mark_delivered(row.id, actor=ACTOR)
                changed += 1
        return changed

    def mark_failed(self, item: PendingUpload, reason: str) -> None:
        """Refused for good: kept as ``failed`` with no retry time (an officer must act)."""
        self.store.mark_failed(item.outbox_id, reason, next_attempt_at=NEVER, actor=ACTOR)

    def release_local_copy(self, document_id: str, sha256: str) -> bool:
        """The spine store keeps every version (audit, Decision 1403 Art. 5): never deletes; False."""
        return False

    def audit_head(self) -> tuple[int, str]:
        """The store's audit head (seq, row hash)."""
        return self.store.audit_head()

    def queue_depth(self) -> int:
        """Rows not delivered and not refused for good."""
        return self.store.count_undelivered(due_before=NEVER)

    def health(self) -> dict[str, int | float | str]:
        """Disk, CPU temperature, last ack, oldest queued version, software and model versions (no personal data)."""
        from service import hostinfo

        out: dict[str, int | float | str] = {
            "disk_free_bytes": hostinfo.disk_free_bytes(self.store.files.root.parent),
            "software_version": hostinfo.software_version(),
        }
        models = hostinfo.model_versions()
        if models:
            out["model_versions"] = models
        temp = hostinfo.cpu_temperature_c()
        if temp is not None:
            out["cpu_temp_c"] = float(temp)
        last = self.store.store_metrics().last_delivered_at
        if last is not None:
            out["last_sync_success_ts"] = int(last)
        oldest = self.store.oldest_queued_at(due_before=NEVER)
        if oldest is not None:
            out["oldest_queued_age_s"] = round(max(0.0, time.time() - oldest), 1)
        return out
