"""UI test fixtures: the real kiosk app under waitress, Debian Chromium via Playwright, dev token."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack
from typing import Any

import pytest

from tests.support.chromium import launch_chromium, serve

DEV_PIN = "123456"


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    with launch_chromium() as b:
        yield b


@pytest.fixture
def kiosk() -> Iterator[Callable[..., str]]:
    """``kiosk(**settings)`` starts the app for this test's SOHOA_HOME and returns its base URL."""
    from kiosk_ui.app import create_app

    stack = ExitStack()
    apps = []

    def start(**settings: Any) -> str:
        config = {"secret_key": "test-secret-key-" + "x" * 32, "dev_accounts": True, **settings}
        app = create_app(config)
        apps.append(app)
        return stack.enter_context(serve(app))

    yield start
    stack.close()
    for app in apps:
        app.extensions["kiosk_backend"].close()


@pytest.fixture
def dev_token() -> str:
    """The development SoftHSM token in this test's SOHOA_HOME; returns its PIN."""
    from provisioning.devtoken import ensure_dev_token
    from service.paths import get_paths

    info = ensure_dev_token(get_paths())
    assert info.pin == DEV_PIN
    return info.pin


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    ctx = browser.new_context(viewport={"width": 1280, "height": 800}, locale="vi-VN", accept_downloads=True)
    pg = ctx.new_page()
    pg.set_default_timeout(30_000)
    errors: list[str] = []
    pg.on("pageerror", lambda exc: errors.append(str(exc)))
    yield pg
    ctx.close()
    assert not errors, f"JavaScript errors: {errors}"
