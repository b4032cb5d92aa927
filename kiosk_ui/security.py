"""Sessions, roles, CSRF and timeouts for the kiosk.

The browser holds a signed cookie naming a server-side session id; the server keeps the id's
role, last activity and CSRF token in memory, so logout and timeouts are enforced here, not by
the browser. A restart of the service logs everybody out, which is what an appliance wants.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import wraps
from typing import ParamSpec, TypeVar

from flask import abort, current_app, g, session

P = ParamSpec("P")
R = TypeVar("R")

ROLES: tuple[str, ...] = ("officer", "supervisor", "technician", "citizen")
# Which roles may use which area (supervisors may do what officers and technicians do).
AREA_ROLES: dict[str, frozenset[str]] = {
    "officer": frozenset({"officer", "supervisor"}),
    "technician": frozenset({"technician", "supervisor"}),
    "citizen": frozenset({"citizen"}),
}


@dataclass
class KioskSession:
    """One signed-in user (or one anonymous citizen at the self-service screen)."""

    sid: str
    role: str
    user_id: str
    display_name: str
    started: float
    last_seen: float
    csrf: str = field(default_factory=lambda: secrets.token_urlsafe(32))
    data: dict[str, str] = field(default_factory=dict)  # small per-session values (draft ids)


class SessionRegistry:
    """Thread-safe in-memory map of live sessions with idle and absolute limits."""

    def __init__(self, idle_s: dict[str, int], max_s: int,
                 on_expire: Callable[[KioskSession], None] | None = None) -> None:
        """``idle_s`` maps a role to its idle timeout; ``max_s`` bounds any session.

        ``on_expire`` runs for every session that times out (a citizen's unsent papers are
        discarded there), whether or not its browser ever comes back.
        """
        self._idle = idle_s
        self._max = max_s
        self._on_expire = on_expire
        self._lock = threading.Lock()
        self._items: dict[str, KioskSession] = {}

    def _dead(self, s: KioskSession, now: float) -> bool:
        idle = self._idle.get(s.role, min(self._idle.values()))
        return now - s.last_seen > idle or now - s.started > self._max

    def _expired(self, gone: list[KioskSession]) -> None:
        if self._on_expire is not None:
            for s in gone:
                self._on_expire(s)

    def sweep(self) -> int:
        """Remove every timed-out session (run on each request); returns how many went."""
        now = time.monotonic()
        with self._lock:
            gone = [s for s in self._items.values() if self._dead(s, now)]
            for s in gone:
                del self._items[s.sid]
        self._expired(gone)
        return len(gone)

    def open(self, role: str, user_id: str, display_name: str) -> KioskSession:
        """Start a new session (a fresh id, so a fixated id is never reused)."""
        now = time.monotonic()
        s = KioskSession(secrets.token_urlsafe(24), role, user_id, display_name, now, now)
        with self._lock:
            self._items[s.sid] = s
        return s

    def touch(self, sid: str, *, refresh: bool = True) -> tuple[KioskSession | None, bool]:
        """The live session for ``sid`` and whether an existing one just expired.

        ``refresh`` counts the request as user activity; background polls (live preview, job
        progress, sync state) pass False so an unattended screen still times out.
        """
        now = time.monotonic()
        with self._lock:
            s = self._items.get(sid)
            if s is None:
                return None, False
            if not self._dead(s, now):
                if refresh:
                    s.last_seen = now
                return s, False
            del self._items[sid]
        self._expired([s])
        return None, True

    def close(self, sid: str) -> KioskSession | None:
        """End a session (logout, citizen finished); returns what was closed."""
        with self._lock:
            return self._items.pop(sid, None)

    def count(self) -> int:
        """Number of live sessions (for the technician page)."""
        with self._lock:
            return len(self._items)


def registry() -> SessionRegistry:
    """The application's session registry."""
    reg: SessionRegistry = current_app.extensions["kiosk_sessions"]
    return reg


def current() -> KioskSession | None:
    """The session of this request, if any (set by the app's ``before_request``)."""
    s: KioskSession | None = g.get("kiosk_session")
    return s


def sign_in(role: str, user_id: str, display_name: str) -> KioskSession:
    """Replace whatever session this browser had with a new one for this user."""
    old = session.get("sid")
    if isinstance(old, str):
        registry().close(old)
    lang = session.get("lang")
    session.clear()
    if isinstance(lang, str):
        session["lang"] = lang
    s = registry().open(role, user_id, display_name)
    session["sid"] = s.sid
    g.kiosk_session = s
    return s


def sign_out() -> KioskSession | None:
    """Close this browser's session and forget it (the language choice is kept)."""
    sid = session.get("sid")
    closed = registry().close(sid) if isinstance(sid, str) else None
    lang = session.get("lang")
    session.clear()
    if isinstance(lang, str):
        session["lang"] = lang
    g.kiosk_session = None
    return closed


def require(area: str) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """View decorator: a signed-in session whose role may use ``area`` (401 / 403 otherwise)."""
    allowed = AREA_ROLES[area]

    def deco(view: Callable[P, R]) -> Callable[P, R]:
        @wraps(view)
        def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
            s = current()
            if s is None:
                abort(401)
            if s.role not in allowed:
                abort(403)
            return view(*args, **kwargs)

        return wrapper

    return deco


def csrf_ok(token: str | None) -> bool:
    """Whether ``token`` matches this session's CSRF token (constant-time)."""
    s = current()
    expected = s.csrf if s is not None else session.get("anon_csrf")
    return bool(token) and isinstance(expected, str) and secrets.compare_digest(token or "", expected)


def csrf_token() -> str:
    """The token forms must send back (per session; anonymous pages get their own)."""
    s = current()
    if s is not None:
        return s.csrf
    tok = session.get("anon_csrf")
    if not isinstance(tok, str):
        tok = secrets.token_urlsafe(32)
        session["anon_csrf"] = tok
    return tok
