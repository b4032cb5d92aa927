"""Enrolment of a device from its CSR (what ``make run``'s station does), live on a running broker."""

from __future__ import annotations

from pathlib import Path

import psycopg
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from service.sync import protocol as p
from tests.support.mosquitto import Broker, Identity, LabPki, enrol_device

from .test_faults import Client


def csr_for(names: list[str], key: ec.EllipticCurvePrivateKey) -> bytes:
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, n) for n in names])
    csr = x509.CertificateSigningRequestBuilder().subject_name(subject).sign(key, hashes.SHA256())
    return csr.public_bytes(serialization.Encoding.PEM)


def test_a_csr_enrolled_live_gets_exactly_its_own_topics(pki: LabPki, broker: Broker, dsn: str,
                                                         tmp_path: Path) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    cert = enrol_device(pki, broker, csr_for(["dev-new-0042"], key), province="70", office="office-n", dsn=dsn)
    (tmp_path / "d.crt").write_bytes(cert)
    (tmp_path / "d.key").write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                       serialization.NoEncryption()))
    ident = Identity("dev-new-0042", tmp_path / "d.crt", tmp_path / "d.key")
    c = Client(pki, ident, broker.port, "anything")
    try:
        assert c.suback(p.device_subscription("70", ident.name)) == "Granted QoS 1"
        assert c.suback(p.device_subscription("01", ident.name)) == "Not authorized"
    finally:
        c.link.close()
    with psycopg.connect(dsn) as conn:
        row = conn.execute("SELECT province, office FROM gw_registry WHERE device_id='dev-new-0042'").fetchone()
    assert row == ("70", "office-n")


@pytest.mark.parametrize("names", [["dev-x-0001\n"], ["DEV-UPPER"], ["dev-a-0001", "dev-b-0002"], ["+"], ["a/b"]])
def test_a_csr_without_one_whole_device_id_is_refused(pki: LabPki, broker: Broker, names: list[str]) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    with pytest.raises(ValueError):
        enrol_device(pki, broker, csr_for(names, key), province="70", office="office-x")


def test_a_bad_province_or_office_is_refused(pki: LabPki, broker: Broker) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    for province, office in (("7", "o"), ("70\n", "o"), ("ab", "o"), ("70", "")):
        with pytest.raises(ValueError):
            enrol_device(pki, broker, csr_for(["dev-y-0001"], key), province=province, office=office)
