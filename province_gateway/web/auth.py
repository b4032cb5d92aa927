"""Who is asking: the signed session cookie (pages) or HTTP Basic (API clients), the CSRF token, roles.

The session cookie is signed with the configured ``secret_key`` and carries the user name, a tag
of the password hash (a changed password ends old sessions on every replica) and the CSRF token.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar, cast

from flask import current_app, g, request, session

from .config import Role, WebConfig, WebUser, hash_password, verify_password

F = TypeVar("F", bound=Callable[..., Any])
_DUMMY_HASH = hash_password("not-a-password", salt=b"0" * 16)  # equal work for unknown user names


class Refused(Exception):
    """A request refused before the view runs: HTTP ``status`` and the Vietnamese ``message``."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status, self.message = status, message


def config() -> WebConfig:
    """The running app's configuration."""
    return cast(WebConfig, current_app.config["WEB"])


def _tag(user: WebUser) -> str:
    key = config().secret_key.encode()
    return hmac.new(key, user.password_hash.encode(), hashlib.sha256).hexdigest()[:16]


def check_password(username: str, password: str) -> WebUser | None:
    """The account when ``password`` is right (same work whether or not the user exists)."""
    user = config().user(username)
    ok = verify_password(password, user.password_hash if user else _DUMMY_HASH)
    return user if user is not None and ok else None


def log_in(user: WebUser) -> None:
    """Start a session for ``user`` (a new CSRF token too)."""
    session.clear()
    session.permanent = True
    session["u"], session["t"], session["csrf"] = user.username, _tag(user), secrets.token_urlsafe(32)


def log_out() -> None:
    """End the session."""
    session.clear()


def current_user() -> WebUser | None:
    """The viewer: the session's user, or on ``/api/`` an HTTP Basic user; None when anonymous."""
    if "user" in g:
        return cast(WebUser | None, g.user)
    user = None
    name = session.get("u")
    if isinstance(name, str):
        found = config().user(name)
        if found is not None and hmac.compare_digest(str(session.get("t", "")), _tag(found)):
            user = found
    auth = request.authorization
    if user is None and request.path.startswith("/api/") and auth is not None and auth.type == "basic":
        user = check_password(auth.username or "", auth.password or "")
        g.basic = user is not None
    g.user = user
    return user


def csrf_token() -> str:
    """The session's CSRF token (made on first use, also for the login form)."""
    token = session.get("csrf")
    if not isinstance(token, str):
        token = session["csrf"] = secrets.token_urlsafe(32)
    return token


def check_csrf() -> None:
    """Refuse a form or API POST whose token (field ``csrf_token`` or header ``X-CSRF-Token``) is wrong.

    An API client authenticated by HTTP Basic sends no cookie and needs no token.
    """
    if g.get("basic"):
        return
    sent = request.form.get("csrf_token") or request.headers.get("X-CSRF-Token") or ""
    want = session.get("csrf")
    if not isinstance(want, str) or not hmac.compare_digest(sent.encode(), want.encode()):
        raise Refused(400, "Phiên làm việc đã hết hạn hoặc biểu mẫu không hợp lệ (mã CSRF sai). "
                           "Hãy tải lại trang và thử lại.")


def require(*roles: Role) -> Callable[[F], F]:
    """Only a signed-in viewer with one of ``roles`` reaches the view (401 anonymous, 403 other roles)."""

    def wrap(view: F) -> F:
        @wraps(view)
        def inner(*args: Any, **kwargs: Any) -> Any:
            user = current_user()
            if user is None:
                raise Refused(401, "Cần đăng nhập.")
            if roles and user.role not in roles:
                raise Refused(403, "Vai trò của bạn không được xem trang này.")
            return view(*args, **kwargs)

        return cast(F, inner)

    return wrap
