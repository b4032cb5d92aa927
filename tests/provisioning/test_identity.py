"""Device identity: key + CSR, certificate installation checks, state display."""

from __future__ import annotations

import datetime as dt
import json
import stat
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from provisioning.errors import ConfirmationRequired
from provisioning.identity import create_identity, install_certificate, show_identity
from service.cli.main import main
from service.domain.errors import InputError, NotFoundError, ValidationError
from service.paths import get_paths


def _ca(name: str = "Test Province CA") -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(days=1))
            .not_valid_after(now + dt.timedelta(days=3650))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .sign(key, hashes.SHA256()))
    return key, cert


def _sign(csr_pem: bytes, ca_key: ec.EllipticCurvePrivateKey, ca_cert: x509.Certificate, *,
          days: int = 365, start_days: int = -1, cn: str | None = None) -> bytes:
    csr = x509.load_pem_x509_csr(csr_pem)
    subject = csr.subject if cn is None else x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])
    now = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(ca_cert.subject)
            .public_key(csr.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now + dt.timedelta(days=start_days)).not_valid_after(now + dt.timedelta(days=days))
            .sign(ca_key, hashes.SHA256()))
    return cert.public_bytes(serialization.Encoding.PEM)


def _pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


def test_init_writes_a_private_key_and_a_csr_named_after_the_device() -> None:
    paths = get_paths().ensure()
    assert show_identity(paths).state == "none"
    csr_pem = create_identity(paths, "box-0042", "70", "UBND xã Thử Nghiệm")
    csr = x509.load_pem_x509_csr(csr_pem)
    assert csr.is_signature_valid
    assert csr.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == "box-0042"
    mode = stat.S_IMODE((paths.pki / "device.key").stat().st_mode)
    assert mode == 0o600
    info = show_identity(paths)
    assert info.state == "csr-pending" and info.device_id == "box-0042" and len(info.key_fingerprint or "") == 64
    with pytest.raises(ConfirmationRequired, match="already has a device key"):
        create_identity(paths, "box-0042", "70", "x")


def test_install_checks_key_cn_validity_and_ca() -> None:
    paths = get_paths().ensure()
    csr = create_identity(paths, "box-0042", "70", "office")
    ca_key, ca_cert = _ca()
    other_key, other_ca = _ca("Other CA")
    good = _sign(csr, ca_key, ca_cert)

    with pytest.raises(ValidationError, match="CN is 'box-9999'"):
        install_certificate(paths, "box-0042", _sign(csr, ca_key, ca_cert, cn="box-9999"))
    with pytest.raises(ValidationError, match="not valid now"):
        install_certificate(paths, "box-0042", _sign(csr, ca_key, ca_cert, days=-1, start_days=-30))
    with pytest.raises(ValidationError, match="not signed by the given CA"):
        install_certificate(paths, "box-0042", good, _pem(other_ca))
    stranger_csr = x509.CertificateSigningRequestBuilder().subject_name(
        x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "box-0042")])).sign(other_key, hashes.SHA256())
    with pytest.raises(ValidationError, match="not issued for this box's key"):
        install_certificate(paths, "box-0042",
                            _sign(stranger_csr.public_bytes(serialization.Encoding.PEM), ca_key, ca_cert))
    with pytest.raises(InputError, match="not a PEM or DER"):
        install_certificate(paths, "box-0042", b"-----BEGIN CERTIFICATE-----\ngarbage\n")
    assert not (paths.pki / "device.crt").exists()  # nothing installed by the failures

    info = install_certificate(paths, "box-0042", good, _pem(ca_cert))
    assert info.state == "enrolled" and info.device_id == "box-0042" and "Test Province CA" in (info.issuer or "")
    assert (paths.pki / "device-ca.crt").exists()


def test_install_without_key_is_not_found() -> None:
    with pytest.raises(NotFoundError, match="no device key"):
        install_certificate(get_paths().ensure(), "box-0042", b"x")


def test_cli_round_trip(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    paths = get_paths().ensure()
    paths.config.write_text("identity:\n  device_id: box-0777\n", encoding="utf-8")
    assert main(["device", "identity", "init", "--out", str(tmp_path / "req.csr")]) == 0
    csr = (tmp_path / "req.csr").read_bytes()
    assert main(["device", "identity", "init"]) == 2  # refuses to replace without --force
    ca_key, ca_cert = _ca()
    (tmp_path / "dev.crt").write_bytes(_sign(csr, ca_key, ca_cert))
    (tmp_path / "ca.crt").write_bytes(_pem(ca_cert))
    capsys.readouterr()
    install = ["device", "identity", "install-cert", str(tmp_path / "dev.crt"), "--ca", str(tmp_path / "ca.crt")]
    assert main(install) == 0
    assert main(["device", "identity", "install-cert", str(tmp_path / "missing.crt")]) == 3
    capsys.readouterr()
    assert main(["device", "identity", "show", "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["state"] == "enrolled" and shown["device_id"] == "box-0777"
