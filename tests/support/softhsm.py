"""SoftHSM2, the real PKCS#11 module, with a private config and token store per test session.

Tokens are created with the same tools as the development token (``provisioning.devtoken``): the
key is generated on the token, the certificate issued by the test CA and written next to it.
Fault injection is real: a card is "pulled" by moving the token's directory away and "re-inserted"
by moving it back; a locked PIN is the ``CKF_USER_PIN_LOCKED`` flag in the token's own store.
"""

from __future__ import annotations

import itertools
import shutil
import struct
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509

from firmware.token import softhsm_module
from provisioning.devtoken import (
    DEV_PIN,
    CertificateAuthority,
    KeyKind,
    provision_token,
    token_dir_of,
    write_softhsm_conf,
)
from service.signing.config import TokenProfile

CKA_OS_TOKENFLAGS = 0x8000534B  # SoftHSM2's vendor attribute holding CK_TOKEN_INFO.flags
_counter = itertools.count(1)


@dataclass(frozen=True)
class TestToken:
    """One token on the SoftHSM2 instance."""

    label: str
    pin: str
    cert: x509.Certificate
    profile: TokenProfile


class SoftHsm:
    """A SoftHSM2 token store private to the test session."""

    def __init__(self, root: Path) -> None:
        module = softhsm_module()
        if module is None:
            raise RuntimeError("softhsm2 is not installed")
        self.module = module
        self.root = root
        self.conf = write_softhsm_conf(root)
        self.pulled = root / "pulled"
        self.pulled.mkdir(exist_ok=True)

    def create_token(self, ca: CertificateAuthority, cn: str, *, kind: KeyKind = "rsa", pin: str = DEV_PIN,
                     prefix: str = "T") -> TestToken:
        """A new token holding an on-token key and a certificate for ``cn``."""
        label = f"{prefix}{next(_counter)}-{kind}"
        cert = provision_token(self.module, self.conf, ca, label, cn, pin=pin, kind=kind)
        profile = TokenProfile(module=self.module, softhsm2_conf=self.conf, token_label=label)
        return TestToken(label, pin, cert, profile)

    def token_dir(self, label: str) -> Path:
        """The directory SoftHSM keeps the token in."""
        found = token_dir_of(self.conf, label)
        if found is None:
            raise FileNotFoundError(label)
        return found

    def pull(self, label: str) -> Path:
        """Remove the card: move its token directory out of the store. Returns where it went."""
        src = self.token_dir(label)
        dst = self.pulled / src.name
        shutil.move(str(src), dst)
        return dst

    def reinsert(self, pulled: Path) -> None:
        """Put a pulled card back."""
        shutil.move(str(pulled), self.conf.parent / "store" / pulled.name)

    def add_token_flags(self, label: str, flags: int) -> None:
        """OR ``flags`` into the token's persisted CK_TOKEN_INFO flags (e.g. CKF_USER_PIN_LOCKED)."""
        obj = self.token_dir(label) / "token.object"
        data = bytearray(obj.read_bytes())
        tag = struct.pack(">QQ", CKA_OS_TOKENFLAGS, 2)  # attribute type, kind 2 = unsigned long
        at = data.find(tag)
        if at < 0:
            raise ValueError("token flags attribute not found in token.object")
        value_at = at + len(tag)
        (value,) = struct.unpack(">Q", data[value_at:value_at + 8])
        data[value_at:value_at + 8] = struct.pack(">Q", value | flags)
        obj.write_bytes(bytes(data))
