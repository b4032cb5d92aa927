"""Device identity and certificate enrolment.

The box has an EC P-256 key (``pki/device.key``, mode 0600) and a CSR whose CN is the device id
(``identity.device_id`` in config, also its MQTT client id). The province CA signs the CSR; the
technician installs the certificate, which is checked against the key, the device id, its
validity period and (when given) the issuing CA before it replaces anything.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from provisioning.errors import ConfirmationRequired
from service.domain.errors import InputError, NotFoundError, ValidationError
from service.durable import write_durable
from service.paths import Paths

KEY_NAME, CSR_NAME, CERT_NAME, CA_NAME = "device.key", "device.csr", "device.crt", "device-ca.crt"


@dataclass(frozen=True)
class IdentityInfo:
    """What ``sohoa device identity show`` prints: the state of enrolment and the certificate."""

    device_id: str | None
    state: str  # none | csr-pending | enrolled | expired
    key_fingerprint: str | None = None
    subject: str | None = None
    issuer: str | None = None
    serial: str | None = None
    not_before: str | None = None
    not_after: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict."""
        return asdict(self)


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _load_key(pki: Path) -> ec.EllipticCurvePrivateKey:
    path = pki / KEY_NAME
    if not path.exists():
        raise NotFoundError("this box has no device key yet", remedy="run `sohoa device identity init`")
    key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        raise InputError(f"{path} is not an EC private key", remedy="re-run `sohoa device identity init --force`")
    return key


def key_fingerprint(key: ec.EllipticCurvePrivateKey) -> str:
    """SHA-256 of the DER public key, hex."""
    der = key.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    digest = hashes.Hash(hashes.SHA256())
    digest.update(der)
    return digest.finalize().hex()


def create_identity(paths: Paths, device_id: str, province_code: str, office_name: str,
                    *, force: bool = False) -> bytes:
    """Generate the device key and a CSR (CN = device id); returns the CSR in PEM.

    Refuses to replace an existing key without ``force`` (an enrolled box would lose its certificate).
    """
    pki = paths.pki
    pki.mkdir(parents=True, exist_ok=True, mode=0o700)
    if (pki / KEY_NAME).exists() and not force:
        raise ConfirmationRequired("this box already has a device key",
                                   remedy="use --force to replace it (the current certificate stops working)")
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([
        x509.NameAttribute(NameOID.COUNTRY_NAME, "VN"),
        x509.NameAttribute(NameOID.STATE_OR_PROVINCE_NAME, province_code),
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, office_name),
        x509.NameAttribute(NameOID.COMMON_NAME, device_id),
    ])
    csr = (x509.CertificateSigningRequestBuilder().subject_name(subject)
           .add_extension(x509.SubjectAlternativeName([x509.UniformResourceIdentifier(f"urn:sohoa:device:{device_id}")]),
                          critical=False)
           .sign(key, hashes.SHA256()))
    key_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
    csr_pem = csr.public_bytes(serialization.Encoding.PEM)
    for stale in (CERT_NAME, CA_NAME):
        (pki / stale).unlink(missing_ok=True)
    write_durable(pki / KEY_NAME, key_pem, 0o600)
    write_durable(pki / CSR_NAME, csr_pem, 0o644)
    return csr_pem


def _load_cert(data: bytes, what: str) -> x509.Certificate:
    try:
        return x509.load_pem_x509_certificate(data)
    except ValueError:
        try:
            return x509.load_der_x509_certificate(data)
        except ValueError as exc:
            raise InputError(f"{what} is not a PEM or DER X.509 certificate",
                             remedy="ask the province CA for the certificate file again") from exc


def _cn(cert: x509.Certificate) -> str | None:
    attrs = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    return str(attrs[0].value) if attrs else None


def install_certificate(paths: Paths, device_id: str, cert_data: bytes, ca_data: bytes | None = None) -> IdentityInfo:
    """Check and install the signed device certificate (and its CA); returns the new identity."""
    key = _load_key(paths.pki)
    cert = _load_cert(cert_data, "the certificate")
    pub = cert.public_key()
    if not isinstance(pub, ec.EllipticCurvePublicKey) or key_fingerprint(key) != _pub_fingerprint(pub):
        raise ValidationError("certificate", "it was not issued for this box's key",
                              remedy="install the certificate made from this box's CSR (`sohoa device identity csr`)")
    if _cn(cert) != device_id:
        raise ValidationError("certificate", f"its CN is {_cn(cert)!r}, this box is {device_id!r}",
                              remedy="ask the CA to issue the certificate for this device id")
    now = _now()
    if not cert.not_valid_before_utc <= now <= cert.not_valid_after_utc:
        raise ValidationError("certificate", f"not valid now (valid {cert.not_valid_before_utc:%Y-%m-%d} to "
                                             f"{cert.not_valid_after_utc:%Y-%m-%d})",
                              remedy="check the box's clock, or get a current certificate")
    ca_pem: bytes | None = None
    if ca_data is not None:
        ca = _load_cert(ca_data, "the CA certificate")
        try:
            cert.verify_directly_issued_by(ca)
        except (ValueError, TypeError, InvalidSignature) as exc:
            raise ValidationError("certificate", "it was not signed by the given CA",
                                  remedy="install the CA certificate that issued it") from exc
        ca_pem = ca.public_bytes(serialization.Encoding.PEM)
    write_durable(paths.pki / CERT_NAME, cert.public_bytes(serialization.Encoding.PEM), 0o644)
    if ca_pem is not None:
        write_durable(paths.pki / CA_NAME, ca_pem, 0o644)
    return show_identity(paths)


def _pub_fingerprint(pub: ec.EllipticCurvePublicKey) -> str:
    der = pub.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    digest = hashes.Hash(hashes.SHA256())
    digest.update(der)
    return digest.finalize().hex()


def read_csr(paths: Paths) -> bytes:
    """The pending CSR in PEM."""
    path = paths.pki / CSR_NAME
    if not path.exists():
        raise NotFoundError("no CSR on this box", remedy="run `sohoa device identity init`")
    return path.read_bytes()


def show_identity(paths: Paths) -> IdentityInfo:
    """The box's identity state, read from ``pki/``."""
    pki = paths.pki
    if not (pki / KEY_NAME).exists():
        return IdentityInfo(device_id=None, state="none")
    key = _load_key(pki)
    fp = key_fingerprint(key)
    cert_path = pki / CERT_NAME
    if not cert_path.exists():
        csr = x509.load_pem_x509_csr((pki / CSR_NAME).read_bytes()) if (pki / CSR_NAME).exists() else None
        cn = csr.subject.get_attributes_for_oid(NameOID.COMMON_NAME) if csr else []
        return IdentityInfo(device_id=str(cn[0].value) if cn else None, state="csr-pending", key_fingerprint=fp)
    cert = _load_cert(cert_path.read_bytes(), str(cert_path))
    state = "enrolled" if cert.not_valid_after_utc > _now() else "expired"
    return IdentityInfo(device_id=_cn(cert), state=state, key_fingerprint=fp, subject=cert.subject.rfc4514_string(),
                        issuer=cert.issuer.rfc4514_string(), serial=format(cert.serial_number, "x"),
                        not_before=cert.not_valid_before_utc.isoformat(),
                        not_after=cert.not_valid_after_utc.isoformat())
