"""Store: pragmas, migrations from every version, files, outbox, audit chain and tampering."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

import pytest

from service.domain.errors import IntegrityError, NotFoundError, StoreError
from service.domain.fields import FieldSource, FieldValue, Metadata
from service.domain.result_code import with_suffix
from service.paths import get_paths
from service.store import CodeTakenError, DocumentState, NewDocument, OutboxState, PageRecord, Store
from service.store.db import applied_versions, connect, current_version, migrate, migrations
from service.store.files import FileStore

from .helpers import DOC_TYPE, OWNER

META = Metadata(DOC_TYPE, owner_id=FieldValue(OWNER, FieldSource.MANUAL),
                document_name=FieldValue("Giấy khai sinh", FieldSource.OCR, 0.8))


def open_store(home: Path) -> Store:
    return Store.open(get_paths(home))


def add(store: Store, code: str = f"{OWNER}.{DOC_TYPE}", pdf: bytes = b"%PDF-fake-1") -> str:
    pdf_sha = store.files.put(pdf)
    page_sha = store.files.put(b"page-image-" + code.encode())
    page = PageRecord(1, page_sha, "image/jpeg", 100, 100, 300.0, "colour", "front", False, None)
    return store.add_document(NewDocument(code, META, pdf_sha, (page,)), actor="test").id


def schema(conn: sqlite3.Connection) -> list[tuple[str, str, str]]:
    return sorted((r[0], r[1], " ".join((r[2] or "").split()))
                  for r in conn.execute("SELECT type, name, sql FROM sqlite_master WHERE name NOT LIKE 'sqlite_%'"))


def test_connection_uses_wal_full_sync_and_foreign_keys(sohoa_home: Path) -> None:
    with open_store(sohoa_home) as store:
        c = store.conn
        assert c.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert c.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
        assert c.execute("PRAGMA foreign_keys").fetchone()[0] == 1
        with pytest.raises(sqlite3.IntegrityError):
            c.execute("INSERT INTO outbox(document_id, pdf_sha256, next_attempt_at, created_at) "
                      "VALUES ('nope', 'x', 'now', 'now')")


@pytest.mark.parametrize("start", [0, *(m.version for m in migrations()[:-1])])
def test_every_migration_path_from_an_earlier_version_reaches_the_same_schema(tmp_path: Path, start: int) -> None:
    """Generic: walks all migration files; upgrading from version ``start`` equals a fresh install."""
    fresh = connect(tmp_path / "fresh.db")
    top = migrate(fresh)
    old = connect(tmp_path / "old.db")
    assert migrate(old, target=start) == start
    assert current_version(old) == start
    assert migrate(old) == top
    assert schema(old) == schema(fresh)
    assert old.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert old.execute("PRAGMA foreign_key_check").fetchall() == []
    assert [r[0] for r in old.execute("SELECT version FROM schema_version ORDER BY version")] == [
        m.version for m in migrations()]
    assert migrate(old) == top  # idempotent


def test_migrations_keep_existing_rows(sohoa_home: Path) -> None:
    with open_store(sohoa_home) as store:
        doc_id = add(store)
    with open_store(sohoa_home) as store:  # reopening re-runs migrate: nothing lost
        assert store.get(doc_id).result_code == f"{OWNER}.{DOC_TYPE}"


def test_badly_named_or_duplicate_migrations_are_refused(tmp_path: Path) -> None:
    (tmp_path / "0001_a.sql").write_text("CREATE TABLE a(x);")
    (tmp_path / "0001_b.sql").write_text("CREATE TABLE b(x);")
    with pytest.raises(StoreError, match="used twice"):
        migrations(tmp_path)
    (tmp_path / "0001_b.sql").unlink()
    (tmp_path / "2_b.sql").write_text("CREATE TABLE b(x);")
    with pytest.raises(StoreError, match="NNNN_name"):
        migrations(tmp_path)


def test_rooms_may_deliver_migrations_out_of_order(tmp_path: Path) -> None:
    (tmp_path / "0001_a.sql").write_text("CREATE TABLE a(x);")
    (tmp_path / "0004_d.sql").write_text("CREATE TABLE d(x);")
    conn = connect(tmp_path / "t.db")
    assert migrate(conn, directory=tmp_path) == 4
    (tmp_path / "0003_c.sql").write_text("CREATE TABLE c(x REFERENCES a(x));")  # lands later, lower number
    assert migrate(conn, directory=tmp_path) == 4
    assert conn.execute("SELECT name FROM sqlite_master WHERE name='c'").fetchone() is not None
    assert applied_versions(conn) == {1, 3, 4}


def test_a_failing_migration_leaves_the_previous_version(tmp_path: Path) -> None:
    (tmp_path / "0001_a.sql").write_text("CREATE TABLE a(x);")
    (tmp_path / "0002_bad.sql").write_text("CREATE TABLE b(x);\nINSERT INTO nope VALUES (1);")
    conn = connect(tmp_path / "t.db")
    with pytest.raises(StoreError, match="0002_bad"):
        migrate(conn, directory=tmp_path)
    assert current_version(conn) == 1
    assert conn.execute("SELECT name FROM sqlite_master WHERE name='b'").fetchone() is None


def test_newer_database_than_software_is_refused(tmp_path: Path) -> None:
    conn = connect(tmp_path / "t.db")
    migrate(conn)
    conn.execute("INSERT INTO schema_version VALUES (999, 'future', 'now')")
    with pytest.raises(StoreError, match="unknown to this software"):
        migrate(conn)


def test_file_store_is_content_addressed_read_only_and_checks_hashes(tmp_path: Path) -> None:
    fs = FileStore(tmp_path / "files")
    sha = fs.put(b"hello")
    path = fs.path_for(sha)
    assert path == tmp_path / "files" / sha[:2] / sha[2:]
    assert path.read_bytes() == b"hello" and (path.stat().st_mode & 0o777) == 0o400
    assert fs.put(b"hello") == sha
    assert not list(path.parent.glob(".tmp-*"))
    os.chmod(path, 0o600)
    path.write_bytes(b"jello")
    with pytest.raises(IntegrityError):
        fs.get(sha)
    assert fs.verify(sha) == "altered"
    path.unlink()
    assert fs.verify(sha) == "missing"
    with pytest.raises(StoreError):
        fs.path_for("../../etc/passwd")


def test_document_row_needs_its_files_first(sohoa_home: Path) -> None:
    with open_store(sohoa_home) as store:
        page = PageRecord(1, "a" * 64, "image/jpeg", 1, 1, 300.0, "colour", "front", False, None)
        with pytest.raises(StoreError, match="not in the file store"):
            store.add_document(NewDocument("X.Y", META, "b" * 64, (page,)), actor="t")
        assert store.list_documents() == []


def test_add_document_writes_rows_outbox_and_audit_together(sohoa_home: Path) -> None:
    with open_store(sohoa_home) as store:
        doc_id = add(store)
        doc = store.get(f"{OWNER}.{DOC_TYPE}")
        assert doc.id == doc_id and doc.state is DocumentState.STORED and doc.owner_id == OWNER
        assert doc.metadata.document_name == FieldValue("Giấy khai sinh", FieldSource.OCR, 0.8)
        rows = store.conn.execute("SELECT name, source, confidence FROM fields WHERE document_id=? ORDER BY name",
                                  (doc_id,)).fetchall()
        assert [tuple(r) for r in rows] == [("document_name", "ocr", 0.8), ("owner_id", "manual", 1.0)]
        [item] = store.outbox_for(doc_id)
        assert item.state is OutboxState.QUEUED and item.pdf_sha256 == doc.pdf_sha256 and item.attempts == 0
        assert [e.action for e in store.audit_entries(doc_id)] == ["document_stored"]
        assert store.verify().ok
        with pytest.raises(NotFoundError):
            store.get("no.such.code")


def test_result_codes_are_unique_with_a_suffix(sohoa_home: Path) -> None:
    base = f"{OWNER}.{DOC_TYPE}"
    with open_store(sohoa_home) as store:
        add(store, base)
        assert store.first_free_code(base, with_suffix) == f"{base}.02"
        add(store, f"{base}.02", pdf=b"%PDF-2")
        assert store.first_free_code(base, with_suffix) == f"{base}.03"
        with pytest.raises(CodeTakenError):
            add(store, base, pdf=b"%PDF-3")
        assert len(store.list_documents()) == 2
        with pytest.raises(StoreError, match="no free result code"):
            store.first_free_code(base, with_suffix, max_suffix=2)


def test_replacing_the_pdf_enqueues_a_new_outbox_row_and_supersedes_the_unsent_one(sohoa_home: Path) -> None:
    with open_store(sohoa_home) as store:
        doc_id = add(store)
        first = store.get(doc_id).pdf_sha256
        doc = store.replace_pdf(doc_id, b"%PDF-signed", actor="signing", action="signed",
                                state=DocumentState.SIGNED)
        assert doc.state is DocumentState.SIGNED and doc.pdf_sha256 != first
        assert [(o.pdf_sha256, o.state) for o in store.outbox_for(doc_id)] == [
            (first, OutboxState.SUPERSEDED), (doc.pdf_sha256, OutboxState.QUEUED)]
        assert [o.pdf_sha256 for o in store.pending_outbox()] == [doc.pdf_sha256]  # one version out
        assert store.count_undelivered() == 1
        assert store.files.get(doc.pdf_sha256) == b"%PDF-signed"
        assert [e.action for e in store.audit_entries(doc_id)] == ["document_stored", "signed"]
        assert store.verify().ok


def test_outbox_life_cycle_for_the_sync_worker(sohoa_home: Path) -> None:
    with open_store(sohoa_home) as store:
        doc_id = add(store)
        [item] = store.pending_outbox()
        assert store.outbox_counts() == {"queued": 1} and store.count_undelivered() == 1
        assert store.last_delivered_at() is None and store.sending_outbox() == []
        assert store.mark_sending(item.id, actor="uploader").attempts == 1
        assert store.pending_outbox() == []
        assert [o.id for o in store.sending_outbox()] == [item.id]  # left sending by a dead worker
        failed = store.mark_failed(item.id, "broker unreachable", next_attempt_at="2999-01-01T00:00:00+00:00",
                                   actor="uploader")
        assert failed.state is OutboxState.FAILED and failed.last_error == "broker unreachable"
        assert store.pending_outbox() == []
        assert store.count_undelivered(due_before="2999-01-01T00:00:00+00:00") == 0
        assert store.count_undelivered(due_before="3000-01-01") == 1
        assert [o.id for o in store.pending_outbox(now="3000-01-01")] == [item.id]
        done = store.mark_delivered(item.id, actor="uploader")
        assert done.state is OutboxState.DELIVERED and done.delivered_at
        assert store.pending_outbox(now="3000-01-01") == []
        assert store.outbox_counts() == {"delivered": 1} and store.count_undelivered() == 0
        assert store.last_delivered_at() == done.delivered_at
        with pytest.raises(NotFoundError):
            store.mark_delivered(9999, actor="uploader")
        entries = store.audit_entries(doc_id)[-3:]
        assert {e.actor for e in entries} == {"uploader"}  # the caller names who acted, not the store
        assert [e.action for e in entries] == [
            "outbox_sending", "outbox_failed", "outbox_delivered"]
        assert store.verify().ok


def _populate(home: Path) -> None:
    with open_store(home) as store:
        for i in range(4):
            add(store, f"{OWNER}.{DOC_TYPE}.{i:02d}", pdf=f"%PDF-{i}".encode())


def test_audit_rows_cannot_be_changed_through_sql(sohoa_home: Path) -> None:
    _populate(sohoa_home)
    conn = sqlite3.connect(get_paths(sohoa_home).database)
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        conn.execute("UPDATE audit SET actor='x' WHERE seq=2")
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        conn.execute("DELETE FROM audit WHERE seq=2")


def _tamper(home: Path, *sql: str) -> None:
    conn = sqlite3.connect(get_paths(home).database)
    conn.execute("DROP TRIGGER audit_no_update")
    conn.execute("DROP TRIGGER audit_no_delete")
    for stmt in sql:
        conn.execute(stmt)
    conn.commit()
    conn.close()


@pytest.mark.parametrize("sql, seq", [
    (["UPDATE audit SET actor='mallory' WHERE seq=2"], 2),
    (["UPDATE audit SET details_json='{}' WHERE seq=3"], 3),
    (["DELETE FROM audit WHERE seq=2"], 2),
    (["DELETE FROM audit WHERE seq=1"], 1),
])
def test_audit_verify_names_the_edited_or_deleted_row(sohoa_home: Path, sql: list[str], seq: int) -> None:
    _populate(sohoa_home)
    _tamper(sohoa_home, *sql)
    with open_store(sohoa_home) as store:
        report = store.verify()
    assert not report.ok
    assert any(p.startswith(f"audit row {seq}:") for p in report.problems), report.problems


def test_removing_the_newest_audit_row_is_detected_by_the_head(sohoa_home: Path) -> None:
    _populate(sohoa_home)
    _tamper(sohoa_home, "DELETE FROM audit WHERE seq=4")
    with open_store(sohoa_home) as store:
        report = store.verify()
    assert not report.ok and any("newest rows were removed" in p for p in report.problems)
    assert any("guard" in p for p in report.problems)  # dropped triggers are reported too


def test_verify_reports_a_missing_or_altered_pdf(sohoa_home: Path) -> None:
    _populate(sohoa_home)
    with open_store(sohoa_home) as store:
        doc = store.list_documents()[0]
        path = store.files.path_for(doc.pdf_sha256)
        os.chmod(path, 0o600)
        path.write_bytes(b"changed")
        report = store.verify()
    assert not report.ok and any(f"document {doc.id}: PDF file altered" == p for p in report.problems)


def test_concurrent_digitizations_get_distinct_codes(sohoa_home: Path) -> None:
    """Four writers race for the same result code: each commits once, with its own suffix."""
    import threading

    from service.capture import RawPage
    from service.usecases.digitize import DigitizeRequest, digitize

    from .helpers import page_image

    results: list[str] = []
    errors: list[BaseException] = []

    def worker(i: int) -> None:
        try:
            req = DigitizeRequest(pages=(RawPage(page_image(seed=i), "p1"),), document_type_code=DOC_TYPE,
                                  owner_id=OWNER)
            results.append(digitize(req).result_code)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors, errors
    base = f"{OWNER}.{DOC_TYPE}"
    assert sorted(results) == [base, f"{base}.02", f"{base}.03", f"{base}.04"]
    with open_store(sohoa_home) as store:
        assert store.verify().ok


def test_stale_temporary_files_of_a_dead_writer_are_swept(tmp_path: Path) -> None:
    fs = FileStore(tmp_path / "files")
    sha = fs.put(b"kept")
    stale = fs.path_for(sha).parent / ".tmp-dead"
    fresh = fs.path_for(sha).parent / ".tmp-live"
    stale.write_bytes(b"half")
    fresh.write_bytes(b"half")
    os.utime(stale, (0, 0))
    assert fs.sweep_temporary() == 1
    assert not stale.exists() and fresh.exists() and fs.get(sha) == b"kept"


def test_damaged_database_and_unwritable_home_are_store_errors(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    (home / "sohoa.db").write_bytes(b"this is not a database" * 100)
    with pytest.raises(StoreError) as exc:
        open_store(home)
    assert exc.value.remedy and "backup" in exc.value.remedy
    not_a_folder = tmp_path / "plain-file"
    not_a_folder.write_text("x")
    with pytest.raises(StoreError, match="cannot be created"):
        open_store(not_a_folder / "home")
