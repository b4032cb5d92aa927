"""Signers kept open for the officer's shift (re-opening a real card costs seconds).

One signer per (state directory, role, token profile). ``logout(role)`` ends the officer's
session (the next signature asks for the PIN again); ``close_all()`` releases every token.
"""

from __future__ import annotations

import threading

from service.paths import Paths
from service.signing.config import SigningConfig, TokenProfile
from service.signing.pkcs11_signer import Pkcs11Signer
from service.signing.signer import SignatureRole, Signer

_lock = threading.Lock()
_signers: dict[tuple[str, str, str], Signer] = {}


def profile_for(config: SigningConfig, role: SignatureRole) -> TokenProfile:
    """The token profile configured for ``role``."""
    return config.officer if role is SignatureRole.OFFICER else config.agency


def signer_for(role: SignatureRole, config: SigningConfig, paths: Paths) -> Signer:
    """The shift-long signer for ``role`` (created on first use; not logged in yet)."""
    profile = profile_for(config, role)
    key = (str(paths.home), role.value, profile.model_dump_json())
    with _lock:
        signer = _signers.get(key)
        if signer is None:
            signer = _signers[key] = Pkcs11Signer(profile, paths, role=role.value)
        return signer


def logout(role: SignatureRole | None = None) -> None:
    """Log out of ``role``'s token(s) (all roles when None); sessions stay open for a quick re-login."""
    with _lock:
        for (_home, r, _p), signer in _signers.items():
            if role is None or r == role.value:
                signer.logout()


def close_all() -> None:
    """Release every token (service shutdown)."""
    with _lock:
        for signer in _signers.values():
            signer.close()
        _signers.clear()
