"""Sign-in (smart card + PIN, or a local account where configured), sign-out, language switch."""

from __future__ import annotations

from urllib.parse import urlparse

from flask import Blueprint, Response, redirect, render_template, request, session, url_for

from kiosk_ui import security
from kiosk_ui.context import audit, backend, refuse, t
from kiosk_ui.i18n import LANGUAGES
from kiosk_ui.messages import describe
from service.errors import PermissionDenied, TokenError

bp = Blueprint("auth", __name__)

HOME_OF = {"officer": "officer.desk", "supervisor": "officer.desk", "technician": "technician.page",
           "citizen": "citizen.start"}


def _safe_next(value: str | None, fallback: str) -> str:
    """Only same-site relative paths are followed after login (no open redirects)."""
    if value and value.startswith("/") and not value.startswith("//") and not urlparse(value).netloc:
        return value
    return fallback


@bp.get("/")
def home() -> Response:
    """Send the user to the start page of their role, or to the login page."""
    s = security.current()
    if s is None:
        return redirect(url_for("auth.login"))  # type: ignore[return-value]
    return redirect(url_for(HOME_OF[s.role]))  # type: ignore[return-value]


def _login_page(error: str = "", status: int = 200) -> Response:
    html = render_template("auth/login.html", error=error, expired=request.args.get("expired") == "1",
                           card_removed=request.args.get("card_removed") == "1",
                           next=request.args.get("next"), password_login=backend().has_local_accounts())
    return Response(html, status=status)


@bp.get("/login")
def login() -> Response:
    """The sign-in page: card PIN pad and, where configured, the local account form."""
    return _login_page()


def _after_login(role: str) -> Response:
    return redirect(_safe_next(request.args.get("next"), url_for(HOME_OF[role])))  # type: ignore[return-value]


def _card_pin_gate() -> str | None:
    """Why the card must not be tried now (its last try, or it is locked), else None."""
    status = backend().card_pin_state()
    if status.get("pin_locked") or status.get("pin_final_try"):
        return t("auth.card_last_try")
    return None


@bp.post("/login/card")
def login_card() -> Response:
    """Open the officer's card with the PIN; the certificate names the officer.

    Attempts are limited per browser session and per box (back-off, then a lock audited once);
    the card's last PIN try is never spent here.
    """
    pin = request.form.get("pin", "")
    if not pin.isdigit() or not 4 <= len(pin) <= 16:
        return _login_page(t("auth.pin_format"), 400)
    keys = ("box",)
    verdict = security.limiter("card_box").reserve(*keys)
    sess = f"session:{security.login_key()}"
    if verdict.allowed:
        per_session = security.limiter("card_session").reserve(sess)
        if not per_session.allowed:
            security.limiter("card_box").cancelled(*keys)
            verdict = per_session
    if not verdict.allowed:
        refuse("login.card.refused")
        if verdict.locked:
            return _login_page(t("auth.pin_locked", minutes=max(1, verdict.wait_s // 60)), 429)
        return _login_page(t("auth.pin_wait", seconds=verdict.wait_s), 429)
    gate = _card_pin_gate()
    if gate is not None:
        security.limiter("card_box").cancelled(*keys)
        security.limiter("card_session").cancelled(sess)
        return _login_page(gate, 423)
    try:
        officer = backend().card_login(pin)
    except TokenError as exc:
        box = security.limiter("card_box").failed(*keys)
        mine = security.limiter("card_session").failed(sess)
        if box.newly_locked or mine.newly_locked:
            audit("login.card.locked", "", scope="box" if box.newly_locked else "session")
        refuse("login.card.failed")
        return _login_page(t("auth.card_refused", reason=describe(exc)), 401)
    except BaseException:
        security.limiter("card_box").cancelled(*keys)
        security.limiter("card_session").cancelled(sess)
        raise
    security.limiter("card_box").succeeded(*keys)
    security.limiter("card_session").succeeded(sess)
    s = security.sign_in("officer", officer.user_id, officer.name)
    s.data["auth"] = "card"
    audit("login.card", "")
    return _after_login("officer")


@bp.post("/login/password")
def login_password() -> Response:
    """Sign in with a local account (technician, supervisor, or an officer without a card)."""
    try:
        account = backend().local_login(request.form.get("username", ""), request.form.get("password", ""))
    except PermissionDenied:
        refuse("login.password.locked")
        return _login_page(t("auth.locked"), 429)
    if account is None:
        refuse("login.password.failed")
        return _login_page(t("auth.bad_password"), 401)
    s = security.sign_in(account.role, account.username, account.display_name)
    s.data["auth"] = "password"
    audit("login.password", "")
    return _after_login(account.role)


@bp.post("/logout")
def logout() -> Response:
    """End the session (the card session with it)."""
    audit("logout", "")
    closed = security.sign_out()
    if closed is not None and closed.data.get("auth") == "card":
        backend().card_logout()
    return redirect(url_for("auth.login"))  # type: ignore[return-value]


@bp.get("/lang/<code>")
def set_language(code: str) -> Response:
    """Switch the interface language and go back where the user was."""
    if code in LANGUAGES:
        session["lang"] = code
    return redirect(_safe_next(request.args.get("next"), url_for("auth.home")))  # type: ignore[return-value]
