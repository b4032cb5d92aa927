"""The store: SQLite rows + content-addressed files, the outbox and the audit chain.

Every other room goes through :class:`Store` (the UI and CLI through ``service.usecases``):
signing calls :meth:`Store.replace_pdf`, sync reads :meth:`Store.pending_outbox` and marks rows,
the UI lists and reads documents. Writes are single ``BEGIN IMMEDIATE`` transactions that also
append to the audit chain; files are durable before the row naming them commits.
"""

from __future__ import annotations

import fcntl
import json
import os
import sqlite3
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from service import hooks
from service.domain.errors import NotFoundError, StoreError
from service.domain.fields import ART9_FIELDS, Metadata
from service.paths import Paths
from service.store import audit, state
from service.store.checkpoint import Checkpointer, CheckpointSigner, FileSigner
from service.store.config import StoreConfig
from service.store.db import connect, db_file, is_disk_full, migrate, store_error, utcnow
from service.store.dossiers import DossierTable
from service.store.files import FileStore
from service.store.metrics import MetricsTable
from service.store.outbox import OutboxTable
from service.store.reports import ReportQueries
from service.store.reuse_cache import ReuseCacheTable
from service.store.signatures import SignatureTable
from service.store.sync_state import SyncProgress
from service.store.types import DocumentKind, DocumentState, NewDocument, PageRecord, StoredDocument

#: Audit subject of the row that marks the one-time state baseline of an upgraded store as done.
BASELINE_DONE = "store:state-baseline"


class CodeTakenError(StoreError):
    """The result code was taken by another document between allocation and commit."""


@dataclass(frozen=True, slots=True)
class IntegrityReport:
    """Result of :meth:`Store.verify`: the audit chain plus every stored file."""

    ok: bool
    audit_rows: int
    documents: int
    problems: tuple[str, ...]
    orphans: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()


def _owner_id(metadata: Metadata) -> str | None:
    value = metadata.owner_id.value if metadata.owner_id is not None else None
    return value or None


class Store(OutboxTable, SignatureTable, DossierTable, ReportQueries, ReuseCacheTable, MetricsTable):
    """One service home's database and file store."""

    def __init__(self, conn: sqlite3.Connection, files: FileStore, lock_path: Path | None = None,
                 checkpointer: Checkpointer | None = None, database: Path | None = None) -> None:
        """Wrap an open, migrated connection; use :meth:`open` instead."""
        self.conn = conn
        self.files = files
        self.lock_path = lock_path or files.root.parent / "result-code.lock"
        self.checkpointer = checkpointer
        self.database = database or db_file(conn)

    @classmethod
    def open(cls, paths: Paths, config: StoreConfig | None = None, *,
             signer: CheckpointSigner | None = None) -> Store:
        """Open (creating and migrating as needed) the store under ``paths``.

        ``signer`` signs the audit checkpoints (the use cases inject the configured token's); without
        one, ``checkpoint_signer.type: file`` signs with the device key file and ``pkcs11`` leaves the
        checkpoint to the next process that holds the token.
        """
        cfg = config or StoreConfig()
        if signer is None and cfg.checkpoint_signer.type == "file":
            signer = FileSigner(paths.pki)
        try:
            paths.ensure()
        except OSError as exc:
            raise StoreError(f"the state folder cannot be created ({exc.strerror})",
                             remedy="set SOHOA_HOME to a writable folder, or fix its permissions") from exc
        conn = connect(paths.database, busy_timeout_ms=cfg.busy_timeout_ms)
        try:
            migrate(conn)
        except BaseException:
            conn.close()
            raise
        files = FileStore(paths.files)
        files.sweep_temporary()
        checkpointer = Checkpointer(paths.home, paths.pki, signer)
        store = cls(conn, files, paths.home / "result-code.lock", checkpointer, paths.database)
        try:
            store._baseline()
            checkpointer.start(conn)
        except OSError as exc:
            conn.close()
            raise store_error("the audit checkpoint could not be saved", exc, paths.home) from exc
        except BaseException:
            conn.close()
            raise
        return store

    def _baseline(self) -> None:
        """Record the row state of documents stored before migration 0006 (once, on upgrade)."""
        applied = self.conn.execute("SELECT applied_at FROM schema_version WHERE version = 6").fetchone()
        done = "SELECT 1 FROM audit WHERE subject = ? LIMIT 1"
        if applied is None or self.conn.execute(done, (BASELINE_DONE,)).fetchone():
            return
        if not self.conn.execute("SELECT 1 FROM documents WHERE created_at <= ? LIMIT 1", (applied[0],)).fetchone():
            return  # nothing older than the upgrade: nothing to record, ever
        with self.transaction() as c:
            if c.execute(done, (BASELINE_DONE,)).fetchone():
                return
            for r in c.execute("SELECT id FROM documents WHERE created_at <= ?", (applied[0],)).fetchall():
                if not state.has_state(c, r["id"]):
                    audit.append(c, actor="store", action="state_baseline", subject=r["id"], details={},
                                 allowed=state.ALL_ROWS)
            audit.append(c, actor="store", action="state_baseline_done", subject=BASELINE_DONE, details={})

    def sync_progress(self) -> SyncProgress:
        """The sync worker's transfer-progress tables, on a connection of their own (close it after use)."""
        if self.database is None:
            raise StoreError("an in-memory store has no sync progress tables", remedy="open the store from a file")
        return SyncProgress(self.database)

    def close(self) -> None:
        """Close the database connection."""
        self.conn.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """A write transaction (``BEGIN IMMEDIATE``); rolled back on any exception."""
        try:
            self.conn.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            if is_disk_full(exc, self.files.root.parent):
                raise store_error("the change could not be saved", exc, self.files.root.parent) from exc
            raise StoreError(f"the database is busy ({exc})", remedy="wait a moment and try again") from exc
        try:
            yield self.conn
        except BaseException as exc:
            if self.conn.in_transaction:
                self.conn.execute("ROLLBACK")
            if isinstance(exc, sqlite3.DatabaseError) and not isinstance(exc, sqlite3.IntegrityError):
                raise store_error("the change could not be saved", exc, self.files.root.parent) from exc
            raise
        try:
            self.conn.execute("COMMIT")
        except sqlite3.DatabaseError as exc:
            if self.conn.in_transaction:
                self.conn.execute("ROLLBACK")
            raise store_error("the change could not be saved", exc, self.files.root.parent) from exc
        if self.checkpointer is not None:
            try:
                self.checkpointer.write(self.conn)
            except OSError as exc:
                raise store_error("the audit checkpoint could not be saved", exc, self.files.root.parent) from exc

    # ----------------------------------------------------------------- result codes
    @contextmanager
    def code_lock(self) -> Iterator[None]:
        """Serialise "allocate result code → build PDF → commit" between processes of this home.

        The code is embedded in the PDF, so it must stay free from allocation to commit. The kernel
        releases the lock when its holder dies, so a crashed digitization never blocks the next.
        """
        try:
            fd = os.open(self.lock_path, os.O_RDWR | os.O_CREAT, 0o600)
        except OSError as exc:
            raise StoreError(f"cannot open the result-code lock ({exc.strerror})",
                             remedy="check the permissions of SOHOA_HOME") from exc
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)  # closing the descriptor releases the lock

    def code_taken(self, code: str) -> bool:
        """True if a document already has this result code."""
        return self.conn.execute("SELECT 1 FROM documents WHERE result_code = ?", (code,)).fetchone() is not None

    def first_free_code(self, base: str, with_suffix: Callable[[str, int], str], *, max_suffix: int = 999) -> str:
        """``base`` if free, else ``with_suffix(base, n)`` for the smallest free n ≥ 2."""
        if not self.code_taken(base):
            return base
        for n in range(2, max_suffix + 1):
            candidate = with_suffix(base, n)
            if not self.code_taken(candidate):
                return candidate
        raise StoreError(f"no free result code suffix up to {max_suffix}",
                         remedy="raise store.max_code_suffix in the configuration")

    # ----------------------------------------------------------------- documents
    def add_document(self, new: NewDocument, *, actor: str, due: bool = True) -> StoredDocument:
        """Insert a document, its pages, fields, first outbox row and audit row in one transaction.

        ``due=False``: the version is not final yet (its signatures are missing); its outbox row is
        held, not sent, until a final version supersedes it.

        The PDF and page files must already be in the file store. Raises :class:`CodeTakenError`
        if ``new.result_code`` is no longer free (nothing is written then).
        """
        for sha in (new.pdf_sha256, *(p.sha256 for p in new.pages)):
            if not self.files.exists(sha):
                raise StoreError(f"file {sha[:12]}… is not in the file store", remedy="store the files first")
        doc_id = str(uuid.uuid4())
        now = utcnow()
        owner = _owner_id(new.metadata)
        with self.transaction() as c:
            if c.execute("SELECT 1 FROM documents WHERE result_code = ?", (new.result_code,)).fetchone():
                raise CodeTakenError(f"result code {new.result_code} is already used",
                                     remedy="digitize again; a suffixed code will be assigned")
            dossier_id = new.dossier_id or str(uuid.uuid4())
            c.execute("INSERT OR IGNORE INTO dossiers(id, owner_id, created_at) VALUES (?, ?, ?)",
                      (dossier_id, owner, now))
            c.execute(
                "INSERT INTO documents(id, result_code, dossier_id, document_type_code, owner_id, metadata_json, "
                "pdf_sha256, page_count, declared_pages, mismatch_reason, state, created_at, updated_at, kind, "
                "component_code) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (doc_id, new.result_code, dossier_id, new.metadata.document_type_code, owner,
                 json.dumps(new.metadata.to_json(), ensure_ascii=False), new.pdf_sha256, len(new.pages),
                 new.declared_pages, new.mismatch_reason, DocumentState.STORED.value, now, now,
                 None if new.kind is None else new.kind.value, new.component_code))
            c.executemany(
                "INSERT INTO pages(document_id, page_no, sha256, media_type, width, height, dpi, colour, side, "
                "blank, sticky_note_of) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [(doc_id, p.page_no, p.sha256, p.media_type, p.width, p.height, p.dpi, p.colour, p.side,
                  int(p.blank), p.sticky_note_of) for p in new.pages])
            self._write_fields(c, doc_id, new.metadata, now)
            self._enqueue(c, doc_id, new.pdf_sha256, now, due=due)
            audit.append(c, actor=actor, action="document_stored", subject=doc_id, allowed=state.ALL_ROWS,
                         details={"pdf_sha256": new.pdf_sha256, "pages": len(new.pages), "due": due,
                                  "document_type_code": new.metadata.document_type_code,
                                  "declared_pages": new.declared_pages,
                                  "page_count_reason_recorded": new.mismatch_reason is not None,
                                  "page_sha256": [p.sha256 for p in new.pages]})
            hooks.point("store.add_document.before_commit")
        hooks.point("store.add_document.committed")
        return self.get(doc_id)

    @staticmethod
    def _write_fields(c: sqlite3.Connection, doc_id: str, metadata: Metadata, now: str) -> None:
        c.execute("DELETE FROM fields WHERE document_id = ?", (doc_id,))
        names = [*ART9_FIELDS, *sorted(metadata.extra)]
        rows = []
        for name in names:
            fv = metadata.get(name)
            if fv is not None:
                rows.append((doc_id, name, fv.value, str(fv.source), fv.confidence, now))
        c.executemany("INSERT INTO fields(document_id, name, value, source, confidence, updated_at) "
                      "VALUES (?, ?, ?, ?, ?, ?)", rows)

    def get(self, code_or_id: str) -> StoredDocument:
        """The document with this result code (or id); :class:`NotFoundError` if none."""
        row = self.conn.execute("SELECT * FROM documents WHERE result_code = ? OR id = ?",
                                (code_or_id, code_or_id)).fetchone()
        if row is None:
            raise NotFoundError("no document has that result code",
                                remedy="check the code with 'sohoa list'")
        return self._document(row)

    def list_documents(self, *, limit: int = 1000, offset: int = 0) -> list[StoredDocument]:
        """Documents, newest first."""
        rows = self.conn.execute("SELECT * FROM documents ORDER BY created_at DESC, id LIMIT ? OFFSET ?",
                                 (limit, offset)).fetchall()
        return [self._document(r) for r in rows]

    def _document(self, row: sqlite3.Row) -> StoredDocument:
        pages = tuple(
            PageRecord(int(p["page_no"]), p["sha256"], p["media_type"], int(p["width"]), int(p["height"]),
                       float(p["dpi"]), p["colour"], p["side"], bool(p["blank"]),
                       None if p["sticky_note_of"] is None else int(p["sticky_note_of"]))
            for p in self.conn.execute("SELECT * FROM pages WHERE document_id = ? ORDER BY page_no", (row["id"],))
        )
        return StoredDocument(
            id=row["id"], result_code=row["result_code"], dossier_id=row["dossier_id"],
            document_type_code=row["document_type_code"], owner_id=row["owner_id"],
            metadata=Metadata.from_json(json.loads(row["metadata_json"])), pdf_sha256=row["pdf_sha256"],
            page_count=int(row["page_count"]), declared_pages=row["declared_pages"],
            mismatch_reason=row["mismatch_reason"], state=DocumentState(row["state"]),
            created_at=row["created_at"], updated_at=row["updated_at"], pages=pages,
            kind=DocumentKind(row["kind"] or DocumentKind.COMPONENT.value), component_code=row["component_code"])

    def replace_pdf(self, document_id: str, pdf: bytes, *, actor: str, action: str = "pdf_replaced",
                    state: DocumentState | None = None, details: dict[str, Any] | None = None,
                    due: bool = True) -> StoredDocument:
        """Make ``pdf`` the document's current PDF (e.g. after signing) and enqueue it for sync.

        Earlier versions not sent yet are superseded (a version being sent may finish; delivered ones
        are kept); ``due=False`` holds the new version until a final one replaces it.

        The file is stored durably first; the row update, a new outbox row and an audit row commit
        together. ``pdf`` must already be validated by the caller (signing keeps PDF/A-2b).
        """
        current = self.get(document_id)
        sha = self.files.put(pdf)
        now = utcnow()
        with self.transaction() as c:
            c.execute("UPDATE documents SET pdf_sha256 = ?, state = ?, updated_at = ? WHERE id = ?",
                      (sha, (state or current.state).value, now, current.id))
            superseded = self._enqueue(c, current.id, sha, now, due=due)
            audit.append(c, actor=actor, action=action, subject=current.id, allowed=("documents", "outbox/"),
                         details={"previous_pdf_sha256": current.pdf_sha256, "pdf_sha256": sha, "due": due,
                                  "superseded_outbox": superseded, **(details or {})})
        return self.get(current.id)

    def update_metadata(self, document_id: str, metadata: Metadata, *, actor: str) -> StoredDocument:
        """Replace the document's current field values (the PDF is not changed here)."""
        current = self.get(document_id)
        now = utcnow()
        with self.transaction() as c:
            c.execute("UPDATE documents SET metadata_json = ?, updated_at = ? WHERE id = ?",
                      (json.dumps(metadata.to_json(), ensure_ascii=False), now, current.id))
            self._write_fields(c, current.id, metadata, now)
            changed = sorted(n for n in [*ART9_FIELDS, *metadata.extra, *current.metadata.extra]
                             if metadata.get(n) != current.metadata.get(n))
            audit.append(c, actor=actor, action="metadata_updated", subject=current.id, details={"fields": changed},
                         allowed=("documents", "fields/"))
        return self.get(current.id)

    def ping(self) -> None:
        """Raise :class:`StoreError` unless the database answers a read (the service's health check)."""
        try:
            self.conn.execute("SELECT count(*) FROM documents").fetchone()
        except sqlite3.Error as exc:
            raise StoreError(f"the database does not answer ({exc})", remedy="see `sohoa audit verify`") from exc

    # ----------------------------------------------------------------- audit + integrity
    def audit_append(self, *, actor: str, action: str, subject: str | None, details: dict[str, Any]) -> None:
        """Append one audit row in its own transaction (no personal data in ``details``)."""
        with self.transaction() as c:
            audit.append(c, actor=actor, action=action, subject=subject, details=details)

    def audit_head(self) -> tuple[int, str]:
        """The newest audit row's ``(seq, row_hash)`` (``(0, GENESIS)`` when empty): what sync can report
        to the province so it notices a device whose history shrank."""
        row = self.conn.execute("SELECT seq, row_hash FROM audit_head WHERE id = 1").fetchone()
        return (int(row["seq"]), str(row["row_hash"])) if row is not None else (0, audit.GENESIS)

    def pin_checkpoint_signer(self, signer: CheckpointSigner, *, actor: str) -> str:
        """Pin ``signer``'s public key for the audit checkpoints (audited) and sign the head with it at once.

        Returns the pinned key's label. The audit row moves the head, so the new key signs it on commit.
        """
        if self.checkpointer is None:
            raise StoreError("this store keeps no audit checkpoint", remedy="open the store from its home")
        pin = self.checkpointer.pin_signer(signer)
        self.audit_append(actor=actor, action="checkpoint_key_pinned", subject="store:checkpoint-key",
                          details={"signer": pin.signer, "key_id": pin.key_id})
        return pin.label()

    def sign_checkpoint(self) -> tuple[int, str | None]:
        """Sign the current audit head now if the checkpoint lags; returns (checkpoint row, why not signed)."""
        if self.checkpointer is None:
            raise StoreError("this store keeps no audit checkpoint", remedy="open the store from its home")
        self.checkpointer.write(self.conn, initial=not self.checkpointer.path.exists())
        cp, why = self.checkpointer.read()
        seq = cp.seq if cp is not None else 0
        lagging = seq < self.audit_head()[0] or cp is None
        return seq, (self.checkpointer.failure or why) if lagging or why else None

    def audit_entries(self, subject: str | None = None) -> list[audit.AuditEntry]:
        """Audit rows in order, optionally about one document id."""
        return audit.entries(self.conn, subject=subject)

    def verify(self) -> IntegrityReport:
        """Audit chain, the rows it binds, the signed checkpoint, every file and the outbox (read-only)."""
        from service.store.integrity import verify_store

        return verify_store(self)

    def sweep_orphans(self, *, older_than_s: float | None = None) -> list[str]:
        """Remove files no row names (left by a crash between file write and commit); returns their hashes."""
        from service.store.integrity import sweep_orphans

        return sweep_orphans(self, older_than_s=older_than_s)
