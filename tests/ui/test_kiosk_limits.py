"""Kiosk attempt limits with the real Flask app: card PIN (SoftHSM dev token), parallel password guesses,
aggregated refusals, and form text hygiene."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from service.paths import get_paths
from service.store import Store

_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@pytest.fixture
def app() -> Iterator[Any]:
    from kiosk_ui.app import create_app

    application = create_app({"secret_key": "test-secret-key-" + "x" * 32, "dev_accounts": True})
    application.config["TESTING"] = True
    yield application
    application.extensions["kiosk_backend"].close()


def _client(app: Any) -> tuple[Any, str]:
    client = app.test_client()
    html = client.get("/login").get_data(as_text=True)
    match = _CSRF.search(html)
    assert match, "login page has a CSRF token"
    return client, match.group(1)


def _actions(prefix: str) -> list[Any]:
    with Store.open(get_paths()) as store:
        return [e for e in store.audit_entries() if e.action.startswith(prefix)]


class FakeClock:
    """A monotonic clock the test moves forward (the limiters' time source)."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _limited(app: Any) -> FakeClock:
    from kiosk_ui import security

    clock = FakeClock()
    for name, limits in (("card_box", security.CARD_BOX_LIMIT), ("card_session", security.CARD_SESSION_LIMIT)):
        app.extensions[f"kiosk_limit_{name}"] = security.AttemptLimiter(
            max_failures=int(limits["max_failures"]), lock_s=limits["lock_s"], backoff_s=limits["backoff_s"],
            clock=clock)
    return clock


def _pin(app: Any, pin: str) -> Any:
    client, token = _client(app)  # a new browser session for every guess: the box limit still holds
    return client.post("/login/card", data={"pin": pin, "csrf_token": token})


def test_card_pin_brute_force_is_stopped_and_the_lock_audited_once(app: Any, dev_token: str) -> None:
    clock = _limited(app)
    codes = [_pin(app, "999999").status_code for _ in range(15)]
    assert codes[:2] == [401, 401] and set(codes[2:]) == {429}  # back-off after the second wrong PIN
    assert "Vui lòng chờ 1 giây" in _pin(app, "999999").get_data(as_text=True)
    clock.now += 2
    assert _pin(app, "999999").status_code == 401  # the third wrong PIN reaches the card and locks the box
    for _ in range(10):
        resp = _pin(app, "999999")
        assert resp.status_code == 429 and "bị khóa trong 15 phút" in resp.get_data(as_text=True)
    assert _pin(app, dev_token).status_code == 429  # the right PIN is refused too while locked
    assert len(_actions("kiosk.login.card.locked")) == 1  # audited once
    clock.now += 901
    assert _pin(app, dev_token).status_code == 302  # after the lock period the officer signs in
    # refused anonymous requests are counted, not written one row each
    app.extensions["kiosk_refusals"].flush(force=True)
    counted = [e for e in _actions("kiosk.login.card.") if e.action in ("kiosk.login.card.failed",
                                                                         "kiosk.login.card.refused")]
    assert sum(int(e.details["count"]) for e in counted) == 28 and len(counted) <= 4


def test_one_typo_then_the_right_pin_signs_in(app: Any, dev_token: str) -> None:
    client, token = _client(app)
    assert client.post("/login/card", data={"pin": "999999", "csrf_token": token}).status_code == 401
    resp = client.post("/login/card", data={"pin": dev_token, "csrf_token": token})
    assert resp.status_code == 302 and resp.headers["Location"].endswith("/officer/")


def test_forty_parallel_password_guesses_get_exactly_five_checks(app: Any) -> None:
    clients = [_client(app) for _ in range(40)]
    barrier = threading.Barrier(40)
    codes: list[int] = []

    def guess(client: Any, token: str) -> None:
        barrier.wait()
        resp = client.post("/login/password", data={"username": "canbo", "password": "wrong", "csrf_token": token})
        codes.append(resp.status_code)

    threads = [threading.Thread(target=guess, args=c) for c in clients]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert codes.count(401) == 5 and codes.count(429) == 35
    client, token = _client(app)
    locked = client.post("/login/password", data={"username": "canbo", "password": "canbo-dev", "csrf_token": token})
    assert locked.status_code == 429


def test_refused_csrf_requests_become_one_counted_audit_row(app: Any) -> None:
    before = len(_actions(""))
    client, _ = _client(app)
    for _ in range(50):
        assert client.post("/login/password", data={"username": "x", "password": "y"}).status_code == 400
    assert len(_actions("")) == before  # nothing written per request
    app.extensions["kiosk_refusals"].flush(force=True)
    rows = _actions("kiosk.csrf.refused")
    assert len(rows) == 1 and rows[0].details["count"] == "50" and rows[0].actor == "anonymous"


@pytest.mark.parametrize("value", ["Nguyễn\u202eA", "A\x00B", "x" * 1_000_000, "Văn\u200bA"])
def test_kiosk_form_text_with_invisible_characters_or_too_long_is_refused_in_vietnamese(app: Any,
                                                                                       value: str) -> None:
    client, token = _client(app)
    assert client.post("/login/password", data={"username": "canbo", "password": "canbo-dev",
                                                "csrf_token": token}).status_code == 302
    html = client.get("/officer/").get_data(as_text=True)
    token = _CSRF.search(html).group(1)  # type: ignore[union-attr]
    resp = client.post("/officer/", data={"owner_name": value, "owner_id": "", "csrf_token": token})
    assert resp.status_code == 400
    assert "Ô “Họ và tên” có ký tự không hợp lệ" in resp.get_data(as_text=True)
