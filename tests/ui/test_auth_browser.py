"""Sign-in, wrong PIN, role violation, expired session and CSRF, in a real browser."""

from __future__ import annotations

import time
from typing import Any

from tests.support.chromium import screenshot


def _login_password(page: Any, base: str, user: str, password: str) -> None:
    page.goto(f"{base}/login")
    page.get_by_test_id("username").fill(user)
    page.get_by_test_id("password").fill(password)
    page.get_by_test_id("password-login").click()


def test_login_page_and_language_switch(page: Any, kiosk: Any) -> None:
    base = kiosk()
    page.goto(base + "/")
    assert page.url.endswith("/login")
    assert "Đăng nhập bằng thẻ ký số" in page.content()
    screenshot(page, "01-login-vi")
    page.get_by_test_id("lang-switch").click()
    assert "Sign in with your signing card" in page.content()
    screenshot(page, "02-login-en")
    page.get_by_test_id("lang-switch").click()
    assert "Đăng nhập bằng thẻ ký số" in page.content()


def test_wrong_pin_then_right_pin(page: Any, kiosk: Any, dev_token: str) -> None:
    base = kiosk()
    page.goto(f"{base}/login")
    for digit in "999999":
        page.locator(f".pinpad .key[data-key='{digit}']").first.click()
    page.get_by_test_id("card-login").click()
    err = page.get_by_test_id("login-error")
    assert "Không mở được thẻ" in err.inner_text()
    assert "Mã PIN không đúng" in err.inner_text()
    screenshot(page, "03-login-wrong-pin")
    page.get_by_test_id("pin").fill(dev_token)
    page.get_by_test_id("card-login").click()
    page.wait_for_url(f"{base}/officer/")
    assert "DEVELOPMENT ONLY" in page.get_by_test_id("who").inner_text()
    screenshot(page, "04-desk-card-login")


def test_bad_password_is_refused_then_locked_out(page: Any, kiosk: Any) -> None:
    base = kiosk()
    for _ in range(5):
        _login_password(page, base, "canbo", "wrong")
        assert "không đúng" in page.get_by_test_id("login-error").inner_text()
    _login_password(page, base, "canbo", "canbo-dev")  # right password, but the name is locked for a minute
    assert "quá nhiều lần" in page.get_by_test_id("login-error").inner_text()
    assert "/login" in page.url


def test_citizen_cannot_open_officer_pages(page: Any, kiosk: Any) -> None:
    base = kiosk()
    page.goto(f"{base}/citizen/")
    page.get_by_test_id("citizen-lookup").click()
    page.wait_for_url(f"{base}/citizen/lookup")
    resp = page.goto(f"{base}/officer/")
    assert resp is not None and resp.status == 403
    assert page.get_by_test_id("error-403").is_visible()
    screenshot(page, "05-citizen-forbidden-officer")
    resp = page.goto(f"{base}/technician/")
    assert resp is not None and resp.status == 403


def test_officer_cannot_open_technician_page(page: Any, kiosk: Any) -> None:
    base = kiosk()
    _login_password(page, base, "canbo", "canbo-dev")
    page.wait_for_url(f"{base}/officer/")
    resp = page.goto(f"{base}/technician/")
    assert resp is not None and resp.status == 403


def test_expired_session_goes_back_to_login(page: Any, kiosk: Any) -> None:
    base = kiosk(officer_idle_timeout_s=2)
    _login_password(page, base, "canbo", "canbo-dev")
    page.wait_for_url(f"{base}/officer/")
    time.sleep(2.5)
    page.get_by_test_id("new-dossier").click()  # a POST with a now-dead session
    page.wait_for_url(f"{base}/login**")
    assert page.get_by_test_id("expired").is_visible()
    screenshot(page, "06-session-expired")
    page.goto(f"{base}/officer/")
    assert "/login" in page.url


def test_logout_kills_the_session(page: Any, kiosk: Any) -> None:
    base = kiosk()
    _login_password(page, base, "canbo", "canbo-dev")
    page.wait_for_url(f"{base}/officer/")
    page.get_by_role("button", name="Đăng xuất").click()
    page.wait_for_url(f"{base}/login")
    page.goto(f"{base}/officer/")
    assert "/login" in page.url


def test_post_without_csrf_token_is_refused(page: Any, kiosk: Any) -> None:
    base = kiosk()
    _login_password(page, base, "canbo", "canbo-dev")
    page.wait_for_url(f"{base}/officer/")
    resp = page.request.post(f"{base}/officer/new", form={"x": "1"}, max_redirects=0)
    assert resp.status == 400
    resp = page.request.post(f"{base}/officer/new", form={"csrf_token": "forged"}, max_redirects=0)
    assert resp.status == 400


def test_no_development_accounts_on_a_production_box(page: Any, kiosk: Any) -> None:
    base = kiosk(dev_accounts=None)  # no development token in this SOHOA_HOME: a production box
    page.goto(f"{base}/login")
    assert page.get_by_test_id("username").count() == 0  # no local accounts configured, no password form
    resp = page.request.get(f"{base}/login")
    assert resp.ok


def test_pulling_the_card_ends_the_officer_session(page: Any, kiosk: Any, dev_token: str) -> None:
    import shutil
    from pathlib import Path

    from provisioning.devtoken import OFFICER_TOKEN_LABEL, token_dir_of
    from service.paths import get_paths

    base = kiosk()
    page.goto(f"{base}/login")
    page.get_by_test_id("pin").fill(dev_token)
    page.get_by_test_id("card-login").click()
    page.wait_for_url(f"{base}/officer/")
    token_dir = token_dir_of(Path(get_paths().tokens / "softhsm2.conf"), OFFICER_TOKEN_LABEL)
    assert token_dir is not None
    shutil.rmtree(token_dir)  # the card leaves the reader
    time.sleep(3.2)
    page.goto(f"{base}/officer/")
    assert "/login" in page.url and page.get_by_test_id("card-removed").is_visible()
    screenshot(page, "07-card-removed")
