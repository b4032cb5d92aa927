"""Development signing tokens: a generated dev PKI and SoftHSM2 tokens inside ``SOHOA_HOME``.

**DEVELOPMENT ONLY.** ``ensure_dev_token(paths)`` creates (once; later calls return the same)

* ``SOHOA_HOME/pki/dev-ca.pem`` + ``dev-ca.key``: a development CA, "DEVELOPMENT ONLY — Sohoa Dev CA";
* ``SOHOA_HOME/pki/dev-trust.pem``: the CA bundle the verifier trusts in development;
* ``SOHOA_HOME/tokens/softhsm2.conf`` and ``tokens/store/``: a private SoftHSM2 configuration;
* token ``SOHOA-DEV-OFFICER``: an RSA 2048 key generated *on the token* (it never leaves it) and the
  certificate "DEVELOPMENT ONLY — Cán bộ Thử Nghiệm";
* token ``SOHOA-DEV-AGENCY``: likewise, "DEVELOPMENT ONLY — UBND xã Thử Nghiệm".

Both tokens use the documented development user PIN :data:`DEV_PIN` (``123456``) and SO PIN
:data:`DEV_SO_PIN`. Never use these tokens, keys or PINs for real documents.

Everything talks to SoftHSM through its command-line tools (``softhsm2-util``, ``pkcs11-tool``)
in a child process with its own ``SOFTHSM2_CONF``, so provisioning never disturbs a PKCS#11
module already loaded in the calling process. The helpers are reused by the test PKI.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import subprocess
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Literal

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from firmware.token import softhsm_module
from service.paths import Paths

DEV_PIN = "123456"
"""Documented user PIN of the development tokens (development only)."""
DEV_SO_PIN = "12345678"
"""Documented security-officer PIN of the development tokens (development only)."""
OFFICER_TOKEN_LABEL = "SOHOA-DEV-OFFICER"
AGENCY_TOKEN_LABEL = "SOHOA-DEV-AGENCY"
KEY_LABEL = "signing"
KEY_ID = "01"
DEV_CA_NAME = "DEVELOPMENT ONLY — Sohoa Dev CA"
OFFICER_NAME = "DEVELOPMENT ONLY — Cán bộ Thử Nghiệm"
AGENCY_NAME = "DEVELOPMENT ONLY — UBND xã Thử Nghiệm"
KeyKind = Literal["rsa", "ec"]
PrivateKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey


class DevTokenError(RuntimeError):
    """SoftHSM2 / OpenSC tools are missing or refused to provision a development token."""


@dataclass(frozen=True, slots=True)
class DevTokenInfo:
    """Where the development tokens and PKI live, and how to select them."""

    module: str
    softhsm2_conf: str
    officer_token: str
    agency_token: str
    key_label: str
    pin: str
    ca_cert: str
    trust_bundle: str
    officer_cert: str
    agency_cert: str
    officer_name: str
    agency_name: str


@dataclass(frozen=True, slots=True)
class CertificateAuthority:
    """A CA key + certificate held in files (development / test PKI only)."""

    key: PrivateKey
    cert: x509.Certificate

    def pem(self) -> bytes:
        """The CA certificate in PEM."""
        return self.cert.public_bytes(serialization.Encoding.PEM)


def find_softhsm_module() -> str:
    """Path of the installed SoftHSM2 PKCS#11 module."""
    found = softhsm_module()
    if found is None:
        raise DevTokenError("SoftHSM2 is not installed (no libsofthsm2.so found); run: apt-get install softhsm2")
    return found


def new_private_key(kind: KeyKind) -> PrivateKey:
    """A fresh RSA-2048 or EC P-256 key (files: CA and TSA keys only, never a signer's card key)."""
    if kind == "ec":
        return ec.generate_private_key(ec.SECP256R1())
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _name(cn: str, org: str = "DEVELOPMENT ONLY") -> x509.Name:
    return x509.Name([
        x509.NameAttribute(NameOID.COUNTRY_NAME, "VN"),
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, org),
        x509.NameAttribute(NameOID.COMMON_NAME, cn),
    ])


def make_ca(cn: str = DEV_CA_NAME, kind: KeyKind = "rsa", days: int = 3650) -> CertificateAuthority:
    """A self-signed CA certificate and its key."""
    key = new_private_key(kind)
    now = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name(cn)).issuer_name(_name(cn))
        .public_key(key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now).not_valid_after(now + dt.timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=False, key_encipherment=False,
                                     data_encipherment=False, key_agreement=False, key_cert_sign=True,
                                     crl_sign=True, encipher_only=False, decipher_only=False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    return CertificateAuthority(key, cert)


def issue_cert(ca: CertificateAuthority, public_key: object, cn: str, *, org: str = "DEVELOPMENT ONLY",
               days: int = 3 * 365, timestamping: bool = False) -> x509.Certificate:
    """Issue an end-entity certificate for ``public_key`` (a signer's, or a TSA's when ``timestamping``)."""
    if not isinstance(public_key, rsa.RSAPublicKey | ec.EllipticCurvePublicKey):
        raise DevTokenError(f"unsupported public key type {type(public_key).__name__}")
    now = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(cn, org)).issuer_name(ca.cert.subject)
        .public_key(public_key).serial_number(x509.random_serial_number())
        .not_valid_before(now).not_valid_after(now + dt.timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=not timestamping,
                                     key_encipherment=False, data_encipherment=False, key_agreement=False,
                                     key_cert_sign=False, crl_sign=False, encipher_only=False,
                                     decipher_only=False), critical=True)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca.cert.public_key()),  # type: ignore[arg-type]
                       critical=False)
    )
    if timestamping:
        builder = builder.add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.TIME_STAMPING]), critical=True)
    return builder.sign(ca.key, hashes.SHA256())


def write_softhsm_conf(tokens_dir: Path) -> Path:
    """Write a private SoftHSM2 config whose token store is ``tokens_dir/store``; returns its path."""
    store = tokens_dir / "store"
    store.mkdir(parents=True, exist_ok=True, mode=0o700)
    conf = tokens_dir / "softhsm2.conf"
    conf.write_text(f"directories.tokendir = {store}\nobjectstore.backend = file\n"
                    "log.level = ERROR\nslots.removable = true\n", encoding="utf-8")
    return conf


def _tool(args: list[str], conf: Path, what: str) -> str:
    exe = shutil.which(args[0])
    if exe is None:
        raise DevTokenError(f"{args[0]} is not installed; run: apt-get install softhsm2 opensc")
    env = dict(os.environ, SOFTHSM2_CONF=str(conf))
    proc = subprocess.run([exe, *args[1:]], env=env, capture_output=True, text=True, timeout=120, check=False)
    if proc.returncode != 0:
        # The tools never echo PINs; their stderr is safe to show.
        raise DevTokenError(f"{what} failed: {proc.stderr.strip() or proc.stdout.strip()}")
    return proc.stdout


def init_token(conf: Path, label: str, pin: str, so_pin: str = DEV_SO_PIN) -> None:
    """Initialise a fresh SoftHSM2 token called ``label`` in the first free slot."""
    _tool(["softhsm2-util", "--init-token", "--free", "--label", label, "--so-pin", so_pin, "--pin", pin],
          conf, f"initialising token {label!r}")


def token_dir_of(conf: Path, label: str) -> Path | None:
    """The SoftHSM2 directory holding token ``label`` (deleting it is how tests pull the card)."""
    store = conf.parent / "store"
    padded = label.encode("utf-8").ljust(32, b" ")
    for obj in store.glob("*/token.object"):
        if padded in obj.read_bytes():
            return obj.parent
    return None


def generate_key_on_token(module: str, conf: Path, token: str, pin: str, *, kind: KeyKind = "rsa",
                          key_label: str = KEY_LABEL, key_id: str = KEY_ID) -> object:
    """Generate a key pair inside the token; returns the public key (cryptography object)."""
    key_type = "rsa:2048" if kind == "rsa" else "EC:prime256v1"
    base = ["pkcs11-tool", "--module", module, "--token-label", token]
    _tool([*base, "--login", "--pin", pin, "--keypairgen", "--key-type", key_type, "--id", key_id,
           "--label", key_label], conf, f"generating a {kind} key on {token!r}")
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "pub.der"
        _tool([*base, "--read-object", "--type", "pubkey", "--id", key_id, "-o", str(out)], conf,
              "reading the public key")
        return serialization.load_der_public_key(out.read_bytes())


def write_cert_to_token(module: str, conf: Path, token: str, pin: str, cert: x509.Certificate, *,
                        label: str = KEY_LABEL, key_id: str = KEY_ID) -> None:
    """Store ``cert`` on the token next to its key (same label and id)."""
    with tempfile.TemporaryDirectory() as tmp:
        der = Path(tmp) / "cert.der"
        der.write_bytes(cert.public_bytes(serialization.Encoding.DER))
        _tool(["pkcs11-tool", "--module", module, "--token-label", token, "--login", "--pin", pin,
               "--write-object", str(der), "--type", "cert", "--id", key_id, "--label", label], conf,
              f"writing the certificate to {token!r}")


def provision_token(module: str, conf: Path, ca: CertificateAuthority, token: str, cn: str, *,
                    pin: str = DEV_PIN, kind: KeyKind = "rsa", org: str = "DEVELOPMENT ONLY") -> x509.Certificate:
    """Create token ``token`` with an on-token key and a certificate for ``cn`` issued by ``ca``."""
    init_token(conf, token, pin)
    public_key = generate_key_on_token(module, conf, token, pin, kind=kind)
    cert = issue_cert(ca, public_key, cn, org=org)
    write_cert_to_token(module, conf, token, pin, cert)
    return cert


def _write_private(path: Path, data: bytes) -> None:
    path.write_bytes(data)
    path.chmod(0o600)


def ensure_dev_token(paths: Paths) -> DevTokenInfo:
    """Create the development PKI and the two development tokens once; return where they are.

    Idempotent: when ``tokens/dev-token.json`` exists and both tokens are still present, the
    recorded information is returned unchanged. A half-made state (interrupted run, deleted
    token) is wiped and rebuilt.
    """
    paths.ensure()
    marker = paths.tokens / "dev-token.json"
    if marker.exists():
        try:
            info = DevTokenInfo(**json.loads(marker.read_text(encoding="utf-8")))
        except (ValueError, TypeError):
            info = None
        if info is not None and all(token_dir_of(Path(info.softhsm2_conf), t) for t in
                                    (info.officer_token, info.agency_token)) and Path(info.trust_bundle).exists():
            return info
    module = find_softhsm_module()
    shutil.rmtree(paths.tokens / "store", ignore_errors=True)
    conf = write_softhsm_conf(paths.tokens)
    ca = make_ca()
    _write_private(paths.pki / "dev-ca.key", ca.key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    (paths.pki / "dev-ca.pem").write_bytes(ca.pem())
    (paths.pki / "dev-trust.pem").write_bytes(ca.pem())
    officer = provision_token(module, conf, ca, OFFICER_TOKEN_LABEL, OFFICER_NAME)
    agency = provision_token(module, conf, ca, AGENCY_TOKEN_LABEL, AGENCY_NAME)
    (paths.pki / "dev-officer.pem").write_bytes(officer.public_bytes(serialization.Encoding.PEM))
    (paths.pki / "dev-agency.pem").write_bytes(agency.public_bytes(serialization.Encoding.PEM))
    info = DevTokenInfo(
        module=module, softhsm2_conf=str(conf), officer_token=OFFICER_TOKEN_LABEL,
        agency_token=AGENCY_TOKEN_LABEL, key_label=KEY_LABEL, pin=DEV_PIN,
        ca_cert=str(paths.pki / "dev-ca.pem"), trust_bundle=str(paths.pki / "dev-trust.pem"),
        officer_cert=str(paths.pki / "dev-officer.pem"), agency_cert=str(paths.pki / "dev-agency.pem"),
        officer_name=OFFICER_NAME, agency_name=AGENCY_NAME,
    )
    marker.write_text(json.dumps(asdict(info), ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return info


DEVICE_TOKEN_LABEL = "SOHOA-DEV-DEVICE"
DEVICE_PIN_FILE = "device-token.pin"


def ensure_dev_device_token(paths: Paths) -> Path:
    """The development *device* token (audit checkpoint key) beside the signing tokens; returns its PIN file.

    **DEVELOPMENT ONLY.** Token ``SOHOA-DEV-DEVICE`` in the same SoftHSM2 store as
    :func:`ensure_dev_token`'s, user PIN :data:`DEV_PIN` written to ``tokens/device-token.pin``
    (mode 0600). The key itself is generated on it by ``service.usecases.audit_key``.
    """
    info = ensure_dev_token(paths)
    conf = Path(info.softhsm2_conf)
    if token_dir_of(conf, DEVICE_TOKEN_LABEL) is None:
        init_token(conf, DEVICE_TOKEN_LABEL, DEV_PIN)
    pin_file = paths.tokens / DEVICE_PIN_FILE
    if not pin_file.exists():
        _write_private(pin_file, (DEV_PIN + "\n").encode("ascii"))
    return pin_file
