"""The gateway's signature policy with real pyHanko validation (intact always, trust optional)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.sync_common import make_pdf, make_signer, sign_pdf
from province_gateway.verify import SignatureChecker, SignaturePolicy, load_roots
from service.domain.errors import ConfigError


def test_policies_and_trust_roots(signer, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    signed = sign_pdf(make_pdf(1), signer)
    unsigned = make_pdf(2)
    other = make_signer(tmp_path / "other")
    require = SignatureChecker(SignaturePolicy.REQUIRE, [])
    assert require.check(signed).ok and require.check(signed).summary == "1 intact"
    assert require.check(unsigned).reason == "signature-missing"
    assert require.check(b"GIF89a").reason == "not-a-pdf"
    assert require.check(b"%PDF-1.7\n garbage").reason in ("pdf-unreadable", "signature-missing")
    assert SignatureChecker(SignaturePolicy.IF_PRESENT, []).check(unsigned).ok
    assert SignatureChecker(SignaturePolicy.OFF, []).check(b"anything").ok
    trusted = SignatureChecker(SignaturePolicy.REQUIRE, [signer.signing_cert])
    assert trusted.check(signed).ok and "1 trusted" in trusted.check(signed).summary
    assert SignatureChecker(SignaturePolicy.REQUIRE, [other.signing_cert]).check(signed).reason == "signer-not-trusted"
    appended = signed + b"\n% appended after signing\n"
    assert require.check(appended).reason in ("content-after-last-signature", "signature-not-intact")


def test_trust_roots_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError):
        load_roots(tmp_path / "missing.pem")
    (tmp_path / "empty.pem").write_text("no certificate here")
    with pytest.raises(ConfigError):
        load_roots(tmp_path / "empty.pem")
    make_signer(tmp_path / "s")
    assert len(load_roots(tmp_path / "s" / "signer.crt")) == 1
