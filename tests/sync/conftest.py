"""Fixtures of the sync tests: one real broker, one real PostgreSQL per session; the rest per test."""

from __future__ import annotations

import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from bench.sync_common import (
    GATEWAY_USER,
    PROVINCE,
    ThreadGateway,
    gateway_settings,
    make_signer,
    start_thread_gateway,
)
from province_gateway.db import register_device
from province_gateway.service import GatewaySettings
from service.paths import get_paths
from service.store.store import Store
from tests.support.mosquitto import Broker, Identity, LabPki
from tests.support.postgres import Postgres

OFFICES = {"dev-a-0001": "office-a", "dev-b-0002": "office-b"}


@dataclass
class Idents:
    """Certificates of the lab: devices a and b (province 70, offices a and b), the gateway and a monitor."""

    a: Identity
    b: Identity
    gw: Identity
    spy: Identity


@pytest.fixture(scope="session")
def pki() -> Iterator[LabPki]:
    with tempfile.TemporaryDirectory(prefix="sohoa-pki-") as d:
        yield LabPki(Path(d))


@pytest.fixture(scope="session")
def idents(pki: LabPki) -> Idents:
    return Idents(pki.issue("dev-a-0001"), pki.issue("dev-b-0002"), pki.issue(GATEWAY_USER),
                  pki.issue("monitor-70"))


@pytest.fixture(scope="session")
def broker(pki: LabPki, idents: Idents) -> Iterator[Broker]:
    b = Broker(pki, gateway_user=GATEWAY_USER, gateways=(idents.spy.name,), max_packet_size=2 * 1024 * 1024)
    for dev in (idents.a, idents.b):
        b.enrol(dev.name, PROVINCE)  # before start: written to the dynamic-security file
    b.start()
    yield b
    b.stop()


@pytest.fixture(scope="session")
def pg() -> Iterator[Postgres]:
    server = Postgres().start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def signer(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    return make_signer(tmp_path_factory.mktemp("signer"))


@pytest.fixture
def dsn(pg: Postgres, idents: Idents) -> str:
    """A fresh gateway database whose registry knows devices a and b."""
    url = pg.fresh_database(f"gw_{uuid.uuid4().hex[:10]}")
    for dev in (idents.a, idents.b):
        register_device(url, dev.name, PROVINCE, OFFICES[dev.name])
    return url


@pytest.fixture
def gw_files(tmp_path: Path) -> Path:
    return tmp_path / "gw-files"


@pytest.fixture
def gw_settings(pki: LabPki, idents: Idents, broker: Broker, dsn: str, gw_files: Path) -> GatewaySettings:
    return gateway_settings(pki, idents.gw, broker.port, dsn, gw_files, f"gw-{uuid.uuid4().hex[:8]}",
                            session_expiry_s=0)


@pytest.fixture
def gateway(gw_settings: GatewaySettings) -> Iterator[ThreadGateway]:
    g = start_thread_gateway(gw_settings)
    yield g
    g.close()


@pytest.fixture
def store(sohoa_home: Path) -> Iterator[Store]:
    s = Store.open(get_paths(sohoa_home))
    yield s
    s.close()
