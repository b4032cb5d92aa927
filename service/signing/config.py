"""Configuration of the signing stage: tokens, PIN entry, hardware quirks, TSA, trust, stamp font."""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum
from pathlib import Path

from pydantic import Field, model_validator

from service.configbase import StrictModel

DEFAULT_STAMP_FONT = Path("/usr/share/fonts/truetype/liberation2/LiberationSerif-Regular.ttf")


class PinEntry(StrEnum):
    """How the user PIN reaches the token."""

    CALLER = "caller"  # the kiosk or the CLI asks the officer (getpass / --pin-stdin)
    PINPAD = "pinpad"  # the reader's PIN pad (PKCS#11 protected authentication path)
    DEV_ENV = "dev-env"  # $SOHOA_PIN: development token only (`make run`), never for real cards


class EcdsaMechanism(StrEnum):
    """Hardware quirk: how ECDSA is asked of the token."""

    RAW = "raw"  # hash on the host, CKM_ECDSA on the token (SoftHSM2 and most cards)
    HASHED = "hashed"  # CKM_ECDSA_SHA256 on the token (cards that support it)


class TokenProfile(StrictModel):
    """One signing device (officer's card or agency token) and the key/certificate on it."""

    module: str | None = Field(default=None, description="PKCS#11 module path; None = SoftHSM2 (development)")
    softhsm2_conf: Path | None = Field(
        default=None, description="SoftHSM2 config; None = SOHOA_HOME/tokens/softhsm2.conf when the module is SoftHSM")
    token_label: str | None = None
    token_serial: str | None = None
    uri: str | None = Field(default=None, description="RFC 7512 pkcs11: URI (token, serial, object, id)")
    key_label: str | None = "signing"
    key_id: str | None = Field(default=None, pattern=r"^([0-9a-fA-F]{2})+$")
    cert_label: str | None = None
    cert_id: str | None = Field(default=None, pattern=r"^([0-9a-fA-F]{2})+$")
    pin_entry: PinEntry = PinEntry.CALLER
    ecdsa_mechanism: EcdsaMechanism = EcdsaMechanism.RAW

    @model_validator(mode="after")
    def _uri_ok(self) -> TokenProfile:
        if self.uri is not None:
            from firmware.config import parse_pkcs11_uri

            parse_pkcs11_uri(self.uri)  # raises ValueError -> pydantic error with the line number
        return self


class DocumentKind(StrEnum):
    """What a paper is in its dossier: a component the citizen brought, or the procedure's result."""

    COMPONENT = "component"  # thành phần hồ sơ: signed by the digitizing officer (TT 01/2023 Art. 8)
    RESULT = "result"  # kết quả giải quyết TTHC: officer, then agency (NĐ 30/2020 copy form)


_ROLES = ("officer", "agency")


class SigningPolicy(StrictModel):
    """Which signatures make a document *final* (only a final version is sent to the province)."""

    component: list[str] = Field(default_factory=lambda: ["officer"],
                                 description="roles a component needs (TT 01/2023 Art. 8)")
    result: list[str] = Field(default_factory=lambda: ["officer", "agency"],
                              description="roles a result needs (officer, then agency: NĐ 30/2020)")

    @model_validator(mode="after")
    def _roles_ok(self) -> SigningPolicy:
        for name, roles in (("component", self.component), ("result", self.result)):
            unknown = [r for r in roles if r not in _ROLES]
            if unknown:
                raise ValueError(f"signing.policy.{name}: unknown role {unknown[0]!r} (officer, agency)")
            if "officer" not in roles:
                raise ValueError(f"signing.policy.{name} must include officer (TT 01/2023 Art. 8)")
        return self

    def required(self, kind: DocumentKind | str | None) -> tuple[str, ...]:
        """The roles a document of ``kind`` needs; no kind (no dossier model yet) = a component."""
        return tuple(self.result if kind is not None and str(kind) == DocumentKind.RESULT.value else self.component)

    def is_final(self, kind: DocumentKind | str | None, signed_roles: Iterable[str]) -> bool:
        """True when ``signed_roles`` hold every signature ``kind`` requires."""
        present = set(signed_roles)
        return all(r in present for r in self.required(kind))


class SigningConfig(StrictModel):
    """Settings for signing (embedded defaults use the development SoftHSM2 tokens)."""

    officer: TokenProfile = TokenProfile(token_label="SOHOA-DEV-OFFICER")
    agency: TokenProfile = TokenProfile(token_label="SOHOA-DEV-AGENCY")
    tsa_url: str | None = Field(default=None, description="RFC 3161 TSA; None = PAdES B-B only (offline)")
    tsa_timeout_s: float = Field(default=5.0, gt=0, le=60)
    ca_bundle: Path | None = Field(default=None, description="trusted roots (PEM); None = SOHOA_HOME/pki/dev-trust.pem")
    stamp_font: Path = DEFAULT_STAMP_FONT
    copy_form: str = Field(default="SAO Y", description="NĐ 30/2020 form of copy: SAO Y, SAO LỤC or TRÍCH SAO")
    agency_name: str | None = Field(default=None, description="None = identity.office_name")
    require_pdfa: bool = True
    policy: SigningPolicy = Field(default_factory=SigningPolicy,
                                  description="signatures per document kind before a version is sent")
