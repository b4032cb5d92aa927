"""Session-wide real components for the signing tests: test PKI, SoftHSM2 tokens, a local TSA."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from asn1crypto import x509 as asn1_x509
from cryptography.hazmat.primitives import serialization

from service.domain.fields import Metadata
from service.paths import get_paths
from service.signing import pool
from service.signing.pkcs11_signer import Pkcs11Signer
from service.signing.signer import SignatureRole
from service.store import NewDocument, PageRecord, Store
from tests.support.pdfa_sample import make_pdfa2b
from tests.support.pki import TestPki, build_pki
from tests.support.softhsm import SoftHsm, TestToken
from tests.support.tsa import LocalTsa

OFFICER = "Nguyễn Văn An"
AGENCY = "Ủy ban nhân dân xã Thử Nghiệm"


@pytest.fixture(scope="session")
def pki(tmp_path_factory: pytest.TempPathFactory) -> TestPki:
    return build_pki(tmp_path_factory.mktemp("pki"))


@pytest.fixture(scope="session")
def hsm(tmp_path_factory: pytest.TempPathFactory) -> SoftHsm:
    return SoftHsm(tmp_path_factory.mktemp("softhsm"))


@pytest.fixture(scope="session")
def session_tokens(hsm: SoftHsm, pki: TestPki) -> dict[str, TestToken]:
    """Officer and agency tokens with RSA-2048 and EC P-256 keys generated on the token."""
    return {
        "officer-rsa": hsm.create_token(pki.ca, OFFICER, kind="rsa", prefix="OFF"),
        "agency-rsa": hsm.create_token(pki.ca, AGENCY, kind="rsa", prefix="AGY"),
        "officer-ec": hsm.create_token(pki.ca, OFFICER, kind="ec", prefix="OFF"),
        "agency-ec": hsm.create_token(pki.ca, AGENCY, kind="ec", prefix="AGY"),
    }


@pytest.fixture(scope="session")
def sample_pdf() -> bytes:
    return make_pdfa2b(2)


@pytest.fixture(scope="session")
def trust_roots(pki: TestPki) -> list[asn1_x509.Certificate]:
    return [asn1_x509.Certificate.load(pki.ca.cert.public_bytes(serialization.Encoding.DER))]


@pytest.fixture(scope="session")
def tsa(pki: TestPki) -> Iterator[LocalTsa]:
    server = LocalTsa(pki.tsa_cert, pki.tsa_key).start()
    yield server
    server.stop()


@pytest.fixture
def make_signer(sohoa_home: Path) -> Iterator[Callable[[TestToken, SignatureRole], Pkcs11Signer]]:
    """Build signers for tokens; every one is closed after the test (so SoftHSM can rescan)."""
    made: list[Pkcs11Signer] = []

    def _make(token: TestToken, role: SignatureRole = SignatureRole.OFFICER) -> Pkcs11Signer:
        signer = Pkcs11Signer(token.profile, get_paths(sohoa_home), role=role.value)
        made.append(signer)
        return signer

    yield _make
    for signer in made:
        signer.close()
    pool.close_all()


def store_document(home: Path, pdf: bytes, code: str = "036088001234.KQ.G15.000031") -> str:
    """Put ``pdf`` in a fresh store as a document (as the spine's digitize does); returns its id."""
    paths = get_paths(home)
    with Store.open(paths) as store:
        sha = store.files.put(pdf)
        page = PageRecord(page_no=1, sha256=sha, media_type="application/pdf", width=827, height=1169, dpi=100.0,
                          colour="colour", side="front", blank=False, sticky_note_of=None)
        doc = store.add_document(NewDocument(result_code=code, metadata=Metadata(document_type_code="KQ.G15.000031"),
                                             pdf_sha256=sha, pages=(page,)), actor="test")
        return doc.id
