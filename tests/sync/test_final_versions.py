"""One version out, end to end (device Store → Mosquitto → gateway → PostgreSQL): versions that are
not final never leave the box; superseded ones are not sent; the manifest says component/result and
names the dossier."""

from __future__ import annotations

from pathlib import Path

import psycopg

from bench.sync_common import ThreadGateway, add_document, compare, make_pdf, sign_pdf
from service.store.store import Store
from service.sync.store_source import loai_so_hoa
from tests.support.mosquitto import Broker, LabPki

from .conftest import Idents
from .test_delivery import make_worker, outbox_states


def test_only_the_final_version_of_each_document_leaves_the_box(store: Store, pki: LabPki, idents: Idents,
                                                                broker: Broker, gateway: ThreadGateway, dsn: str,
                                                                gw_files: Path, signer) -> None:  # type: ignore[no-untyped-def]
    # as the desk stores them now: the unsigned scan is held (not final), the signed one supersedes it
    held = add_document(store, make_pdf(1), 1, due=False)
    held_row = store.outbox_for(held.id)[0]
    signed = store.replace_pdf(held.id, sign_pdf(make_pdf(1, pad=500), signer), actor="officer")
    # an older final version queued but never attempted, then a newer final one
    other = add_document(store, sign_pdf(make_pdf(2), signer), 2)
    newest = store.replace_pdf(other.id, sign_pdf(make_pdf(102), signer), actor="agency")
    # a document still waiting for its signature
    add_document(store, make_pdf(3), 3, due=False)
    assert held_row.state == "queued"
    worker = make_worker(store, pki, idents, broker.port)
    stats = worker.run("127.0.0.1", broker.port, max_seconds=60, until_empty=True)
    assert stats.delivered == 2 and stats.rejected == 0
    with psycopg.connect(dsn) as conn:
        stored = conn.execute("SELECT document_id, sha256, kind, dossier_code, procedure_code FROM gw_document"
                              " ORDER BY id").fetchall()
        refused = conn.execute("SELECT count(*) FROM gw_event WHERE event = 'rejected'").fetchone()[0]
    assert sorted((d, s) for d, s, *_ in stored) == sorted([(held.id, signed.pdf_sha256),
                                                           (other.id, newest.pdf_sha256)])
    assert refused == 0  # nothing unsigned was uploaded and refused
    assert {(k, dc, pc) for _, _, k, dc, pc in stored} == {("component", held.dossier_id, None),
                                                         ("component", other.dossier_id, None)}
    assert outbox_states(store) == {"superseded": 2, "delivered": 2, "queued": 1}
    assert store.count_undelivered() == 1 and store.count_awaiting_signature() == 1
    assert compare(store, dsn, gw_files).bad_files == 0


def test_loai_so_hoa_is_result_only_for_a_result() -> None:
    assert (loai_so_hoa("result"), loai_so_hoa("component"), loai_so_hoa(None)) == ("1", "0", "0")
