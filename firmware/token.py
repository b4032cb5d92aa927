"""PKCS#11 token driver: module loading, slot discovery, card presence, login kept for a shift.

A driver: it never imports ``service``. It raises :class:`TokenDriverError` subclasses, which the
signing room maps to the service's typed errors. PINs are passed straight to ``C_Login`` and are
never logged, stored or put in an exception message.

SoftHSM2 (the development token and the tests) reads ``SOFTHSM2_CONF`` and scans its token
directory only at ``C_Initialize``: :func:`load_module` sets the variable before loading and the
token lookup re-initialises the module (when none of our sessions is open) before concluding that
a token is absent, which is also how a freshly inserted card is picked up.
"""

from __future__ import annotations

import logging
import os
import threading
from dataclasses import dataclass
from typing import Any

import pkcs11
from pkcs11 import Attribute, ObjectClass
from pkcs11 import exceptions as p11e

# The URI parser lives with the token configuration (config validation needs no driver).
from firmware.config import Pkcs11Uri as Pkcs11Uri
from firmware.config import parse_pkcs11_uri as parse_pkcs11_uri

log = logging.getLogger(__name__)

CKF_USER_PIN_COUNT_LOW = 0x00010000
CKF_USER_PIN_FINAL_TRY = 0x00020000
CKF_USER_PIN_LOCKED = 0x00040000
CKF_PROTECTED_AUTHENTICATION_PATH = 0x00000100

SOFTHSM_MODULE_CANDIDATES = (
    "/usr/lib/softhsm/libsofthsm2.so",
    "/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so",
    "/usr/lib/aarch64-linux-gnu/softhsm/libsofthsm2.so",
)

_lock = threading.RLock()
_module_env: dict[str, str | None] = {}
_open_sessions: dict[str, int] = {}


class TokenDriverError(Exception):
    """Base of the driver's errors (messages never contain a PIN)."""


class ModuleLoadError(TokenDriverError):
    """The PKCS#11 module cannot be loaded or initialised."""


class TokenNotFound(TokenDriverError):
    """No token matching the selection is inserted."""


class TokenGone(TokenDriverError):
    """The token was present when the session opened and has since been removed."""


class PinRejected(TokenDriverError):
    """``C_Login`` refused the PIN; ``tries_left`` is 1 (final try), None (unknown) or 0 (locked)."""

    def __init__(self, message: str, *, tries_left: int | None, count_low: bool) -> None:
        super().__init__(message)
        self.tries_left = tries_left
        self.count_low = count_low


class PinLockedOut(TokenDriverError):
    """The token reports the user PIN as locked (``CKF_USER_PIN_LOCKED`` / ``CKR_PIN_LOCKED``)."""


class NotLoggedIn(TokenDriverError):
    """An operation needs the user session and the PIN has not been given yet."""


class ObjectMissing(TokenDriverError):
    """The requested certificate or key is not on the token."""


@dataclass(frozen=True, slots=True)
class TokenSelector:
    """Which token to use: by label and/or serial number (from config or a ``pkcs11:`` URI)."""

    label: str | None = None
    serial: str | None = None

    def matches(self, label: str, serial: str) -> bool:
        """True when a token with this label and serial number satisfies the selection."""
        return (self.label is None or self.label == label) and (self.serial is None or self.serial == serial)

    def describe(self) -> str:
        """A human-readable form for error messages."""
        parts = [f"label={self.label!r}" if self.label else "", f"serial={self.serial!r}" if self.serial else ""]
        return ", ".join(p for p in parts if p) or "any token"


@dataclass(frozen=True, slots=True)
class TokenInfo:
    """What a slot reports about its token (no secrets)."""

    slot_id: int
    label: str
    serial: str
    manufacturer: str
    model: str
    flags: int

    @property
    def pin_locked(self) -> bool:
        """The token says the user PIN is locked."""
        return bool(self.flags & CKF_USER_PIN_LOCKED)

    @property
    def protected_auth(self) -> bool:
        """The reader has a PIN pad (PIN entered on the device, not sent by us)."""
        return bool(self.flags & CKF_PROTECTED_AUTHENTICATION_PATH)


def softhsm_module() -> str | None:
    """Path of the installed SoftHSM2 module, or None."""
    return next((c for c in SOFTHSM_MODULE_CANDIDATES if os.path.exists(c)), None)


def load_module(module: str, softhsm2_conf: str | None = None) -> Any:
    """Load (once) and return the PKCS#11 module at ``module``; ``softhsm2_conf`` selects SoftHSM's store."""
    with _lock:
        if module in _module_env and _module_env[module] != softhsm2_conf:
            if _open_sessions.get(module, 0):
                raise ModuleLoadError("the PKCS#11 module is already in use with another configuration")
            _set_conf(softhsm2_conf)
            try:
                lib = pkcs11.lib(module)
                lib.reinitialize()
            except (p11e.PKCS11Error, OSError, RuntimeError) as exc:
                _module_env.pop(module, None)  # state unknown: the next call loads it afresh
                raise ModuleLoadError(f"cannot load PKCS#11 module {module}: {exc}") from exc
            _module_env[module] = softhsm2_conf
            return lib
        _set_conf(softhsm2_conf)
        try:
            lib = pkcs11.lib(module)
        except (p11e.PKCS11Error, OSError, RuntimeError) as exc:
            raise ModuleLoadError(f"cannot load PKCS#11 module {module}: {exc}") from exc
        _module_env[module] = softhsm2_conf
        return lib


def _set_conf(conf: str | None) -> None:
    if conf is not None:
        os.environ["SOFTHSM2_CONF"] = conf


def list_tokens(lib: Any) -> list[TokenInfo]:
    """Every inserted token the module reports (slots whose token cannot be read are skipped)."""
    out = []
    for slot in lib.get_slots(token_present=True):
        try:
            tok = slot.get_token()
        except p11e.PKCS11Error:
            continue
        if not int(tok.flags) & 0x400:  # CKF_TOKEN_INITIALIZED: skip SoftHSM's free slot
            continue
        out.append(TokenInfo(slot.slot_id, tok.label, _serial(tok), tok.manufacturer_id, tok.model, int(tok.flags)))
    return out


def _serial(tok: Any) -> str:
    raw = tok.serial
    return raw.decode("ascii", "replace").strip() if isinstance(raw, bytes) else str(raw).strip()


class TokenSession:
    """One token, opened once and kept: public session for lookups, a logged-in one for signing.

    ``login(pin)`` opens the user session (kept for the officer's shift); ``logout()`` ends it;
    ``present()`` tells whether the card is still inserted; ``close()`` releases everything.
    """

    def __init__(self, module: str, selector: TokenSelector, *, softhsm2_conf: str | None = None) -> None:
        self.module = module
        self.selector = selector
        self.softhsm2_conf = softhsm2_conf
        self._lib: Any = None
        self._slot: Any = None
        self._token: Any = None
        self._public: Any = None
        self._user: Any = None

    # -- discovery -------------------------------------------------------------------------
    def open(self) -> TokenInfo:
        """Find the selected token and open a public session on it (idempotent)."""
        with _lock:
            if self._public is not None:
                return self.info()
            self._lib = load_module(self.module, self.softhsm2_conf)
            slot = self._find_slot()
            if slot is None and not _open_sessions.get(self.module, 0):
                # SoftHSM (and some readers) only rescan at C_Initialize: rescan once, safely.
                self._lib.reinitialize()
                slot = self._find_slot()
            if slot is None:
                raise TokenNotFound(f"No token matching {self.selector.describe()} is inserted")
            self._slot = slot
            self._token = slot.get_token()
            try:
                self._public = self._token.open()
            except p11e.PKCS11Error as exc:
                raise TokenGone(f"the token could not be opened ({type(exc).__name__})") from exc
            _open_sessions[self.module] = _open_sessions.get(self.module, 0) + 1
            return self.info()

    def _find_slot(self) -> Any:
        for info in list_tokens(self._lib):
            if self.selector.matches(info.label, info.serial):
                return next(s for s in self._lib.get_slots(token_present=True) if s.slot_id == info.slot_id)
        return None

    def info(self) -> TokenInfo:
        """Fresh token information (flags re-read from the token); raises :class:`TokenGone`."""
        if self._slot is None:
            raise TokenGone("the token session is not open")
        try:
            tok = self._slot.get_token()
        except p11e.PKCS11Error as exc:
            raise TokenGone("the token is no longer present") from exc
        return TokenInfo(self._slot.slot_id, tok.label, _serial(tok), tok.manufacturer_id, tok.model, int(tok.flags))

    def present(self) -> bool:
        """True while the token is inserted and still the selected one."""
        try:
            info = self.info()
        except TokenGone:
            return False
        return self.selector.matches(info.label, info.serial)

    @property
    def logged_in(self) -> bool:
        """A user session is open (the PIN was accepted and the officer has not logged out)."""
        return self._user is not None

    @property
    def session(self) -> Any:
        """The logged-in ``pkcs11.Session`` (for pyHanko's PKCS11Signer)."""
        if self._user is None:
            raise NotLoggedIn("not logged in to the token")
        return self._user

    # -- authentication --------------------------------------------------------------------
    def login(self, pin: str | None) -> None:
        """Log in with ``pin`` (``None``: the reader's PIN pad). Raises PinRejected / PinLockedOut / TokenGone."""
        with _lock:
            self.open()
            if self._user is not None:
                return
            info = self.info()
            if info.pin_locked:
                raise PinLockedOut("the token reports its user PIN as locked")
            secret: object = pkcs11.PROTECTED_AUTH if pin is None else pin
            try:
                self._user = self._token.open(user_pin=secret)
            except p11e.PinIncorrect as exc:
                after = self._flags_or_zero()
                if after & CKF_USER_PIN_LOCKED:
                    raise PinLockedOut("the PIN was wrong and the token has now locked it") from exc
                tries = 1 if after & CKF_USER_PIN_FINAL_TRY else None
                raise PinRejected("the token rejected the PIN", tries_left=tries,
                                  count_low=bool(after & CKF_USER_PIN_COUNT_LOW)) from exc
            except p11e.PinLocked as exc:
                raise PinLockedOut("the token reports its user PIN as locked") from exc
            except (p11e.PinInvalid, p11e.PinLenRange) as exc:
                raise PinRejected("the PIN has an invalid length or characters", tries_left=None,
                                  count_low=False) from exc
            except p11e.UserAlreadyLoggedIn:
                self._user = self._token.open()
            except (p11e.TokenNotPresent, p11e.DeviceRemoved, p11e.GeneralError, p11e.SessionHandleInvalid,
                    p11e.DeviceError) as exc:
                self.close()
                raise TokenGone("the token was removed during login") from exc
            _open_sessions[self.module] = _open_sessions.get(self.module, 0) + 1
            log.info("logged in to token in slot %s", info.slot_id)

    def _flags_or_zero(self) -> int:
        try:
            return self.info().flags
        except TokenGone:
            return 0

    def logout(self) -> None:
        """End the user session (the next signature needs the PIN again)."""
        with _lock:
            if self._user is not None:
                user, self._user = self._user, None
                _open_sessions[self.module] = max(0, _open_sessions.get(self.module, 0) - 1)
                try:
                    user.close()
                except p11e.PKCS11Error:
                    log.debug("logout on a token that is already gone")

    def close(self) -> None:
        """Log out and close the public session."""
        with _lock:
            self.logout()
            if self._public is not None:
                public, self._public = self._public, None
                _open_sessions[self.module] = max(0, _open_sessions.get(self.module, 0) - 1)
                try:
                    public.close()
                except p11e.PKCS11Error:
                    log.debug("closing a session on a token that is already gone")
            self._slot = self._token = None

    # -- objects ---------------------------------------------------------------------------
    def certificate(self, *, label: str | None = None, object_id: bytes | None = None) -> bytes:
        """DER of the certificate selected by label and/or id (public objects: no login needed)."""
        self.open()
        query: dict[Any, Any] = {Attribute.CLASS: ObjectClass.CERTIFICATE}
        if label is not None:
            query[Attribute.LABEL] = label
        if object_id is not None:
            query[Attribute.ID] = object_id
        try:
            found = list(self._public.get_objects(query))
        except p11e.PKCS11Error as exc:
            self.close()
            raise TokenGone("the token was removed while reading its certificate") from exc
        if len(found) != 1:
            what = "no certificate" if not found else f"{len(found)} certificates"
            shown_id = object_id.hex() if object_id else None
            raise ObjectMissing(f"{what} on the token match label={label!r} id={shown_id}")
        return bytes(found[0][Attribute.VALUE])

    def __enter__(self) -> TokenSession:
        self.open()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
