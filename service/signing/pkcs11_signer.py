"""PKCS#11 implementation of :class:`Signer` on pyHanko's ``PKCS11Signer`` and our token driver."""

from __future__ import annotations

import logging
from pathlib import Path

from asn1crypto import x509
from pyhanko.sign.pkcs11 import PKCS11Signer
from pyhanko.sign.signers import Signer as PyHankoSigner

from firmware import token as drv
from service.domain.errors import ConfigError, SigningError, SohoaError
from service.paths import Paths
from service.signing.config import EcdsaMechanism, PinEntry, TokenProfile
from service.signing.errors import PinIncorrect, TokenAbsent, TokenLocked, TokenObjectMissing, TokenRemoved
from service.signing.signer import PinProvider, Signer

log = logging.getLogger(__name__)


def map_driver_error(exc: drv.TokenDriverError, what: str) -> SohoaError:
    """Translate a driver error into the service's typed error with a remedy."""
    if isinstance(exc, drv.TokenNotFound):
        return TokenAbsent(f"{exc} ({what})", remedy="insert the card / token in the reader, "
                           "or check the token label, serial or pkcs11: URI in the signing config")
    if isinstance(exc, drv.PinRejected):
        return PinIncorrect(exc.tries_left, exc.count_low)
    if isinstance(exc, drv.PinLockedOut):
        return TokenLocked()
    if isinstance(exc, drv.TokenGone):
        return TokenRemoved()
    if isinstance(exc, drv.ObjectMissing):
        return TokenObjectMissing(f"{exc} ({what})", remedy="check key_label / cert_label / key_id in the "
                                  "signing config against the card's contents (pkcs11-tool --list-objects)")
    if isinstance(exc, drv.ModuleLoadError):
        return ConfigError(str(exc), remedy="install the card's PKCS#11 module and set signing.<role>.module")
    return SigningError(f"token error: {exc}", remedy="check the card and the reader")


class Pkcs11Signer(Signer):
    """A key + certificate on a PKCS#11 token, selected by a :class:`TokenProfile`."""

    def __init__(self, profile: TokenProfile, paths: Paths, *, role: str = "signer") -> None:
        self.profile = profile
        self.role = role
        module = profile.module
        uri = drv.parse_pkcs11_uri(profile.uri) if profile.uri else None
        if uri is not None and uri.module_path:
            module = module or uri.module_path
        if module is None:
            module = drv.softhsm_module()
            if module is None:
                raise ConfigError("no PKCS#11 module configured and SoftHSM2 is not installed",
                                  remedy=f"set signing.{role}.module to the card's PKCS#11 module path")
        conf = profile.softhsm2_conf
        if conf is None and "softhsm" in Path(module).name:
            conf = paths.tokens / "softhsm2.conf"
        self.module = module
        self.softhsm2_conf = str(conf) if conf is not None else None
        self.selector = drv.TokenSelector(label=(uri.token if uri and uri.token else profile.token_label),
                                          serial=(uri.serial if uri and uri.serial else profile.token_serial))
        self.key_label = uri.object_label if uri and uri.object_label else profile.key_label
        self.key_id = uri.object_id if uri and uri.object_id else (bytes.fromhex(profile.key_id)
                                                                   if profile.key_id else None)
        self.cert_label = profile.cert_label or self.key_label
        self.cert_id = bytes.fromhex(profile.cert_id) if profile.cert_id else self.key_id
        self.session = drv.TokenSession(module, self.selector, softhsm2_conf=self.softhsm2_conf)
        self._cert: x509.Certificate | None = None
        self._signer: PKCS11Signer | None = None

    def _describe(self) -> str:
        return f"{self.role} token {self.selector.describe()}"

    @property
    def logged_in(self) -> bool:
        """True while the user session is open and the card still present."""
        return self.session.logged_in and self.session.present()

    def present(self) -> bool:
        """True while the card is inserted and still the selected one (logged in or not)."""
        return self.session.present()

    def login(self, pin_provider: PinProvider | None) -> None:
        """Open the token (if needed) and log in, asking ``pin_provider`` for the PIN only if needed."""
        if self.session.logged_in:
            if self.session.present():
                return
            self._forget()
            raise TokenRemoved("the card was removed since the last signature; the document was not changed")
        try:
            info = self.session.open()
            if info.pin_locked:
                raise drv.PinLockedOut("locked")
            if self.profile.pin_entry is PinEntry.PINPAD or pin_provider is None:
                if not info.protected_auth:
                    raise SigningError("no PIN was supplied and the reader has no PIN pad",
                                       remedy="enter the PIN when asked (or use --pin-stdin)")
                self.session.login(None)
            else:
                self.session.login(pin_provider())
            try:
                self.certificate()
            except SohoaError:
                self.session.logout()  # a misconfigured key/cert selection: do not stay half-ready
                raise
        except drv.TokenDriverError as exc:
            if isinstance(exc, drv.TokenGone):
                self._forget()
            raise map_driver_error(exc, self._describe()) from exc

    def logout(self) -> None:
        """End the officer's session (PIN needed again)."""
        self._signer = None
        self.session.logout()

    def close(self) -> None:
        """Log out and release the token."""
        self._forget()

    def _forget(self) -> None:
        self._signer = None
        self._cert = None
        self.session.close()

    def certificate(self) -> x509.Certificate:
        """The certificate stored on the token next to the key."""
        if self._cert is None:
            try:
                der = self.session.certificate(label=self.cert_label if self.cert_id is None else None,
                                               object_id=self.cert_id)
            except drv.TokenDriverError as exc:
                raise map_driver_error(exc, self._describe()) from exc
            self._cert = x509.Certificate.load(der)
        return self._cert

    def key_algorithm(self) -> str:
        """``"rsa"`` or ``"ec"`` (from the certificate's public key)."""
        return "ec" if self.certificate().public_key.algorithm == "ec" else "rsa"

    def pyhanko_signer(self) -> PyHankoSigner:
        """pyHanko's PKCS11Signer on the logged-in session (raw ECDSA when the quirk says so)."""
        if self._signer is None:
            if not self.session.logged_in:
                raise SigningError("the token is not logged in", remedy="enter the PIN first")
            raw = self.key_algorithm() == "ec" and self.profile.ecdsa_mechanism is EcdsaMechanism.RAW
            self._signer = PKCS11Signer(
                self.session.session, signing_cert=self.certificate(),
                key_label=self.key_label if self.key_id is None else None, key_id=self.key_id,
                use_raw_mechanism=raw, other_certs_to_pull=(), embed_roots=False,
            )
        return self._signer

    def explain_failure(self, exc: BaseException) -> SohoaError:
        """Card gone -> TokenRemoved (and release the dead session); otherwise a SigningError."""
        if isinstance(exc, SohoaError):
            return exc
        if isinstance(exc, drv.TokenDriverError):
            return map_driver_error(exc, self._describe())
        if not self.session.present():
            log.warning("%s removed during signing", self.role)
            self._forget()
            return TokenRemoved()
        return SigningError(f"the token could not sign ({type(exc).__name__}: {exc})",
                            remedy="check the card, log out and in again, then sign again")
