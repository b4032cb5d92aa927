"""Sign a stored document (officer or agency) — used by the CLI and the kiosk UI.

The PIN is asked through the caller's ``pin_provider`` (kiosk dialog, getpass, stdin) only when
the token is not already logged in for this shift; it is never logged or stored. On any failure
the stored document is left exactly as it was and can be signed again.
"""

from __future__ import annotations

import datetime as dt
import io
import logging
import os
from dataclasses import dataclass

import pikepdf

from service.config import Config, load_config
from service.domain.errors import SigningError, SohoaError, TokenError
from service.paths import Paths, get_paths
from service.signing import pool, records
from service.signing.config import PinEntry, TokenProfile
from service.signing.pades import sign_pdf_ex, vn_iso
from service.signing.signer import PinProvider, SignatureRole, Signer
from service.store import DocumentState
from service.usecases.audit_key import open_store

log = logging.getLogger(__name__)

DEV_TOKEN_PREFIX = "SOHOA-DEV-"


@dataclass(frozen=True, slots=True)
class SignOutcome:
    """What was signed (the CLI prints it; the UI shows it)."""

    document_id: str
    code: str
    role: SignatureRole
    signer: str
    signing_time: str
    timestamped: bool
    pdf_sha256: str


def env_pin_provider(profile: TokenProfile) -> PinProvider | None:
    """``$SOHOA_PIN`` as a PIN provider — development tokens only; None when not applicable."""
    pin = os.environ.get("SOHOA_PIN")
    if pin is None:
        return None
    label = profile.token_label or ""
    if profile.pin_entry is not PinEntry.DEV_ENV and not label.startswith(DEV_TOKEN_PREFIX):
        raise TokenError("SOHOA_PIN is only accepted for the development token",
                         remedy="unset SOHOA_PIN and enter the card's PIN when asked")
    return lambda: pin


def _signed_roles(pdf: bytes) -> list[str]:
    with pikepdf.open(io.BytesIO(pdf)) as doc:
        form = doc.Root.get("/AcroForm")
        names = [str(f.get("/T", "")) for f in (form.get("/Fields") or [])] if form is not None else []
    return [n.rsplit("_", 1)[-1] for n in names if "_" in n]


def sign_document(code: str, role: SignatureRole, pin_provider: PinProvider | None, *,
                  paths: Paths | None = None, config: Config | None = None, signer: Signer | None = None,
                  actor: str = "officer", when: dt.datetime | None = None) -> SignOutcome:
    """Sign document ``code`` (result code or id) as ``role`` and store the signed PDF.

    The officer signs first (TT 01/2023 Art. 8); the agency signature (NĐ 30/2020) needs it.
    Replacing the PDF enqueues it for sync (store contract). Raises NotFoundError, TokenAbsent,
    PinIncorrect, TokenLocked, TokenRemoved, PdfaBroken, SigningError.
    """
    paths = paths or get_paths()
    config = config or load_config(paths.config)
    try:
        return _sign(code, role, pin_provider, paths, config, signer, actor, when)
    except SohoaError as exc:  # token, PIN, PDF/A, module, ...: every refused signature counts
        _count_failure(paths, config, exc)
        raise


def _count_failure(paths: Paths, config: Config, exc: SohoaError) -> None:
    """Persist one signing failure under its error class (for ``sohoa_signing_failures_total``)."""
    try:
        with open_store(paths, config) as store:
            store.record_signing_failure(type(exc).__name__)
    except SohoaError as again:  # never hide the signing error behind a metrics one
        log.warning("signing failure not counted: %s", again.message)


def _sign(code: str, role: SignatureRole, pin_provider: PinProvider | None, paths: Paths, config: Config,
          signer: Signer | None, actor: str, when: dt.datetime | None) -> SignOutcome:
    cfg = config.signing
    signer = signer or pool.signer_for(role, cfg, paths)
    with open_store(paths, config) as store:
        doc = store.get(code)
        original = store.files.get(doc.pdf_sha256)
        roles = _signed_roles(original)
        if role is SignatureRole.OFFICER and SignatureRole.OFFICER.value in roles:
            raise SigningError(f"{doc.result_code} already carries the officer's signature",
                               remedy="nothing to do; the agency may now sign it")
        if role is SignatureRole.AGENCY and SignatureRole.OFFICER.value not in roles:
            raise SigningError(f"{doc.result_code} has no officer signature yet",
                               remedy="the digitizing officer signs first (sohoa sign CODE --role officer)")
        if role is SignatureRole.AGENCY and SignatureRole.AGENCY.value in roles:
            raise SigningError(f"{doc.result_code} already carries the agency signature", remedy="nothing to do")
        signer.login(pin_provider)
        cert_name = str(signer.certificate().subject.native.get("common_name", ""))
        name = cert_name if role is SignatureRole.OFFICER else (cfg.agency_name or config.identity.office_name)
        result = sign_pdf_ex(original, signer, role, signer_name=name, when=when, copy_form=cfg.copy_form,
                             agency_name=name if role is SignatureRole.AGENCY else None, font=cfg.stamp_font,
                             tsa_url=cfg.tsa_url, tsa_timeout_s=cfg.tsa_timeout_s, require_pdfa=cfg.require_pdfa)
        # only the final version is sent: the one carrying every signature its kind needs (signing.policy)
        final = cfg.policy.is_final(store.sync_context(doc.id)["kind"], [*roles, role.value])
        stored = store.replace_pdf(doc.id, result.pdf, actor=actor, action=f"signed_{role.value}",
                                   state=DocumentState.SIGNED, due=final,
                                   details={"role": role.value, "timestamped": result.timestamped})
        records.record(store, records.SignatureRecord(
            document_id=doc.id, role=role.value, signer=name, signing_time=vn_iso(result.signing_time),
            timestamped=result.timestamped, pdf_sha256_after=stored.pdf_sha256, field_name=result.field_name))
        log.info("document signed (role=%s, timestamped=%s)", role.value, result.timestamped)
        return SignOutcome(doc.id, doc.result_code, role, name, vn_iso(result.signing_time), result.timestamped,
                           stored.pdf_sha256)


def dev_token_pin(paths: Paths, *, create: bool = False) -> str | None:
    """The development token's PIN when that token exists (created first when ``create``).

    Development only: what ``sohoa kiosk --dev-token`` shows on the console. None when there is
    no development token (or its marker cannot be read).
    """
    import json

    if create:
        from provisioning.devtoken import ensure_dev_token

        return ensure_dev_token(paths).pin
    marker = paths.tokens / "dev-token.json"
    try:
        pin = json.loads(marker.read_text(encoding="utf-8")).get("pin") if marker.exists() else None
    except (OSError, ValueError):
        return None
    return pin if isinstance(pin, str) else None
