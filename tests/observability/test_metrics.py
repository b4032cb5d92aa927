"""``sohoa metrics`` and the kiosk's ``GET /metrics``: Prometheus text read from the store on every scrape.

A store with known content (two components and a result, one version delivered, one failed, OCR
durations, signing failures) is scraped from the command line and compared with ``sohoa sync
status --json``; a real digitization with OCR and a real failed signature (no token) are counted
by a scrape in another process; the kiosk refuses a remote anonymous scraper and an officer.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families

from service.cli.main import main
from service.domain.fields import FieldSource, FieldValue, Metadata
from service.paths import get_paths
from service.store import DocumentKind, NewDocument, PageRecord, Store

REPO = Path(__file__).resolve().parents[2]
OWNER = "001099012345"
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def _samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """``{(sample name, sorted labels): value}`` of a Prometheus text exposition."""
    out = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


def _add(store: Store, n: int, kind: DocumentKind | None) -> str:
    meta = Metadata("KQ.G15.000031", owner_id=FieldValue(OWNER, FieldSource.MANUAL))
    pdf = store.files.put(f"%PDF-fake-{n}".encode())
    page = store.files.put(f"page-{n}".encode())
    rec = PageRecord(1, page, "image/jpeg", 100, 100, 300.0, "colour", "front", False, None)
    return store.add_document(NewDocument(f"{OWNER}.X.{n:02d}", meta, pdf, (rec,), kind=kind), actor="test").id


@pytest.fixture
def known_store(sohoa_home: Path) -> None:
    """2 components (one plain digitization), 1 result; one version delivered, one refused and retried."""
    with Store.open(get_paths(sohoa_home)) as store:
        a = _add(store, 1, None)
        _add(store, 2, DocumentKind.COMPONENT)
        c = _add(store, 3, DocumentKind.RESULT)
        row = store.outbox_for(a)[0]
        store.mark_sending(row.id, actor="sync")
        store.mark_delivered(row.id, actor="sync")
        row = store.outbox_for(c)[0]
        store.mark_sending(row.id, actor="sync")
        store.mark_failed(row.id, "broker down", next_attempt_at="2030-01-01T00:00:00+00:00", actor="sync")
        store.record_ocr_seconds([0.3, 1.5, 1.9, 70.0])
        for reason in ("TokenAbsent", "TokenAbsent", "PinIncorrect", "a reason with spaces"):
            store.record_signing_failure(reason)


def _fake_sysfs(root: Path) -> Path:
    for i, (kind, milli) in enumerate((("acpitz", "30000"), ("cpu-thermal", "47500"), ("broken", "x"))):
        zone = root / "class" / "thermal" / f"thermal_zone{i}"
        zone.mkdir(parents=True)
        (zone / "type").write_text(kind + "\n")
        (zone / "temp").write_text(milli + "\n")
    return root


def test_the_scrape_agrees_with_sync_status(known_store: None, tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["sync", "status", "--json"]) == 0
    status = json.loads(capsys.readouterr().out)
    sysfs = _fake_sysfs(tmp_path / "sys")
    assert main(["metrics", "--no-cards", "--sysfs-root", str(sysfs)]) == 0
    got = _samples(capsys.readouterr().out)
    for state in ("queued", "sending", "delivered", "failed", "superseded"):
        assert got[("sohoa_outbox_versions", (("state", state),))] == status["outbox"].get(state, 0), state
    assert status["outbox"] == {"delivered": 1, "failed": 1, "queued": 1}
    assert got[("sohoa_sync_last_success_timestamp_seconds", ())] == pytest.approx(
        datetime.fromisoformat(status["last_delivered_at"]).timestamp())
    assert got[("sohoa_documents_digitized_total", (("kind", "component"),))] == 2
    assert got[("sohoa_documents_digitized_total", (("kind", "result"),))] == 1
    assert got[("sohoa_ocr_seconds_count", ())] == 4 and got[("sohoa_ocr_seconds_sum", ())] == pytest.approx(73.7)
    assert got[("sohoa_ocr_seconds_bucket", (("le", "0.5"),))] == 1
    assert got[("sohoa_ocr_seconds_bucket", (("le", "2.0"),))] == 3
    assert got[("sohoa_ocr_seconds_bucket", (("le", "64.0"),))] == 3
    assert got[("sohoa_ocr_seconds_bucket", (("le", "+Inf"),))] == 4
    assert got[("sohoa_signing_failures_total", (("reason", "TokenAbsent"),))] == 2
    assert got[("sohoa_signing_failures_total", (("reason", "PinIncorrect"),))] == 1
    assert got[("sohoa_signing_failures_total", (("reason", "other"),))] == 1  # never free text
    assert got[("sohoa_cpu_temperature_celsius", ())] == 47.5  # the CPU zone, not the hotter-named one
    assert got[("sohoa_disk_free_bytes", ())] > 0


def test_no_thermal_zone_no_temperature_and_an_empty_store_scrapes(sohoa_home: Path, tmp_path: Path,
                                                                   capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "sys").mkdir()
    assert main(["metrics", "--no-cards", "--sysfs-root", str(tmp_path / "sys")]) == 0
    got = _samples(capsys.readouterr().out)
    assert not any(name == "sohoa_cpu_temperature_celsius" for name, _ in got)
    assert got[("sohoa_sync_last_success_timestamp_seconds", ())] == 0
    assert got[("sohoa_ocr_seconds_count", ())] == 0


def _sohoa(home: Path, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "service", *args], cwd=REPO, capture_output=True, text=True,
                          timeout=300, input=stdin, env={**os.environ, "SOHOA_HOME": str(home)})


def test_ocr_time_and_a_failed_signature_are_seen_by_another_process(sohoa_home: Path, tmp_path: Path) -> None:
    from tests.spine.helpers import page_image

    page = tmp_path / "page.jpg"
    page.write_bytes(page_image(seed=5))
    done = _sohoa(sohoa_home, "digitize", str(page), "--owner", OWNER, "--doc-type", "GT.XN_CU_TRU",
                  "--no-extract", "--field", "document_name=Giấy xác nhận", "--field", "number_symbol=12/GXN",
                  "--field", "issue_date=2024-05-02", "--field", "issuing_agency=UBND xã Hải Minh",
                  "--field", "summary=Xác nhận", "--json")
    assert done.returncode == 0, done.stderr
    code = json.loads(done.stdout)["result_code"]
    assert _sohoa(sohoa_home, "token", "init-dev").returncode == 0
    signed = _sohoa(sohoa_home, "sign", code, "--pin-stdin", stdin="000000\n")  # a wrong PIN
    assert signed.returncode == 12, signed.stderr
    scrape = _sohoa(sohoa_home, "metrics", "--no-cards")
    assert scrape.returncode == 0, scrape.stderr
    got = _samples(scrape.stdout)
    assert got[("sohoa_ocr_seconds_count", ())] == 1 and got[("sohoa_ocr_seconds_sum", ())] > 0
    assert got[("sohoa_signing_failures_total", (("reason", "PinIncorrect"),))] == 1
    assert got[("sohoa_documents_digitized_total", (("kind", "component"),))] == 1


@pytest.fixture
def app(sohoa_home: Path) -> Iterator[Any]:
    from kiosk_ui.app import create_app

    application = create_app({"secret_key": "test-secret-key-" + "x" * 32, "dev_accounts": True})
    application.config["TESTING"] = True
    yield application
    application.extensions["kiosk_backend"].close()


def _signed_in(app: Any, user: str, password: str, addr: str) -> Any:
    client = app.test_client()
    env = {"REMOTE_ADDR": addr}
    match = _CSRF.search(client.get("/login", environ_base=env).get_data(as_text=True))
    assert match
    resp = client.post("/login/password", data={"username": user, "password": password,
                                                "csrf_token": match.group(1)}, environ_base=env)
    assert resp.status_code == 302, resp.get_data(as_text=True)[:300]
    return client


def test_kiosk_metrics_only_for_loopback_or_a_technician(app: Any, known_store: None) -> None:
    remote = {"REMOTE_ADDR": "192.0.2.7"}
    refused = app.test_client().get("/metrics", environ_base=remote)
    assert refused.status_code == 403 and "sohoa_" not in refused.get_data(as_text=True)
    officer = _signed_in(app, "canbo", "canbo-dev", "192.0.2.7")
    assert officer.get("/metrics", environ_base=remote).status_code == 403
    local = app.test_client().get("/metrics", environ_base={"REMOTE_ADDR": "127.0.0.1"})
    assert local.status_code == 200 and local.mimetype == "text/plain"
    got = _samples(local.get_data(as_text=True))
    assert got[("sohoa_outbox_versions", (("state", "delivered"),))] == 1
    assert got[("sohoa_card_present", (("role", "officer"),))] == 0  # no card in this box
    tech = _signed_in(app, "kythuat", "kythuat-dev", "192.0.2.7")
    resp = tech.get("/metrics", environ_base=remote)
    assert resp.status_code == 200
    assert _samples(resp.get_data(as_text=True))[("sohoa_documents_digitized_total", (("kind", "result"),))] == 1
    with Store.open(get_paths()) as store:
        assert any(e.action == "kiosk.access.refused" for e in store.audit_entries())
