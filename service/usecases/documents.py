"""Use cases over stored documents: show, list, export, and the integrity check (audit verify)."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from service.config import load_config
from service.domain.errors import InputError, IntegrityError
from service.durable import write_durable
from service.paths import Paths, get_paths
from service.store import IntegrityReport, OutboxRow, Store, StoredDocument
from service.usecases.audit_key import open_store


@dataclass(frozen=True, slots=True)
class DocumentView:
    """A stored document with its PDF location and outbox history."""

    document: StoredDocument
    pdf: Path
    outbox: tuple[OutboxRow, ...]

    @property
    def outbox_state(self) -> str:
        """State of the newest outbox row (the current PDF's upload)."""
        return self.outbox[-1].state.value if self.outbox else "none"

    def to_json(self) -> dict[str, Any]:
        """JSON form used by ``sohoa show --json`` and the UI."""
        d = self.document
        return {
            "id": d.id, "result_code": d.result_code, "dossier_id": d.dossier_id,
            "document_type_code": d.document_type_code, "owner_id": d.owner_id, "state": d.state.value,
            "pdf": str(self.pdf), "sha256": d.pdf_sha256, "pages": d.page_count,
            "declared_pages": d.declared_pages, "mismatch_reason": d.mismatch_reason,
            "created_at": d.created_at, "updated_at": d.updated_at,
            "metadata": d.metadata.to_json(),
            "page_images": [{"page_no": p.page_no, "sha256": p.sha256, "side": p.side, "blank": p.blank,
                             "sticky_note_of": p.sticky_note_of, "dpi": p.dpi, "width": p.width,
                             "height": p.height, "media_type": p.media_type} for p in d.pages],
            "outbox": [{"id": o.id, "pdf_sha256": o.pdf_sha256, "state": o.state.value, "attempts": o.attempts,
                        "created_at": o.created_at, "delivered_at": o.delivered_at} for o in self.outbox],
            "outbox_state": self.outbox_state,
        }


def _open(paths: Paths | None) -> tuple[Paths, Store]:
    p = paths or get_paths()
    cfg = load_config(p.config)
    return p, open_store(p, cfg)


def show_document(code: str, *, paths: Paths | None = None) -> DocumentView:
    """The document with this result code (or id); :class:`NotFoundError` if none."""
    _, store = _open(paths)
    with store:
        doc = store.get(code.strip())
        return DocumentView(doc, store.files.path_for(doc.pdf_sha256), tuple(store.outbox_for(doc.id)))


def list_documents(*, paths: Paths | None = None, limit: int = 1000) -> list[DocumentView]:
    """Stored documents, newest first, each with its outbox state."""
    _, store = _open(paths)
    with store:
        return [DocumentView(d, store.files.path_for(d.pdf_sha256), tuple(store.outbox_for(d.id)))
                for d in store.list_documents(limit=limit)]


@dataclass(frozen=True, slots=True)
class ExportResult:
    """Files written by :func:`export_document`."""

    pdf: Path
    metadata: Path


_UNSAFE = re.compile(r"[^A-Za-z0-9._-]")


def _write_atomic(target: Path, data: bytes) -> None:
    write_durable(target, data, 0o600)


def export_document(code: str, directory: Path, *, paths: Paths | None = None) -> ExportResult:
    """Copy the current PDF (hash re-checked) and a metadata JSON file into ``directory``.

    Files are named after the result code; existing files of the same name are refused.
    """
    view = show_document(code, paths=paths)
    _, store = _open(paths)
    with store:
        data = store.files.get(view.document.pdf_sha256)
    if directory.exists() and not directory.is_dir():
        raise InputError(f"{directory} is not a folder", remedy="give a folder to export into")
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(f"cannot create {directory} ({exc.strerror})", remedy="choose a writable folder") from exc
    stem = _UNSAFE.sub("_", view.document.result_code)
    pdf_path, meta_path = directory / f"{stem}.pdf", directory / f"{stem}.json"
    for target in (pdf_path, meta_path):
        if target.exists():
            raise InputError(f"{target} already exists", remedy="export into an empty folder or remove the old file")
    meta = json.dumps(view.to_json(), ensure_ascii=False, indent=2).encode("utf-8")
    try:
        _write_atomic(pdf_path, data)
        _write_atomic(meta_path, meta)
    except OSError as exc:
        raise InputError(f"cannot write into {directory} ({exc.strerror})",
                         remedy="choose a writable folder with free space") from exc
    if pdf_path.read_bytes() != data:
        raise IntegrityError("the exported PDF does not match the stored one", remedy="export again")
    return ExportResult(pdf_path, meta_path)


def verify_integrity(*, paths: Paths | None = None) -> IntegrityReport:
    """The audit chain plus every stored file: what ``sohoa audit verify`` reports."""
    _, store = _open(paths)
    with store:
        return store.verify()


def sweep_orphan_files(*, paths: Paths | None = None) -> list[str]:
    """Remove files no row names that an interrupted write left (older than an hour); their hashes."""
    _, store = _open(paths)
    with store:
        return store.sweep_orphans()
