"""The audit chain covers the store: every direct SQLite edit of the issue is detected and named."""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest

from service.cli.main import main
from service.paths import get_paths

from .conftest import FORGED, OWNER, add, open_store


def problems(home: Path) -> list[str]:
    with open_store(home) as store:
        report = store.verify()
    assert not report.ok
    return list(report.problems)


def test_owner_changed_in_documents_is_named(sohoa_home: Path, two_docs: tuple[str, str],
                                             edit_db: Callable[..., None]) -> None:
    a, _ = two_docs
    edit_db(f"UPDATE documents SET owner_id='{FORGED}' WHERE id='{a}'")
    found = problems(sohoa_home)
    assert any(p.startswith(f"table documents, row document {a}: content differs") for p in found), found
    assert any("owner identifier differs between documents.owner_id" in p for p in found), found


def test_owner_changed_in_metadata_json_is_named(sohoa_home: Path, two_docs: tuple[str, str],
                                                 edit_db: Callable[..., None]) -> None:
    a, _ = two_docs
    edit_db(f"UPDATE documents SET metadata_json=replace(metadata_json, '{OWNER}', '{FORGED}') WHERE id='{a}'")
    found = problems(sohoa_home)
    assert any(f"document {a}" in p and "differs" in p for p in found), found


def test_owner_changed_in_fields_is_named(sohoa_home: Path, two_docs: tuple[str, str],
                                          edit_db: Callable[..., None]) -> None:
    a, _ = two_docs
    edit_db(f"UPDATE fields SET value='{FORGED}' WHERE document_id='{a}' AND name='owner_id'")
    found = problems(sohoa_home)
    assert any(p.startswith(f"table fields, row owner_id of document {a}: content differs") for p in found), found


def test_owner_changed_everywhere_consistently_is_still_caught(sohoa_home: Path, two_docs: tuple[str, str],
                                                               edit_db: Callable[..., None]) -> None:
    a, _ = two_docs
    edit_db(f"UPDATE documents SET owner_id='{FORGED}', metadata_json=replace(metadata_json, '{OWNER}', "
            f"'{FORGED}') WHERE id='{a}'",
            f"UPDATE fields SET value='{FORGED}' WHERE document_id='{a}' AND name='owner_id'",
            f"UPDATE dossiers SET owner_id='{FORGED}'")
    found = problems(sohoa_home)
    assert any("table documents" in p for p in found) and any("table fields" in p for p in found)
    assert any("table dossiers" in p for p in found), found


def test_a_whole_deleted_document_is_named(sohoa_home: Path, two_docs: tuple[str, str],
                                           edit_db: Callable[..., None]) -> None:
    _, b = two_docs
    edit_db("PRAGMA foreign_keys=OFF", *(f"DELETE FROM {t} WHERE document_id='{b}'" for t in ("pages", "fields",
                                                                                              "outbox")),
            f"DELETE FROM documents WHERE id='{b}'")
    found = problems(sohoa_home)
    assert any(p.startswith(f"table documents, row {b}: the whole document was deleted") for p in found), found


def test_pdf_pointed_at_another_documents_pdf_is_named(sohoa_home: Path, two_docs: tuple[str, str],
                                                       edit_db: Callable[..., None]) -> None:
    a, b = two_docs
    edit_db(f"UPDATE documents SET pdf_sha256=(SELECT pdf_sha256 FROM documents WHERE id='{b}') WHERE id='{a}'")
    found = problems(sohoa_home)
    assert any(p.startswith(f"table documents, row {a}: pdf_sha256 is not the PDF the audit chain recorded")
               for p in found), found


def test_inserted_rows_are_named(sohoa_home: Path, two_docs: tuple[str, str], edit_db: Callable[..., None]) -> None:
    a, _ = two_docs
    edit_db(f"INSERT INTO fields(document_id, name, value, source, confidence, updated_at) VALUES "
            f"('{a}', 'issuer', 'X', 'manual', 1.0, 'now')")
    found = problems(sohoa_home)
    assert any(p.startswith(f"table fields, row issuer of document {a}: added outside") for p in found), found


def test_newest_audit_row_deleted_and_head_rewound_is_caught_by_the_signed_checkpoint(
        sohoa_home: Path, two_docs: tuple[str, str], edit_db: Callable[..., None]) -> None:
    conn = sqlite3.connect(get_paths(sohoa_home).database)
    last = conn.execute("SELECT MAX(seq) FROM audit").fetchone()[0]
    prev_hash = conn.execute("SELECT row_hash FROM audit WHERE seq=?", (last - 1,)).fetchone()[0]
    conn.close()
    # the insider deletes the row, rewinds the head and even puts the guards back
    edit_db(f"DELETE FROM audit WHERE seq={last}", f"UPDATE audit_head SET seq={last - 1}, row_hash='{prev_hash}'",
            "CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit BEGIN SELECT RAISE(ABORT, 'x'); END",
            "CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit BEGIN SELECT RAISE(ABORT, 'x'); END",
            drop_guards=True)
    found = problems(sohoa_home)
    assert any(f"audit rows {last}..{last} were removed: the signed checkpoint names row {last}" in p
               for p in found), found


def test_a_forged_checkpoint_is_refused(sohoa_home: Path, two_docs: tuple[str, str]) -> None:
    path = sohoa_home / "audit-checkpoint.json"
    body = json.loads(path.read_text())
    body["seq"] = 1
    os.chmod(path, 0o600)
    path.write_text(json.dumps(body))
    assert any("signature is not the device key's" in p for p in problems(sohoa_home))


def test_a_deleted_checkpoint_is_reported(sohoa_home: Path, two_docs: tuple[str, str]) -> None:
    (sohoa_home / "audit-checkpoint.json").unlink()
    assert any("checkpoint is missing" in p for p in problems(sohoa_home))


def test_a_later_legitimate_write_does_not_bless_a_forgery(sohoa_home: Path, two_docs: tuple[str, str],
                                                           edit_db: Callable[..., None]) -> None:
    a, _ = two_docs
    edit_db(f"UPDATE fields SET value='{FORGED}' WHERE document_id='{a}' AND name='owner_id'")
    with open_store(sohoa_home) as store:  # sync keeps working on the document afterwards
        store.audit_append(actor="officer", action="viewed", subject=a, details={})
    found = problems(sohoa_home)
    assert any("table fields, row owner_id" in p and "changed outside the service" in p for p in found), found


def test_legitimate_changes_keep_the_store_verified(sohoa_home: Path, two_docs: tuple[str, str]) -> None:
    a, b = two_docs
    with open_store(sohoa_home) as store:
        doc = store.get(b)
        store.update_metadata(b, doc.metadata.with_field("owner_id", None).with_field(
            "owner_id", doc.metadata.owner_id), actor="officer")
        store.replace_pdf(a, b"%PDF-signed", actor="officer", action="signed_officer")
        row = store.outbox_for(a)[-1]
        store.mark_sending(row.id, actor="sync")
        store.mark_failed(row.id, "broker down", next_attempt_at="2030-01-01T00:00:00+00:00", actor="sync")
        add(store, 3)
        report = store.verify()
    assert report.ok, report.problems


def test_cli_audit_verify_names_the_problem_and_exits_8(sohoa_home: Path, two_docs: tuple[str, str],
                                                        edit_db: Callable[..., None],
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    a, _ = two_docs
    assert main(["audit", "verify"]) == 0
    edit_db(f"UPDATE fields SET value='{FORGED}' WHERE document_id='{a}' AND name='owner_id'")
    assert main(["audit", "verify"]) == 8
    err = capsys.readouterr().err
    assert f"FAIL table fields, row owner_id of document {a}: content differs" in err
    assert "restore" in err  # a forged store is the case for the backup, unlike a full disk


def test_documents_stored_before_the_upgrade_get_a_baseline(sohoa_home: Path) -> None:
    from service.store.db import connect, migrate

    paths = get_paths(sohoa_home)
    paths.ensure()
    conn = connect(paths.database)
    migrate(conn, target=4)
    conn.close()
    from service.store import Store

    # a version-4 store written by the old software (no state in its audit rows)
    conn = connect(paths.database)
    conn.execute("INSERT INTO dossiers VALUES ('d1', NULL, '2020-01-01')")
    conn.execute("INSERT INTO documents VALUES ('x1', 'C1', 'd1', 'KQ.G15.000031', NULL, '{}', "
                 "'" + "a" * 64 + "', 1, NULL, NULL, 'stored', '2020-01-01', '2020-01-01')")
    conn.close()
    with Store.open(paths) as store:
        assert [e.action for e in store.audit_entries("x1")] == ["state_baseline"]
        report = store.verify()
    assert not any("not recorded in the audit chain" in p for p in report.problems), report.problems


def test_orphan_files_of_a_crash_are_reported_and_swept(sohoa_home: Path, two_docs: tuple[str, str],
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    with open_store(sohoa_home) as store:
        fresh = store.files.put(b"written, then the process died before the commit")
        old = store.files.put(b"an older orphan")
        os.utime(store.files.path_for(old), (1_000_000, 1_000_000))
        report = store.verify()
        assert report.ok and set(report.orphans) == {fresh, old}
    assert main(["audit", "verify", "--sweep"]) == 0
    out = capsys.readouterr().out
    assert "swept 1 orphan file(s)" in out and "1 orphan file(s)" in out
    with open_store(sohoa_home) as store:
        assert not store.files.exists(old) and store.files.exists(fresh)  # a live write is never raced


def test_audit_head_is_what_the_signed_checkpoint_names(sohoa_home: Path, two_docs: tuple[str, str]) -> None:
    with open_store(sohoa_home) as store:
        seq, digest = store.audit_head()
        cp, why = store.checkpointer.read()  # type: ignore[union-attr]
    assert why is None and cp is not None and (cp.seq, cp.row_hash) == (seq, digest) and seq >= 4
