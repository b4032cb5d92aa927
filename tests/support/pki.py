"""A generated test PKI: a CA (trusted by the verifier), a TSA certificate, an untrusted CA."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives import serialization

from provisioning.devtoken import CertificateAuthority, issue_cert, make_ca, new_private_key


@dataclass(frozen=True)
class TestPki:
    """Files of the test PKI (all PEM)."""

    ca: CertificateAuthority
    trust_bundle: Path
    tsa_cert: Path
    tsa_key: Path
    other_ca: CertificateAuthority


def build_pki(root: Path) -> TestPki:
    """Create the CA, a TSA cert (EKU timeStamping) and an unrelated CA under ``root``."""
    root.mkdir(parents=True, exist_ok=True)
    ca = make_ca("TEST ONLY — Sohoa Test CA")
    other = make_ca("TEST ONLY — Untrusted CA")
    (root / "ca.pem").write_bytes(ca.pem())
    tsa_key = new_private_key("rsa")
    tsa_cert = issue_cert(ca, tsa_key.public_key(), "TEST ONLY — Sohoa Test TSA", timestamping=True)
    (root / "tsa.pem").write_bytes(tsa_cert.public_bytes(serialization.Encoding.PEM))
    (root / "tsa.key").write_bytes(tsa_key.private_bytes(serialization.Encoding.PEM,
                                                         serialization.PrivateFormat.PKCS8,
                                                         serialization.NoEncryption()))
    return TestPki(ca, root / "ca.pem", root / "tsa.pem", root / "tsa.key", other)
