"""Migration 0002 under the spine's runner, and the ``sohoa-gateway`` command line."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import psycopg

from province_gateway.cli import main as gateway_main
from service.domain.errors import ExitCode
from service.paths import get_paths
from service.store.db import connect, current_version, migrate
from service.store.sync_state import SyncProgress
from tests.support.mosquitto import Broker, LabPki

from .conftest import Idents

SYNC_TABLES = {"sync_progress", "sync_delivery", "sync_state"}


def tables(conn: sqlite3.Connection) -> set[str]:
    return {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}


def test_migration_0002_applies_from_version_1_and_is_idempotent(sohoa_home: Path) -> None:
    db = get_paths(sohoa_home).ensure().database
    conn = connect(db)
    assert migrate(conn, target=1) == 1
    assert not SYNC_TABLES & tables(conn)
    assert migrate(conn) >= 2
    assert SYNC_TABLES <= tables(conn)
    progress = SyncProgress(db)  # re-running the idempotent DDL on a migrated database is harmless
    progress.begin(1, "doc", "ab" * 32, 4096, 3)
    progress.chunk_sent(1, 0)
    progress.chunk_sent(1, 2)  # out of order: next_seq stays at the first gap
    got = progress.get(1)
    assert got is not None and got.next_seq == 1 and got.chunks_sent == 2
    progress.close()
    assert current_version(conn) >= 2
    conn.close()


def test_gateway_cli_refuses_incomplete_configuration(tmp_path: Path) -> None:
    assert gateway_main(["--files", str(tmp_path), "--dsn", ""]) == ExitCode.CONFIG
    assert gateway_main(["--files", str(tmp_path), "--dsn", "host=127.0.0.1"]) == ExitCode.CONFIG
    assert gateway_main(["--files", str(tmp_path), "--dsn", "x", "--plain",
                         "--bilateral-index", str(tmp_path / "missing.json")]) == ExitCode.CONFIG


def test_gateway_cli_serves_and_creates_its_schema(pki: LabPki, idents: Idents, broker: Broker, dsn: str,
                                                   tmp_path: Path) -> None:
    from bench.sync_common import make_signer

    base = ["--broker-port", str(broker.port), "--ca", str(pki.ca_file), "--cert", str(idents.gw.cert),
            "--key", str(idents.gw.key), "--dsn", dsn, "--files", str(tmp_path / "files"),
            "--replica-id", "gw-cli", "--max-seconds", "2"]
    # production configuration: signatures are checked against trust roots, which must be given
    assert gateway_main(base) == ExitCode.CONFIG
    make_signer(tmp_path / "ca")
    assert gateway_main([*base, "--trust-roots", str(tmp_path / "ca" / "signer.crt")]) == 0
    dossiers = tmp_path / "dossiers.json"
    dossiers.write_text('[{"MaDonVi": "office-a", "MaHoSo": "HS-9", "SoDinhDanhChuSoHuu": "001099012345"}]')
    assert gateway_main([*base, "--dev-trust-any", "--dossier-index", str(dossiers)]) == 0
    for bad in ('[{"MaDonVi": "office-a", "MaHoSo": "HS-9", "SoDinhDanhChuSoHuu": "00109\\n"}]', '{"x": 1}', "[1]"):
        dossiers.write_text(bad)
        assert gateway_main([*base, "--dev-trust-any", "--dossier-index", str(dossiers)]) == ExitCode.CONFIG, bad
    with psycopg.connect(dsn) as conn:
        names = {r[0] for r in conn.execute("SELECT tablename FROM pg_tables WHERE schemaname='public'")}
    assert {"gw_transfer", "gw_chunk", "gw_document", "gw_event", "gw_device", "gw_registry", "gw_dossier",
            "gw_lookup"} <= names
    with psycopg.connect(dsn) as conn:
        assert conn.execute("SELECT office, owner_id FROM gw_dossier WHERE dossier_code='HS-9'").fetchall() == [
            ("office-a", "001099012345")]


def test_gateway_imports_only_domain_and_the_pure_protocol() -> None:
    import ast

    # service.sync.mqttbase: the paho connection base and back-off shared with the device (paho + domain
    # only; tests/test_architecture.py checks the gateway's whole closure).
    allowed = {"service.domain.errors", "service.sync", "service.sync.protocol", "service.sync.wire",
               "service.sync.reuse_msgs", "service.sync.mqttbase",
               "service.durable"}  # durable: the one durable-write helper
    root = Path(__file__).resolve().parents[2]
    durable = ast.parse((root / "service/durable.py").read_text())  # ...which must stay stdlib-only
    assert {a.name for n in ast.walk(durable) if isinstance(n, ast.Import) for a in n.names} <= {"os", "tempfile"}
    assert {n.module for n in ast.walk(durable) if isinstance(n, ast.ImportFrom)} <= {"__future__", "pathlib"}
    for path in [*(root / "province_gateway").glob("*.py"), *(root / "service/sync").glob("[pwr]*.py")]:
        if path.parent.name == "sync" and path.stem not in ("protocol", "wire", "reuse_msgs"):
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            names = [node.module or ""] if isinstance(node, ast.ImportFrom) and node.level == 0 else (
                [a.name for a in node.names] if isinstance(node, ast.Import) else [])
            for name in names:
                if name.startswith("service"):
                    assert name in allowed, f"{path.name} imports {name}"
                if path.parent.name == "sync":  # the protocol itself does no I/O
                    assert name.split(".")[0] not in ("socket", "sqlite3", "paho", "psycopg", "os", "pathlib")
