"""Enrolment of a device in the local province: ONE function binds a certificate identity to its province.

``enrol_device`` signs the device's CSR with the DEVELOPMENT province CA, registers the identity in
the broker's dynamic-security registry (its role names the province literally, so the broker refuses
any other topic, at SUBSCRIBE and at PUBLISH) and, given the gateway's DSN, in the gateway's
``gw_registry`` (province and office, checked again on every message and used to authorise reuse
look-ups). The station (``make run``) and the tests call it; nothing else writes these registries.
"""

from __future__ import annotations

from cryptography import x509
from cryptography.x509.oid import NameOID

from province_gateway.db import register_device, revoke_device

from . import dynsec
from .broker import Broker, Identity, LabPki


def _register(broker: Broker, device: str, province: str, office: str, dsn: str | None) -> None:
    dynsec.check_device(device, province)
    if not office or len(office) > 64:
        raise ValueError("an office code is 1-64 characters")
    broker.enrol(device, province)
    if dsn:
        register_device(dsn, device, province, office)


def enrol_device(pki: LabPki, broker: Broker, csr_pem: bytes, *, province: str, office: str,
                 dsn: str | None = None) -> bytes:
    """Sign a device CSR (``sohoa device identity csr``; CN = device id) and register it; returns the PEM certificate.

    Raises ``ValueError`` for a CSR whose signature fails, with not exactly one CN, or whose CN is
    not a whole device id. Re-enrolling a device moves it (and kicks its live session).
    """
    csr = x509.load_pem_x509_csr(csr_pem)
    cns = csr.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    if len(cns) != 1:
        raise ValueError("the CSR must carry exactly one common name")
    device = str(cns[0].value)
    dynsec.check_device(device, province)
    cert = pki.sign_csr(csr_pem)
    _register(broker, device, province, office, dsn)
    return cert


def enrol_lab_device(pki: LabPki, broker: Broker, device: str, *, province: str, office: str,
                     dsn: str | None = None) -> Identity:
    """Issue a lab key + certificate for ``device`` and register it (tests and benchmarks)."""
    dynsec.check_device(device, province)
    ident = pki.issue(device)
    _register(broker, device, province, office, dsn)
    return ident


def revoke_enrolment(broker: Broker, device: str, *, dsn: str | None = None) -> None:
    """A stolen or retired box: remove it from the broker (its session is kicked) and revoke it at the gateway."""
    broker.revoke(device)
    if dsn:
        revoke_device(dsn, device)
