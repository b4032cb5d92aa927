"""The box's health in telemetry, through real Mosquitto (mutual TLS) into PostgreSQL's ``gw_device``.

The key contract (``disk_free_bytes``, ``cpu_temp_c``, ``last_sync_success_ts``, ``queue``,
``oldest_queued_age_s``, ``software_version``, ``model_versions``) is what the province's web view
reads; the gateway accepts each only in its known type and shape.
"""

from __future__ import annotations

import re
import time
from pathlib import Path

import psycopg
import pytest

from bench.sync_common import ThreadGateway, add_document, make_pdf, sign_pdf, wait_until
from province_gateway.policy import telemetry_values
from service.store.store import Store
from service.sync import protocol as p
from tests.support.mosquitto import Broker, LabPki

from .conftest import Idents
from .test_delivery import make_worker

HEALTH = {"disk_free_bytes", "cpu_temp_c", "last_sync_success_ts", "queue", "oldest_queued_age_s",
          "software_version", "model_versions"}
DEV = "dev-a-0001"


def _thermal(root: Path, celsius_milli: str) -> Path:
    zone = root / "class" / "thermal" / "thermal_zone0"
    zone.mkdir(parents=True)
    (zone / "type").write_text("cpu-thermal\n")
    (zone / "temp").write_text(celsius_milli + "\n")
    return root


def test_gw_device_holds_the_boxs_health(store: Store, pki: LabPki, idents: Idents, broker: Broker,
                                         gateway: ThreadGateway, dsn: str, signer,  # type: ignore[no-untyped-def]
                                         tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOHOA_SYSFS_ROOT", str(_thermal(tmp_path / "sys", "51234")))
    add_document(store, sign_pdf(make_pdf(1), signer), 1)
    waiting = add_document(store, sign_pdf(make_pdf(2), signer), 2)
    row = store.outbox_for(waiting.id)[0]  # the gateway asked to come back later: still queued, not due
    store.mark_sending(row.id, actor="sync")
    store.mark_failed(row.id, "later", next_attempt_at="2099-01-01T00:00:00+00:00", actor="sync")
    before = time.time()
    worker = make_worker(store, pki, idents, broker.port)
    worker.run("127.0.0.1", broker.port, max_seconds=6)

    def telemetry() -> dict:  # type: ignore[type-arg]
        with psycopg.connect(dsn) as conn:
            got = conn.execute("SELECT telemetry FROM gw_device WHERE device_id=%s", (idents.a.name,)).fetchone()
        return (got[0] if got else None) or {}
    assert wait_until(lambda: "last_sync_success_ts" in telemetry(), 10), telemetry()
    t = telemetry()
    assert HEALTH <= set(t), set(t)
    assert isinstance(t["disk_free_bytes"], int) and t["disk_free_bytes"] > 0
    assert t["cpu_temp_c"] == pytest.approx(51.2)
    assert before - 5 <= t["last_sync_success_ts"] <= time.time() + 1
    assert t["queue"] == 1 and 0 <= t["oldest_queued_age_s"] < 600
    assert re.fullmatch(r"[0-9A-Za-z.+_-]+", t["software_version"])
    assert re.fullmatch(r"([a-z0-9._-]+@[0-9a-f]{8})(;[a-z0-9._-]+@[0-9a-f]{8})*", t["model_versions"])
    assert len(t["model_versions"]) <= 200 and "rec-asternet@" in t["model_versions"]
    assert not any(re.search(r"\d{9,}", str(v)) for v in t.values() if isinstance(v, str) and v != t.get(
        "audit_hash"))  # no identifier rides along


def test_unknown_values_are_left_out_not_sent_empty(store: Store, tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    from service.sync.store_source import StoreOutbox

    monkeypatch.setenv("SOHOA_SYSFS_ROOT", str(tmp_path))  # no thermal zone
    health = StoreOutbox(store).health()  # nothing ever delivered, nothing queued
    assert set(health) == {"disk_free_bytes", "software_version", "model_versions"}
    telemetry_values({"schema": p.TELEMETRY_SCHEMA, "MaThietBi": DEV, "queue": 0, **health}, DEV)


GOOD = {"disk_free_bytes": 12_345_678_901, "cpu_temp_c": 48.3, "last_sync_success_ts": 1_760_000_000, "queue": 3,
        "oldest_queued_age_s": 12.5, "software_version": "0.1.0", "model_versions": "det-ppocrv4@d2a7720d;"
        "rec-asternet@10c96b53;rec-asternet-int8@0c3c72ba"}


def test_the_gateway_accepts_exactly_the_known_shapes() -> None:
    body = {"schema": p.TELEMETRY_SCHEMA, "MaThietBi": DEV, **GOOD}
    assert telemetry_values(body, DEV) == GOOD
    assert telemetry_values({**body, "cpu_temp_c": 45}, DEV)["cpu_temp_c"] == 45  # an integral reading


@pytest.mark.parametrize("key, value", [
    ("disk_free_bytes", -1), ("disk_free_bytes", 1.5), ("disk_free_bytes", "12"),
    ("cpu_temp_c", 400.0), ("cpu_temp_c", "48"), ("last_sync_success_ts", -5), ("last_sync_success_ts", 1.0e9),
    ("queue", -1), ("oldest_queued_age_s", -0.1), ("oldest_queued_age_s", "1"),
    ("software_version", "1.0 beta"), ("software_version", ""), ("software_version", 1),
    ("model_versions", "det@d2a7720d;"), ("model_versions", "Nguyen Van A@d2a7720d"),
    ("model_versions", "det@D2A7720D"), ("model_versions", ";".join(["m@0123abcd"] * 25)),
    ("model_versions", "001099012345"),
])
def test_the_gateway_refuses_a_health_value_of_another_shape(key: str, value: object) -> None:
    with pytest.raises(p.ProtocolError) as info:
        telemetry_values({"schema": p.TELEMETRY_SCHEMA, "MaThietBi": DEV, **{**GOOD, key: value}}, DEV)
    assert info.value.reason == "bad-field"
