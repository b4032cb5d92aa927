"""The one signing interface the PAdES layer and the use cases depend on."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from enum import StrEnum

from asn1crypto import x509
from pyhanko.sign.signers import Signer as PyHankoSigner

from service.domain.errors import SohoaError

PinProvider = Callable[[], str]
"""Asks the officer for the PIN (kiosk dialog, getpass, stdin); the PIN is used once and dropped."""


class SignatureRole(StrEnum):
    """Whose signature: the digitizing officer (TT 01/2023 Art. 8) or the agency (NĐ 30/2020)."""

    OFFICER = "officer"
    AGENCY = "agency"


class Signer(ABC):
    """A signing key on a device the officer controls (smart card, USB token, HSM).

    Implementations keep their session open between documents (``login`` once per shift) and
    translate device failures into the service's typed errors.
    """

    @property
    @abstractmethod
    def logged_in(self) -> bool:
        """True when a signature can be made without asking for the PIN."""

    def present(self) -> bool:
        """Whether the signing device is still there (a card in its reader), PIN state aside.

        The default for devices that cannot tell: present while logged in.
        """
        return self.logged_in

    @abstractmethod
    def login(self, pin_provider: PinProvider | None) -> None:
        """Authenticate (asking ``pin_provider`` only if needed; ``None`` = PIN pad / no PIN)."""

    @abstractmethod
    def logout(self) -> None:
        """End the authenticated session; the next signature asks for the PIN again."""

    @abstractmethod
    def close(self) -> None:
        """Release the device entirely."""

    @abstractmethod
    def certificate(self) -> x509.Certificate:
        """The signer's certificate."""

    @abstractmethod
    def pyhanko_signer(self) -> PyHankoSigner:
        """The pyHanko signer bound to the authenticated session."""

    @abstractmethod
    def key_algorithm(self) -> str:
        """``"rsa"`` or ``"ec"``."""

    @abstractmethod
    def explain_failure(self, exc: BaseException) -> SohoaError:
        """Turn an exception raised while signing into a typed error (e.g. card removed)."""
