"""The device's own non-exportable key on a PKCS#11 token (SoftHSM2 in development, tpm2-pkcs11 on a Pi).

:class:`DeviceKey` generates an EC P-256 key pair *on the
token* (``CKA_SENSITIVE`` true, ``CKA_EXTRACTABLE`` false, so ``CKA_VALUE`` can never be read),
reads its public key and makes raw ECDSA signatures of a SHA-256 digest (``CKM_ECDSA``: SoftHSM2
refuses ``CKM_ECDSA_SHA256``). Errors are the token driver's (:mod:`firmware.token`); the PIN is
passed straight to ``C_Login`` and never logged.
"""

from __future__ import annotations

import threading
from typing import Any

from pkcs11 import Attribute, KeyType, Mechanism, ObjectClass
from pkcs11 import exceptions as p11e
from pkcs11.util.ec import encode_ec_public_key, encode_ecdsa_signature, encode_named_curve_parameters

from firmware.token import (
    ObjectMissing,
    PinLockedOut,
    PinRejected,
    TokenGone,
    TokenSelector,
    TokenSession,
    load_module,
)

CURVE = "secp256r1"
_KEY_ID = b"\xa5"


class DeviceKey:
    """One labelled key pair on one token, reached with a stored PIN (a session kept between uses)."""

    def __init__(self, module: str, selector: TokenSelector, *, key_label: str, pin: str,
                 softhsm2_conf: str | None = None) -> None:
        """``selector`` names the token, ``key_label`` the key pair on it."""
        self.module = module
        self.selector = selector
        self.key_label = key_label
        self.softhsm2_conf = softhsm2_conf
        self._pin = pin
        self._session: Any = None
        self._lock = threading.Lock()

    def _open(self) -> Any:
        if self._session is not None:
            return self._session
        # TokenSession finds the token (rescanning once, as SoftHSM needs) and says which is absent.
        with TokenSession(self.module, self.selector, softhsm2_conf=self.softhsm2_conf) as found:
            slot_id = found.info().slot_id
        lib = load_module(self.module, self.softhsm2_conf)
        slot = next((s for s in lib.get_slots(token_present=True) if s.slot_id == slot_id), None)
        if slot is None:
            raise TokenGone("the device token was removed while it was opened")
        token = slot.get_token()
        try:
            try:
                self._session = token.open(rw=True, user_pin=self._pin)
            except p11e.UserAlreadyLoggedIn:  # login state is per process: another session of ours did it
                self._session = token.open(rw=True)
        except p11e.PinIncorrect as exc:
            raise PinRejected("the device token rejected the stored PIN", tries_left=None, count_low=False) from exc
        except p11e.PinLocked as exc:
            raise PinLockedOut("the device token reports its user PIN as locked") from exc
        except p11e.PKCS11Error as exc:
            raise TokenGone(f"the device token could not be opened ({type(exc).__name__})") from exc
        return self._session

    def close(self) -> None:
        """Close the kept session (the next use opens a new one)."""
        with self._lock:
            self._drop()

    def _drop(self) -> None:
        session, self._session = self._session, None
        if session is not None:
            try:
                session.close()
            except p11e.PKCS11Error:
                pass

    def _retry(self, work: Any) -> Any:
        """Run ``work(session)``; a session that went stale (token re-scanned) is reopened once."""
        with self._lock:
            for attempt in (1, 2):
                kept = self._session is not None
                try:
                    return work(self._open())
                except ObjectMissing:
                    if not (kept and attempt == 1):
                        raise
                    self._drop()  # a kept session on a pulled token sees no objects: look again afresh
                except p11e.PKCS11Error as exc:  # stale handle (module re-initialised), token removed, ...
                    self._drop()
                    if attempt == 2:
                        raise TokenGone(f"the device token failed ({type(exc).__name__})") from exc
            raise TokenGone("unreachable")

    def _find(self, session: Any, cls: ObjectClass) -> Any | None:
        found = list(session.get_objects({Attribute.CLASS: cls, Attribute.LABEL: self.key_label}))
        if len(found) > 1:
            raise ObjectMissing(f"{len(found)} keys labelled {self.key_label!r} on the device token")
        return found[0] if found else None

    def exists(self) -> bool:
        """True when the token holds the key pair."""
        return bool(self._retry(lambda s: self._find(s, ObjectClass.PRIVATE_KEY) is not None))

    def create(self) -> bytes:
        """Generate the key pair on the token unless it exists; returns the public key (SubjectPublicKeyInfo DER)."""
        def work(session: Any) -> bytes:
            if self._find(session, ObjectClass.PRIVATE_KEY) is None:
                params = session.create_domain_parameters(
                    KeyType.EC, {Attribute.EC_PARAMS: encode_named_curve_parameters(CURVE)}, local=True)
                params.generate_keypair(
                    store=True, label=self.key_label, id=_KEY_ID,
                    public_template={Attribute.VERIFY: True, Attribute.TOKEN: True},
                    private_template={Attribute.SIGN: True, Attribute.TOKEN: True, Attribute.PRIVATE: True,
                                      Attribute.SENSITIVE: True, Attribute.EXTRACTABLE: False})
            return self._public(session)
        return bytes(self._retry(work))

    def _public(self, session: Any) -> bytes:
        pub = self._find(session, ObjectClass.PUBLIC_KEY)
        if pub is None:
            raise ObjectMissing(f"no key labelled {self.key_label!r} on the device token")
        return bytes(encode_ec_public_key(pub))

    def public_key_der(self) -> bytes:
        """The public key (SubjectPublicKeyInfo DER); :class:`ObjectMissing` when the key was never made."""
        return bytes(self._retry(self._public))

    def sign_digest(self, digest: bytes) -> bytes:
        """A DER ECDSA signature of the SHA-256 ``digest``, made on the token."""
        def work(session: Any) -> bytes:
            key = self._find(session, ObjectClass.PRIVATE_KEY)
            if key is None:
                raise ObjectMissing(f"no key labelled {self.key_label!r} on the device token")
            return bytes(encode_ecdsa_signature(key.sign(digest, mechanism=Mechanism.ECDSA)))
        return bytes(self._retry(work))

    def protection(self) -> dict[str, bool]:
        """The private key's protection flags as the token reports them (no secret is read)."""
        def work(session: Any) -> dict[str, bool]:
            key = self._find(session, ObjectClass.PRIVATE_KEY)
            if key is None:
                raise ObjectMissing(f"no key labelled {self.key_label!r} on the device token")
            return {name: bool(key[attr]) for name, attr in (
                ("sensitive", Attribute.SENSITIVE), ("extractable", Attribute.EXTRACTABLE),
                ("always_sensitive", Attribute.ALWAYS_SENSITIVE), ("never_extractable", Attribute.NEVER_EXTRACTABLE))}
        return dict(self._retry(work))
