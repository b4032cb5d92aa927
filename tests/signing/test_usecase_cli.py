"""The sign use case on the spine's store, and the CLI: sign / verify / token init-dev."""

from __future__ import annotations

import io
import json
import sys

import pytest
from cryptography import x509
from cryptography.x509.oid import NameOID

from service.cli.main import main
from service.config import Config
from service.domain.errors import SigningError
from service.paths import get_paths
from service.signing import records
from service.signing.config import SigningConfig
from service.signing.errors import TokenRemoved
from service.signing.signer import SignatureRole
from service.signing.verify import verify_pdf
from service.store import DocumentState, Store
from service.usecases.sign import sign_document
from tests.signing.conftest import store_document


def _config(officer, agency, tsa_url=None) -> Config:
    return Config(signing=SigningConfig(officer=officer.profile, agency=agency.profile, tsa_url=tsa_url,
                                        agency_name="UBND xã Thử Nghiệm"))


def _outbox(home, doc_id):
    with Store.open(get_paths(home)) as store:
        return store.outbox_for(doc_id), store.get(doc_id)


def test_officer_then_agency_through_the_store(sohoa_home, session_tokens, sample_pdf, make_signer, trust_roots, tsa):
    officer, agency = session_tokens["officer-rsa"], session_tokens["agency-rsa"]
    config = _config(officer, agency, tsa_url=tsa.url)
    doc_id = store_document(sohoa_home, sample_pdf)
    code = "036088001234.KQ.G15.000031"
    with pytest.raises(SigningError, match="no officer signature"):
        sign_document(code, SignatureRole.AGENCY, lambda: "123456", config=config,
                      signer=make_signer(agency, SignatureRole.AGENCY))
    first = sign_document(code, SignatureRole.OFFICER, lambda: "123456", config=config,
                          signer=make_signer(officer))
    with pytest.raises(SigningError, match="already carries the officer"):
        sign_document(code, SignatureRole.OFFICER, lambda: "123456", config=config, signer=make_signer(officer))
    second = sign_document(code, SignatureRole.AGENCY, lambda: "123456", config=config,
                           signer=make_signer(agency, SignatureRole.AGENCY))
    assert first.timestamped and second.timestamped and second.signer == "UBND xã Thử Nghiệm"
    outbox, doc = _outbox(sohoa_home, doc_id)
    assert len(outbox) == 3 and outbox[-1].pdf_sha256 == second.pdf_sha256  # each version queued for sync
    assert doc.state is DocumentState.SIGNED and doc.pdf_sha256 == second.pdf_sha256
    with Store.open(get_paths(sohoa_home)) as store:
        rows = records.signatures_of(store, doc_id)
        signed = store.files.get(doc.pdf_sha256)
    assert [(r.role, r.timestamped) for r in rows] == [("officer", True), ("agency", True)]
    assert rows[1].pdf_sha256_after == second.pdf_sha256 and rows[0].signing_time.endswith("+07:00")
    report = verify_pdf(signed, trust_roots)
    assert report.pdfa == "2b" and all(s.valid and s.trusted for s in report.signatures)


def test_card_pulled_during_use_case_loses_nothing(sohoa_home, hsm, pki, sample_pdf, make_signer,
                                                   session_tokens):
    token = hsm.create_token(pki.ca, "Trần Thị Bình", prefix="PULL")
    config = _config(token, session_tokens["agency-rsa"])
    doc_id = store_document(sohoa_home, sample_pdf)
    signer = make_signer(token)
    signer.login(lambda: token.pin)
    pulled = hsm.pull(token.label)
    with pytest.raises(TokenRemoved):
        sign_document(doc_id, SignatureRole.OFFICER, lambda: token.pin, config=config, signer=signer)
    outbox, doc = _outbox(sohoa_home, doc_id)
    assert len(outbox) == 1 and doc.state is DocumentState.STORED
    with Store.open(get_paths(sohoa_home)) as store:
        assert store.files.get(doc.pdf_sha256) == sample_pdf and records.signatures_of(store, doc_id) == []
    hsm.reinsert(pulled)
    done = sign_document(doc_id, SignatureRole.OFFICER, lambda: token.pin, config=config, signer=signer)
    assert done.signer == "Trần Thị Bình"
    assert len(_outbox(sohoa_home, doc_id)[0]) == 2


def test_cli_dev_token_sign_and_verify(sohoa_home, sample_pdf, capsys, monkeypatch):
    from service.signing import pool

    assert main(["token", "init-dev"]) == 0
    marker = (sohoa_home / "tokens" / "dev-token.json").read_text()
    assert main(["token", "init-dev"]) == 0  # idempotent: same tokens, same CA
    assert (sohoa_home / "tokens" / "dev-token.json").read_text() == marker
    officer_cert = x509.load_pem_x509_certificate((sohoa_home / "pki" / "dev-officer.pem").read_bytes())
    cn = officer_cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value
    assert cn == "DEVELOPMENT ONLY — Cán bộ Thử Nghiệm"
    code = "036088001234.KQ.G15.000031"
    store_document(sohoa_home, sample_pdf, code)
    capsys.readouterr()
    try:
        monkeypatch.setattr(sys, "stdin", io.StringIO("111111\n"))
        assert main(["sign", code, "--pin-stdin"]) == 12
        assert "wrong PIN" in capsys.readouterr().err
        monkeypatch.setattr(sys, "stdin", io.StringIO("123456\n"))
        assert main(["sign", code, "--pin-stdin"]) == 0
        monkeypatch.setenv("SOHOA_PIN", "123456")  # development token only (make run)
        assert main(["sign", code, "--role", "agency"]) == 0
        out = capsys.readouterr().out
        assert "DEVELOPMENT ONLY — Cán bộ Thử Nghiệm" in out and "PAdES B-B" in out
    finally:
        pool.close_all()
    with Store.open(get_paths(sohoa_home)) as store:
        pdf_path = store.files.path_for(store.get(code).pdf_sha256)
        offline = records.untimestamped(store)  # B-B signatures the province may augment later
    assert [(r.role, r.timestamped) for r in offline] == [("officer", False), ("agency", False)]
    assert main(["verify", str(pdf_path), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert set(report) == {"pdfa", "signatures"} and report["pdfa"] == "2b"
    assert [set(s) for s in report["signatures"]] == [{"signer", "signing_time", "intact", "valid", "trusted",
                                                        "page", "box", "timestamped"}] * 2
    first, second = report["signatures"]
    assert first["page"] == 1 and len(first["box"]) == 4 and first["trusted"] and second["valid"]
    assert first["box"][0] < 100 and second["box"][2] > 500  # top-left / top-right
    bad = sohoa_home / "corrupt.pdf"
    bad.write_bytes(pdf_path.read_bytes()[:5000])
    assert main(["verify", str(bad)]) == 3
    assert "corrupt" in capsys.readouterr().err
    assert main(["token", "status", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [r["present"] for r in rows] == [True, True]


def test_sohoa_pin_only_for_the_development_token(monkeypatch, session_tokens):
    from service.domain.errors import TokenError
    from service.signing.config import PinEntry, TokenProfile
    from service.usecases.sign import env_pin_provider

    monkeypatch.delenv("SOHOA_PIN", raising=False)
    assert env_pin_provider(TokenProfile(token_label="SOHOA-DEV-OFFICER")) is None
    monkeypatch.setenv("SOHOA_PIN", "123456")
    provider = env_pin_provider(TokenProfile(token_label="SOHOA-DEV-OFFICER"))
    assert provider is not None and provider() == "123456"
    assert env_pin_provider(TokenProfile(token_label="CARD", pin_entry=PinEntry.DEV_ENV)) is not None
    with pytest.raises(TokenError, match="only accepted for the development token"):
        env_pin_provider(session_tokens["officer-rsa"].profile)
