"""Sessions, roles, CSRF and timeouts for the kiosk.

The browser holds a signed cookie naming a server-side session id; the server keeps the id's
role, last activity and CSRF token in memory, so logout and timeouts are enforced here, not by
the browser. A restart of the service logs everybody out, which is what an appliance wants.
"""

from __future__ import annotations

import math
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


# ----------------------------------------------------------------- attempt limits and refusal counters
@dataclass
class _Tries:
    failures: int = 0
    next_allowed: float = 0.0
    locked_until: float = 0.0


@dataclass(frozen=True)
class Verdict:
    """Whether one more attempt may run now; ``wait_s`` when not; ``newly_locked`` only from the failure
    that engaged the lock (so a lock is audited once)."""

    allowed: bool
    wait_s: int = 0
    locked: bool = False
    newly_locked: bool = False


class AttemptLimiter:
    """Back-off then lock-out of failed attempts per key (a session, the box), atomic across threads.

    An attempt is *reserved* under the lock before the slow check runs (PIN on the card, password
    hash), so N parallel requests never get more than the remaining tries. After the second and
    later failures the key waits ``backoff_s · 2^(failures-2)``; after ``max_failures`` it is locked
    for ``lock_s``.
    A success clears the key. Memory is bounded: at most ``max_keys`` keys are tracked.
    """

    def __init__(self, *, max_failures: int, lock_s: float, backoff_s: float = 1.0, max_keys: int = 10_000,
                 clock: Callable[[], float] = time.monotonic) -> None:
        """Limits of one kind of attempt; ``clock`` is replaceable for tests of the time limits."""
        self.max_failures, self.lock_s, self.backoff_s, self.max_keys = max_failures, lock_s, backoff_s, max_keys
        self.clock = clock
        self._lock = threading.Lock()
        self._items: dict[str, _Tries] = {}
        self._pending: dict[str, int] = {}

    def reserve(self, *keys: str) -> Verdict:
        """Reserve one attempt for every key, or refuse (nothing reserved) if any key must wait."""
        now = self.clock()
        with self._lock:
            for key in keys:
                tries = self._items.get(key)
                if tries is not None and tries.locked_until and tries.locked_until <= now:
                    self._items.pop(key)  # the lock period is over: a fresh start
                    tries = None
                tries = tries or _Tries()
                if tries.locked_until > now:
                    return Verdict(False, max(1, math.ceil(tries.locked_until - now)), True)
                if tries.failures + self._pending.get(key, 0) >= self.max_failures:
                    return Verdict(False, int(self.lock_s), True)
                if tries.next_allowed > now:
                    return Verdict(False, max(1, math.ceil(tries.next_allowed - now)))
            for key in keys:
                self._pending[key] = self._pending.get(key, 0) + 1
        return Verdict(True)

    def _release(self, key: str) -> None:
        left = self._pending.get(key, 0) - 1
        if left > 0:
            self._pending[key] = left
        else:
            self._pending.pop(key, None)

    def failed(self, *keys: str) -> Verdict:
        """A reserved attempt failed: count it (and lock the keys that reached the limit)."""
        now = self.clock()
        locked = False
        with self._lock:
            for key in keys:
                self._release(key)
                if key not in self._items and len(self._items) >= self.max_keys:
                    self._items.pop(next(iter(self._items)))
                tries = self._items.setdefault(key, _Tries())
                tries.failures += 1
                # the first mistake is a typo: no wait; then backoff_s, 2·backoff_s, ...
                tries.next_allowed = now + (self.backoff_s * 2 ** (tries.failures - 2) if tries.failures > 1 else 0)
                if tries.failures >= self.max_failures and tries.locked_until <= now:
                    tries.locked_until = now + self.lock_s
                    locked = True
        return Verdict(False, int(self.lock_s) if locked else 0, locked, locked)

    def succeeded(self, *keys: str) -> None:
        """A reserved attempt succeeded: the keys start afresh."""
        with self._lock:
            for key in keys:
                self._release(key)
                self._items.pop(key, None)

    def cancelled(self, *keys: str) -> None:
        """A reserved attempt never reached the check (bad form): give the reservation back."""
        with self._lock:
            for key in keys:
                self._release(key)


class RefusalCounter:
    """Refused anonymous requests counted per action and written as one audit row per interval.

    ``write(action, count, interval_s)`` is called for each action with a count when an interval has
    passed (checked on every refusal and every request), so unauthenticated clients cannot grow the
    audit log by more than one row per action and interval.
    """

    def __init__(self, write: Callable[[str, int, int], None], *, interval_s: float = 60.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        """``write`` appends the aggregated audit row."""
        self._write, self.interval_s, self.clock = write, interval_s, clock
        self._lock = threading.Lock()
        self._counts: dict[str, int] = {}
        self._since = clock()

    def count(self, action: str) -> None:
        """Count one refusal of ``action``."""
        with self._lock:
            self._counts[action] = self._counts.get(action, 0) + 1
        self.flush()

    def flush(self, *, force: bool = False) -> None:
        """Write the counts of a finished interval (or now, with ``force``)."""
        now = self.clock()
        with self._lock:
            if not self._counts or (not force and now - self._since < self.interval_s):
                if not self._counts:
                    self._since = now
                return
            counts, self._counts = self._counts, {}
            span = int(now - self._since)
            self._since = now
        for action, n in sorted(counts.items()):
            self._write(action, n, span)


#: Card PIN: per browser session 3 failures then 5 minutes; per box (the card's own counter does not
#: reset between sessions) 3 consecutive failures, a 1 s back-off after the second, then 15 minutes. Cards
#: lock after 3 to 10 wrong PINs; the box never spends the card's last try (see ``card_pin_gate``).
CARD_SESSION_LIMIT = {"max_failures": 3, "lock_s": 300.0, "backoff_s": 1.0}
CARD_BOX_LIMIT = {"max_failures": 3, "lock_s": 900.0, "backoff_s": 1.0}
#: Refused anonymous requests are counted and written as one audit row per action per minute.
REFUSAL_INTERVAL_S = 60.0


def limiter(name: str) -> AttemptLimiter:
    """The application's limiter ``card_session`` or ``card_box`` (created on first use)."""
    ext = current_app.extensions
    key = f"kiosk_limit_{name}"
    if key not in ext:
        limits = CARD_SESSION_LIMIT if name == "card_session" else CARD_BOX_LIMIT
        ext.setdefault(key, AttemptLimiter(max_failures=int(limits["max_failures"]), lock_s=limits["lock_s"],
                                           backoff_s=limits["backoff_s"]))
    lim: AttemptLimiter = ext[key]
    return lim


def login_key() -> str:
    """A per-browser key for attempt limits before anyone is signed in (kept in the signed cookie)."""
    key = session.get("login_key")
    if not isinstance(key, str):
        key = secrets.token_urlsafe(16)
        session["login_key"] = key
    return key


def refusals(write: Callable[[str, int, int], None]) -> RefusalCounter:
    """The application's counter of refused anonymous requests (``write`` is used when first created)."""
    ext = current_app.extensions
    if "kiosk_refusals" not in ext:
        ext.setdefault("kiosk_refusals", RefusalCounter(write, interval_s=REFUSAL_INTERVAL_S))
    counter: RefusalCounter = ext["kiosk_refusals"]
    return counter
