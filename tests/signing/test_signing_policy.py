"""The signing policy (``signing.policy``) decides which signed version is final and leaves the box."""

from __future__ import annotations

from service.config import Config
from service.paths import get_paths
from service.signing.config import SigningConfig, SigningPolicy
from service.signing.signer import SignatureRole
from service.store import OutboxState, Store
from service.usecases.sign import sign_document
from tests.signing.conftest import store_document

CODE = "036088001234.KQ.G15.000031"


def _due(home, doc_id):  # type: ignore[no-untyped-def]
    with Store.open(get_paths(home)) as store:
        pending = {r.pdf_sha256 for r in store.pending_outbox()}
        return [(r.state, r.pdf_sha256 in pending) for r in store.outbox_for(doc_id)]


def test_a_version_waits_until_the_policy_s_signatures_are_all_there(sohoa_home, session_tokens, sample_pdf,
                                                                    make_signer):  # type: ignore[no-untyped-def]
    officer, agency = session_tokens["officer-rsa"], session_tokens["agency-rsa"]
    # an office whose components also need the agency's signature (the policy is configuration)
    config = Config(signing=SigningConfig(officer=officer.profile, agency=agency.profile, agency_name="UBND xã A",
                                          policy=SigningPolicy(component=["officer", "agency"])))
    doc_id = store_document(sohoa_home, sample_pdf)
    sign_document(CODE, SignatureRole.OFFICER, lambda: "123456", config=config, signer=make_signer(officer))
    assert _due(sohoa_home, doc_id) == [(OutboxState.SUPERSEDED, False), (OutboxState.QUEUED, False)]  # held
    sign_document(CODE, SignatureRole.AGENCY, lambda: "123456", config=config,
                  signer=make_signer(agency, SignatureRole.AGENCY))
    assert _due(sohoa_home, doc_id) == [(OutboxState.SUPERSEDED, False), (OutboxState.SUPERSEDED, False),
                                        (OutboxState.QUEUED, True)]


def test_by_default_the_officer_s_signature_makes_a_component_final(sohoa_home, session_tokens, sample_pdf,
                                                                   make_signer):  # type: ignore[no-untyped-def]
    officer, agency = session_tokens["officer-rsa"], session_tokens["agency-rsa"]
    config = Config(signing=SigningConfig(officer=officer.profile, agency=agency.profile))
    doc_id = store_document(sohoa_home, sample_pdf)
    sign_document(CODE, SignatureRole.OFFICER, lambda: "123456", config=config, signer=make_signer(officer))
    assert _due(sohoa_home, doc_id) == [(OutboxState.SUPERSEDED, False), (OutboxState.QUEUED, True)]
    with Store.open(get_paths(sohoa_home)) as store:
        assert store.verify().ok
