"""Token life on SoftHSM2: PIN errors, lock, absence, removal mid-signing, shift-long session."""

from __future__ import annotations

import hashlib

import pytest

from firmware.token import CKF_USER_PIN_FINAL_TRY, CKF_USER_PIN_LOCKED, parse_pkcs11_uri
from service.signing.config import TokenProfile
from service.signing.errors import PinIncorrect, TokenAbsent, TokenLocked, TokenRemoved
from service.signing.pades import sign_pdf
from service.signing.signer import SignatureRole
from service.signing.verify import verify_pdf
from tests.signing.conftest import OFFICER


class CountingPin:
    """A PIN provider that counts how often the officer was asked."""

    def __init__(self, pin: str) -> None:
        self.pin = pin
        self.asked = 0

    def __call__(self) -> str:
        self.asked += 1
        return self.pin


@pytest.fixture
def fresh_token(hsm, pki):
    """A token of its own (these tests change its PIN state or pull it)."""
    return hsm.create_token(pki.ca, OFFICER, prefix="FRESH")


def test_wrong_pin_says_so_and_the_right_pin_then_works(fresh_token, make_signer, sample_pdf, trust_roots):
    signer = make_signer(fresh_token)
    with pytest.raises(PinIncorrect) as err:
        signer.login(lambda: "999999")
    assert "wrong PIN" in err.value.message and err.value.remedy
    assert err.value.count_low  # SoftHSM2 reports CKF_USER_PIN_COUNT_LOW after a failure
    assert "few tries are left" in err.value.message
    assert not signer.logged_in
    signer.login(lambda: fresh_token.pin)
    signed = sign_pdf(sample_pdf, signer, SignatureRole.OFFICER, signer_name=OFFICER)
    assert verify_pdf(signed, trust_roots).signatures[0].valid


def test_final_try_reported(fresh_token, hsm, make_signer):
    hsm.add_token_flags(fresh_token.label, CKF_USER_PIN_FINAL_TRY)
    with pytest.raises(PinIncorrect) as err:
        make_signer(fresh_token).login(lambda: "000000")
    assert err.value.tries_left == 1 and "one try left" in err.value.message


def test_locked_token_is_refused_with_remedy(fresh_token, hsm, make_signer):
    # SoftHSM2 never locks by itself (it only raises COUNT_LOW); a locked card is the
    # CKF_USER_PIN_LOCKED flag in the token's own persistent state, which is what we check.
    hsm.add_token_flags(fresh_token.label, CKF_USER_PIN_LOCKED)
    asked = CountingPin(fresh_token.pin)
    with pytest.raises(TokenLocked) as err:
        make_signer(fresh_token).login(asked)
    assert "locked" in err.value.message and "PUK" in (err.value.remedy or "")
    assert asked.asked == 0  # no PIN is sent to a locked card


def test_missing_token_is_absent_with_remedy(hsm, make_signer):
    from tests.support.softhsm import TestToken

    ghost = TokenProfile(module=hsm.module, softhsm2_conf=hsm.conf, token_label="NO-SUCH-CARD")
    signer = make_signer(TestToken("NO-SUCH-CARD", "123456", None, ghost))  # type: ignore[arg-type]
    with pytest.raises(TokenAbsent) as err:
        signer.login(lambda: "123456")
    assert "No token matching" in err.value.message and "insert the card" in (err.value.remedy or "")


def test_card_removed_mid_signing_then_reinserted(fresh_token, hsm, make_signer, sample_pdf, trust_roots):
    signer = make_signer(fresh_token)
    pin = CountingPin(fresh_token.pin)
    signer.login(pin)
    sign_pdf(sample_pdf, signer, SignatureRole.OFFICER, signer_name=OFFICER)  # key handle now cached
    before = hashlib.sha256(sample_pdf).hexdigest()
    pulled = hsm.pull(fresh_token.label)  # the officer pulls the card between two documents
    with pytest.raises(TokenRemoved) as err:
        sign_pdf(sample_pdf, signer, SignatureRole.OFFICER, signer_name=OFFICER)
    assert "insert the card" in (err.value.remedy or "")
    assert hashlib.sha256(sample_pdf).hexdigest() == before  # the document is untouched
    assert not signer.logged_in
    with pytest.raises(TokenAbsent):
        signer.login(pin)
    hsm.reinsert(pulled)
    signer.login(pin)  # the card is back: PIN asked again, signing works
    assert pin.asked == 2
    signed = sign_pdf(sample_pdf, signer, SignatureRole.OFFICER, signer_name=OFFICER)
    assert verify_pdf(signed, trust_roots).signatures[0].valid


def test_session_kept_for_the_shift_and_logout(session_tokens, make_signer, sample_pdf):
    signer = make_signer(session_tokens["officer-rsa"])
    pin = CountingPin("123456")
    for _ in range(3):
        signer.login(pin)
        sign_pdf(sample_pdf, signer, SignatureRole.OFFICER, signer_name=OFFICER)
    assert pin.asked == 1
    signer.logout()
    assert not signer.logged_in
    signer.login(pin)
    assert pin.asked == 2


def test_pkcs11_uri_selects_token_and_key(session_tokens, hsm, make_signer, sample_pdf, trust_roots):
    from tests.support.softhsm import TestToken

    token = session_tokens["agency-ec"]
    uri = f"pkcs11:token={token.label};object=signing;id=%01"
    assert parse_pkcs11_uri(uri).object_id == b"\x01"
    profile = TokenProfile(module=hsm.module, softhsm2_conf=hsm.conf, token_label=None, uri=uri)
    signer = make_signer(TestToken(token.label, token.pin, token.cert, profile), SignatureRole.AGENCY)
    signer.login(lambda: "123456")
    assert signer.key_algorithm() == "ec"
    signed = sign_pdf(sample_pdf, signer, SignatureRole.AGENCY, signer_name="UBND")
    assert verify_pdf(signed, trust_roots).signatures[0].valid


def test_bad_uri_is_a_config_error():
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match="unsupported PKCS#11 URI"):
        TokenProfile(uri="pkcs11:bogus=1")


def test_wrong_key_label_and_missing_pinpad_are_clear(session_tokens, hsm, make_signer):
    from service.domain.errors import SigningError
    from service.signing.config import PinEntry
    from service.signing.errors import TokenObjectMissing
    from tests.support.softhsm import TestToken

    token = session_tokens["officer-rsa"]
    wrong = token.profile.model_copy(update={"key_label": "no-such-key"})
    with pytest.raises(TokenObjectMissing, match="no certificate") as err:
        make_signer(TestToken(token.label, token.pin, token.cert, wrong)).login(lambda: "123456")
    assert "pkcs11-tool --list-objects" in (err.value.remedy or "")
    pinpad = token.profile.model_copy(update={"pin_entry": PinEntry.PINPAD})
    with pytest.raises(SigningError, match="no PIN pad"):
        make_signer(TestToken(token.label, token.pin, token.cert, pinpad)).login(lambda: "123456")
