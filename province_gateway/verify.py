"""PDF signature verification on the gateway (pyHanko): intact always, trust when roots are given."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from enum import StrEnum
from io import BytesIO
from pathlib import Path

from asn1crypto import pem, x509
from pyhanko.pdf_utils.misc import PdfError
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import ValidationContext, validate_pdf_signature
from pyhanko.sign.validation.errors import SignatureValidationError
from pyhanko.sign.validation.status import SignatureCoverageLevel

from service.domain.errors import ConfigError

log = logging.getLogger("sohoa.gateway.verify")
# pyHanko logs a full traceback at WARNING for every signer outside the trust roots, which is
# the normal case when trust is optional; our own log line carries the reason instead.
logging.getLogger("pyhanko.sign.validation.generic_cms").setLevel(logging.ERROR)


class SignaturePolicy(StrEnum):
    """``require``: at least one intact signature; ``if-present``: check any found; ``off``: skip."""

    REQUIRE = "require"
    IF_PRESENT = "if-present"
    OFF = "off"


@dataclass(frozen=True, slots=True)
class SignatureResult:
    """Outcome of checking one PDF; ``reason`` is a short log-safe code when not ``ok``."""

    ok: bool
    summary: str
    reason: str | None = None


def load_roots(path: Path | None) -> list[x509.Certificate]:
    """Trust anchors from a PEM bundle (empty list when ``path`` is None)."""
    if path is None:
        return []
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"cannot read trust roots {path} ({exc})",
                          remedy="point --trust-roots at a PEM file") from exc
    roots = []
    try:
        for _type, _headers, der in pem.unarmor(data, multiple=True):
            roots.append(x509.Certificate.load(der))
    except ValueError as exc:
        raise ConfigError(f"{path} is not a PEM certificate bundle",
                          remedy="use a PEM bundle of CA certificates") from exc
    if not roots:
        raise ConfigError(f"{path} holds no certificate", remedy="use a PEM bundle of CA certificates")
    return roots


class SignatureChecker:
    """Checks every embedded signature: intact, cryptographically valid, last one covers the file."""

    def __init__(self, policy: SignaturePolicy, roots: list[x509.Certificate]) -> None:
        self.policy = policy
        self.roots = roots

    def check(self, data: bytes) -> SignatureResult:
        """Verify ``data`` (a PDF) under the policy."""
        if self.policy is SignaturePolicy.OFF:
            return SignatureResult(True, "not-checked")
        if not data.startswith(b"%PDF-"):
            return SignatureResult(False, "not-pdf", "not-a-pdf")
        try:
            reader = PdfFileReader(BytesIO(data), strict=False)
            sigs = reader.embedded_signatures
            if not sigs:
                if self.policy is SignaturePolicy.REQUIRE:
                    return SignatureResult(False, "unsigned", "signature-missing")
                return SignatureResult(True, "unsigned")
            trusted = 0
            coverage = None
            for sig in sigs:
                ctx = ValidationContext(trust_roots=self.roots, allow_fetching=False)
                status = validate_pdf_signature(sig, ctx)
                if not status.intact or not status.valid:
                    return SignatureResult(False, "broken", "signature-not-intact")
                if self.roots and status.trusted:
                    trusted += 1
                coverage = status.coverage  # the last signature's ends up here
            if coverage is not SignatureCoverageLevel.ENTIRE_FILE:
                return SignatureResult(False, "partial", "content-after-last-signature")
            if self.roots and trusted == 0:
                return SignatureResult(False, "untrusted", "signer-not-trusted")
            return SignatureResult(True, f"{len(sigs)} intact" + (f", {trusted} trusted" if self.roots else ""))
        except (PdfError, SignatureValidationError, ValueError, KeyError, TypeError,
                AttributeError, IndexError) as exc:
            log.info("signature check failed: %s", exc.__class__.__name__)
            return SignatureResult(False, "unreadable", "pdf-unreadable")
