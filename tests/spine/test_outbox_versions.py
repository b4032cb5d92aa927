"""One version out: only a document's final version is due; older unsent versions are superseded;
migration 0007 cleans a queue written by the old store (every version queued)."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from pydantic import ValidationError

from service.cli.main import main as sohoa_main
from service.domain.fields import FieldSource, FieldValue, Metadata
from service.paths import get_paths
from service.signing.config import DocumentKind, SigningConfig, SigningPolicy
from service.store import NewDocument, OutboxState, PageRecord, Store, audit, state
from service.store.db import connect, migrate
from service.store.files import FileStore

from .helpers import DOC_TYPE, OWNER

META = Metadata(DOC_TYPE, owner_id=FieldValue(OWNER, FieldSource.MANUAL))


def _add(store: Store, *, due: bool, pdf: bytes = b"%PDF-unsigned") -> str:
    page = PageRecord(1, store.files.put(b"page"), "image/jpeg", 100, 100, 300.0, "colour", "front", False, None)
    return store.add_document(NewDocument(f"{OWNER}.{DOC_TYPE}", META, store.files.put(pdf), (page,)),
                              actor="test", due=due).id


def test_policy_components_need_the_officer_results_officer_then_agency() -> None:
    policy = SigningConfig().policy
    assert policy.required(None) == ("officer",)  # no kind yet (no dossier model) = a component
    assert policy.is_final(DocumentKind.COMPONENT, ["officer"]) and not policy.is_final(None, [])
    assert not policy.is_final(DocumentKind.RESULT, ["officer"])
    assert policy.is_final("result", ["officer", "agency"])
    with pytest.raises(ValidationError, match="must include officer"):
        SigningPolicy(result=["agency"])
    with pytest.raises(ValidationError, match="unknown role"):
        SigningPolicy(component=["officer", "notary"])


def test_a_version_that_is_not_final_waits_and_the_final_one_supersedes_it(sohoa_home: Path) -> None:
    with Store.open(get_paths(sohoa_home)) as store:
        doc = _add(store, due=False)
        assert store.pending_outbox(now="5000-01-01") == []  # held: not due, however late
        assert store.count_awaiting_signature() == 1
        officer = store.replace_pdf(doc, b"%PDF-officer", actor="signing", due=False)  # a result: agency missing
        final = store.replace_pdf(doc, b"%PDF-officer-agency", actor="signing", due=True)
        rows = store.outbox_for(doc)
        assert [(r.pdf_sha256, r.state) for r in rows] == [
            (rows[0].pdf_sha256, OutboxState.SUPERSEDED), (officer.pdf_sha256, OutboxState.SUPERSEDED),
            (final.pdf_sha256, OutboxState.QUEUED)]
        assert [r.pdf_sha256 for r in store.pending_outbox()] == [final.pdf_sha256]
        assert store.count_awaiting_signature() == 0 and store.count_undelivered() == 1
        assert store.audit_entries(doc)[-1].details["superseded_outbox"] == [rows[1].id]
        assert store.verify().ok


def test_a_version_being_sent_may_finish_and_a_delivered_one_is_never_touched(sohoa_home: Path) -> None:
    with Store.open(get_paths(sohoa_home)) as store:
        doc = _add(store, due=True, pdf=b"%PDF-v1")
        [v1] = store.outbox_for(doc)
        store.mark_sending(v1.id, actor="uploader")
        store.replace_pdf(doc, b"%PDF-v2", actor="signing")
        assert [r.state for r in store.outbox_for(doc)] == [OutboxState.SENDING, OutboxState.QUEUED]
        store.mark_delivered(v1.id, actor="uploader")
        v2 = store.outbox_for(doc)[1]
        store.mark_sending(v2.id, actor="uploader")
        store.mark_failed(v2.id, "broker unreachable", next_attempt_at="2000-01-01T00:00:00+00:00", actor="uploader")
        store.replace_pdf(doc, b"%PDF-v3", actor="signing")
        assert [r.state for r in store.outbox_for(doc)] == [
            OutboxState.DELIVERED, OutboxState.SUPERSEDED, OutboxState.QUEUED]
        assert store.verify().ok


# ---------------------------------------------------------------- migration 0007 of an old queue
def _old_store(home: Path) -> dict[str, list[int]]:
    """A version-6 store written the old way: every PDF version queued, unsigned ones refused."""
    paths = get_paths(home).ensure()
    files = FileStore(paths.files)
    conn = connect(paths.database)
    migrate(conn, target=6)
    now = "2026-11-30T08:00:00.000000+00:00"
    out: dict[str, list[int]] = {}
    conn.execute("BEGIN IMMEDIATE")
    conn.execute("INSERT INTO dossiers(id, owner_id, created_at) VALUES ('d1', ?, ?)", (OWNER, now))
    # (state, attempts, last_error) per version, oldest first; the last one is the current PDF
    plans = {"A": [("failed", 3, "rejected: signature-missing"), ("queued", 0, None), ("queued", 0, None)],
             "B": [("delivered", 1, None), ("queued", 0, None)],
             "C": [("failed", 2, "rejected: signature-missing")],  # no newer version: left as it is
             "D": [("sending", 1, None), ("queued", 0, None)]}
    for name, plan in plans.items():
        shas = [files.put(f"%PDF-{name}-{i}".encode()) for i in range(len(plan))]
        conn.execute("INSERT INTO documents(id, result_code, dossier_id, document_type_code, owner_id, "
                     "metadata_json, pdf_sha256, page_count, state, created_at, updated_at) "
                     "VALUES (?, ?, 'd1', ?, ?, ?, ?, 1, 'signed', ?, ?)",
                     (name, f"{OWNER}.{DOC_TYPE}.{name}", DOC_TYPE, OWNER,
                      json.dumps(META.to_json(), ensure_ascii=False), shas[-1], now, now))
        conn.execute("INSERT INTO fields(document_id, name, value, source, confidence, updated_at) "
                     "VALUES (?, 'owner_id', ?, 'manual', 1.0, ?)", (name, OWNER, now))
        ids = []
        for sha, (st, attempts, err) in zip(shas, plan, strict=True):
            cur = conn.execute("INSERT INTO outbox(document_id, pdf_sha256, state, attempts, next_attempt_at, "
                               "last_error, created_at, delivered_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                               (name, sha, st, attempts, now, err, now, now if st == "delivered" else None))
            ids.append(int(cur.lastrowid or 0))
            if st in ("failed", "sending"):
                conn.execute("INSERT INTO sync_progress(outbox_id, document_id, pdf_sha256, chunk_size, "
                             "chunk_count, updated_at) VALUES (?, ?, ?, 1024, 3, 0)", (ids[-1], name, sha))
        audit.append(conn, actor="old", action="document_stored", subject=name, allowed=state.ALL_ROWS,
                     details={"pdf_sha256": shas[-1]})
        out[name] = ids
    conn.execute("COMMIT")
    conn.close()
    return out


def test_migration_0007_closes_stale_rows_of_an_old_queue_and_touches_nothing_delivered(sohoa_home: Path) -> None:
    ids = _old_store(sohoa_home)
    with Store.open(get_paths(sohoa_home)) as store:  # opening migrates 6 → current
        states = {name: [r.state.value for r in store.outbox_for(name)] for name in ids}
        assert states == {"A": ["superseded", "superseded", "queued"], "B": ["delivered", "queued"],
                          "C": ["failed"], "D": ["sending", "queued"]}
        assert store.get("B").pdf_sha256 == store.outbox_for("B")[1].pdf_sha256
        delivered = store.outbox_for("B")[0]
        assert delivered.delivered_at == "2026-11-30T08:00:00.000000+00:00"  # untouched
        fixes = [e for name in ids for e in store.audit_entries(name) if e.action == "outbox_superseded"]
        assert [(e.subject, e.details["outbox_ids"], e.actor) for e in fixes] == [
            ("A", ids["A"][:2], "migration-0007")]
        # `sync status` counts: A's refused/never-sent versions are no longer in progress
        assert store.count_undelivered() == 5  # newest of A, B, D + C's failed + D's version being sent
        assert store.verify().ok
        left = {int(r[0]) for r in store.conn.execute("SELECT outbox_id FROM sync_progress")}
        assert left == {ids["C"][0], ids["D"][0]}
        with pytest.raises(sqlite3.IntegrityError):  # the rebuilt table keeps its CHECK
            store.conn.execute("UPDATE outbox SET state = 'lost' WHERE id = ?", (ids["A"][2],))


def test_sync_status_lists_superseded_rows_as_closed(sohoa_home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ids = _old_store(sohoa_home)
    assert sohoa_main(["sync", "status"]) == 0
    status = json.loads(capsys.readouterr().out)
    assert status["outbox"] == {"superseded": 2, "queued": 3, "delivered": 1, "failed": 1, "sending": 1}
    assert status["in_progress"] == 5 and status["awaiting_signature"] == 0
    assert len(ids["A"]) == 3


def test_a_digitized_paper_waits_unsigned_and_is_not_due(sohoa_home: Path, write_page,  # type: ignore[no-untyped-def]
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    assert sohoa_main(["digitize", str(write_page(seed=4)), "--owner", OWNER, "--doc-type", DOC_TYPE, "--no-ocr",
                       "--field", "document_name=Giấy khai sinh", "--json"]) == 0
    done = json.loads(capsys.readouterr().out)
    assert done["queued"] is True  # recorded in the outbox (contract kept) ...
    with Store.open(get_paths(sohoa_home)) as store:
        assert store.pending_outbox(now="5000-01-01") == []  # ... but not due before its officer signature
    assert sohoa_main(["sync", "status"]) == 0
    status = json.loads(capsys.readouterr().out)
    assert status["awaiting_signature"] == 1 and status["outbox"] == {"queued": 1}
