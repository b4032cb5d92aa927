"""The dossier rows in the store: upgrade from before 0008, the audit binding, tampering, the catalogue."""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path

import pytest

from service.domain.errors import InputError
from service.paths import get_paths
from service.procedures.catalogue import parse_catalogue, to_csv, to_json
from service.store import Store, audit
from service.store.db import MIGRATIONS_DIR, connect, migrate, utcnow
from service.store.files import FileStore
from service.usecases import dossier
from tests.spine.helpers import OWNER
from tests.support.pdfa_sample import make_pdfa2b

SAMPLE = Path(__file__).resolve().parents[2] / "kiosk_ui" / "data" / "catalogue.sample.json"


def _store_before_0008(home: Path) -> str:
    """A home whose database stopped at 0006, holding one dossier and one document written the old way."""
    paths = get_paths(home)
    paths.ensure()
    old = home.parent / "old-migrations"
    old.mkdir()
    for f in sorted(MIGRATIONS_DIR.glob("*.sql")):
        if int(f.name[:4]) <= 6:
            shutil.copy(f, old / f.name)
    conn = connect(paths.database)
    assert migrate(conn, directory=old) == 6
    sha = FileStore(paths.files).put(make_pdfa2b(1))
    now = utcnow()
    conn.execute("BEGIN IMMEDIATE")
    conn.execute("INSERT INTO dossiers(id, owner_id, created_at) VALUES ('legacy', ?, ?)", (OWNER, now))
    conn.execute("INSERT INTO documents(id, result_code, dossier_id, document_type_code, owner_id, metadata_json, "
                 "pdf_sha256, page_count, state, created_at, updated_at) VALUES ('d1', 'C1', 'legacy', "
                 "'KQ.G15.000031', NULL, ?, ?, 1, 'stored', ?, ?)",
                 (json.dumps({"document_type_code": "KQ.G15.000031", "fields": {}}), sha, now, now))
    conn.execute("INSERT INTO outbox(document_id, pdf_sha256, state, attempts, next_attempt_at, created_at) "
                 "VALUES ('d1', ?, 'queued', 0, ?, ?)", (sha, now, now))
    audit.append(conn, actor="officer", action="document_stored", subject="d1", details={"pdf_sha256": sha},
                 allowed=("",))
    conn.execute("COMMIT")
    conn.close()
    return sha


def test_upgrade_keeps_old_dossiers_and_their_audit_binding(sohoa_home: Path) -> None:
    _store_before_0008(sohoa_home)
    with Store.open(get_paths(sohoa_home)) as store:
        report = store.verify()
        assert report.ok, report.problems
        legacy = store.dossier("legacy")
        assert (legacy.status, legacy.procedure_code, legacy.owner_id) == (None, None, OWNER)
        assert store.get("C1").kind.value == "component" and store.document_kind("d1") == "component"
        assert store.dossier_history("legacy") == []
    with pytest.raises(Exception, match="before dossiers had a status"):
        dossier.return_dossier("legacy")
    with Store.open(get_paths(sohoa_home)) as store:
        assert store.verify().ok


def _opened(home: Path) -> str:
    rec = dossier.open_dossier("1.001193", OWNER)
    dossier.request_papers(rec.id, "thiếu giấy chứng sinh", ("GCS",))
    return rec.id


@pytest.mark.parametrize(("sql", "expect"), [
    ("UPDATE dossiers SET status = 'returned'", "is not the last status"),
    ("UPDATE dossier_history SET reason = 'khác' WHERE status = 'additional_papers_requested'",
     "differs from what the audit chain recorded"),
    ("DELETE FROM dossier_history WHERE status = 'additional_papers_requested'", "was deleted outside the service"),
    ("INSERT INTO dossier_history(dossier_id, status, at, actor, audit_seq) "
     "SELECT id, 'returned', 'now', 'x', 1 FROM dossiers", "differs from what the audit chain recorded"),
])
def test_a_status_changed_outside_the_service_is_caught(sohoa_home: Path, sql: str, expect: str) -> None:
    _opened(sohoa_home)
    with Store.open(get_paths(sohoa_home)) as store:
        assert store.verify().ok
    conn = sqlite3.connect(get_paths(sohoa_home).database)
    conn.execute(sql)
    conn.commit()
    conn.close()
    with Store.open(get_paths(sohoa_home)) as store:
        report = store.verify()
    assert not report.ok and any(expect in p for p in report.problems), report.problems


def test_a_concurrent_change_is_refused_not_overwritten(sohoa_home: Path) -> None:
    dossier_id = _opened(sohoa_home)
    with Store.open(get_paths(sohoa_home)) as store:
        with pytest.raises(Exception, match="changed meanwhile"):
            store.set_dossier_status(dossier_id, "refused", expected="received", actor="officer", reason="x")
        assert store.dossier(dossier_id).status == "additional_papers_requested"


def test_catalogue_result_types_and_expected_document_types_round_trip() -> None:
    cat = parse_catalogue(SAMPLE.read_bytes(), SAMPLE.name)
    birth = cat.procedure("1.001193")
    assert birth.result_type == "KQ.G15.000031"
    assert birth.component("GKH").document_types == ("KQ.G15.000035",)
    again = parse_catalogue(json.dumps(to_json(cat)).encode(), "c.json")
    assert again == cat
    from_csv = parse_catalogue(to_csv(cat).encode(), "c.csv")
    assert from_csv == cat


@pytest.mark.parametrize(("patch", "expect"), [
    ({"result_type": "KQ.X15.1"}, "not a result-type code"),
    ({"result_type": 7}, "must be a text code"),
    ({"components": [{"code": "TK", "name": "Tờ khai", "document_types": ["a b"]}]}, "not well formed"),
    ({"components": [{"code": "TK", "name": "Tờ khai", "document_types": 7}]}, "must be a list"),
])
def test_a_bad_result_type_is_refused_with_its_entry(patch: dict, expect: str) -> None:
    data = json.loads(SAMPLE.read_text())
    data["fields"][0]["procedures"][0].update(patch)
    with pytest.raises(InputError, match="fields\\[1\\].procedures\\[1\\]") as exc:
        parse_catalogue(json.dumps(data).encode(), "c.json")
    assert expect in exc.value.message


def test_csv_without_the_optional_columns_still_imports() -> None:
    text = ("field_code,field_name,procedure_code,procedure_name,return_days,component_code,component_name,pages,"
            "required\nHT,Hộ tịch,1.001193,Đăng ký khai sinh,1,TK,Tờ khai,1,1\n")
    cat = parse_catalogue(text.encode(), "c.csv")
    assert cat.procedure("1.001193").result_type is None
