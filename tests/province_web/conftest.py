"""Province view fixtures: one real PostgreSQL per session, a fresh gateway database per test."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest

from province_gateway.web.app import create_app
from province_gateway.web.config import WebConfig
from province_gateway.web.queries import ViewDb
from tests.province_web.lab import Ingest, web_config
from tests.support.chromium import launch_chromium, serve
from tests.support.postgres import Postgres


@pytest.fixture(scope="session")
def pg() -> Iterator[Postgres]:
    server = Postgres().start()
    yield server
    server.stop()


@pytest.fixture
def dsn(pg: Postgres) -> str:
    return pg.fresh_database(f"pv_{uuid.uuid4().hex[:10]}")


@pytest.fixture
def ingest(dsn: str, tmp_path: Path) -> Iterator[Ingest]:
    lab = Ingest(dsn, tmp_path / "files")
    yield lab
    lab.close()


@pytest.fixture
def replica(dsn: str) -> Iterator[Callable[..., str]]:
    """``replica(name, **config)`` serves one province-view replica on the test database; returns its URL."""
    stack = ExitStack()

    def start(name: str = "web-a", **extra: Any) -> str:
        db = ViewDb(dsn, name)
        db.create_schema()
        app = create_app(WebConfig.model_validate(web_config(**extra)), db)
        return stack.enter_context(serve(app))

    yield start
    stack.close()


@pytest.fixture
def app_client(dsn: str) -> Any:
    """A Werkzeug client of one replica (the real WSGI app, no server)."""
    db = ViewDb(dsn, "web-t")
    db.create_schema()
    app = create_app(WebConfig.model_validate(web_config()), db)
    return app.test_client()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Chromium for one module: closed before the next module, which may start its own Playwright."""
    with launch_chromium() as b:
        yield b


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    ctx = browser.new_context(viewport={"width": 1400, "height": 900}, locale="vi-VN")
    pg = ctx.new_page()
    pg.set_default_timeout(30_000)
    yield pg
    ctx.close()
