"""Configuration of the store, including which signer signs the audit checkpoints."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field

from service.configbase import StrictModel


class FileCheckpointSigner(StrictModel):
    """Audit checkpoints signed with the device identity key file (``pki/device.key``): the fallback."""

    type: Literal["file"] = "file"


class Pkcs11CheckpointSigner(StrictModel):
    """Audit checkpoints signed by a non-exportable key generated on a PKCS#11 token.

    SoftHSM2 in development (the station's ``SOHOA-DEV-DEVICE`` token), tpm2-pkcs11 on a Pi.
    ``sohoa provision`` generates the key on the token (never exported) and pins its public key.
    """

    type: Literal["pkcs11"]
    module: str | None = Field(default=None, description="PKCS#11 module path; None = SoftHSM2 (development)")
    softhsm2_conf: Path | None = Field(
        default=None, description="SoftHSM2 config; None = SOHOA_HOME/tokens/softhsm2.conf when the module is SoftHSM")
    token_label: str | None = Field(default="SOHOA-DEV-DEVICE", min_length=1, max_length=32)
    token_serial: str | None = Field(default=None, min_length=1, max_length=16)
    key_label: str = Field(default="audit-checkpoint", min_length=1, max_length=64)
    pin_file: Path | None = Field(default=None, description="file holding the token's user PIN (mode 0600); "
                                                            "None = SOHOA_HOME/tokens/device-token.pin")


CheckpointSignerConfig = Annotated[FileCheckpointSigner | Pkcs11CheckpointSigner, Field(discriminator="type")]


class StoreConfig(StrictModel):
    """Settings for the store (embedded defaults work out of the box)."""

    busy_timeout_ms: int = Field(default=15_000, ge=100, le=600_000,
                                 description="how long a writer waits for another writer's lock")
    max_code_suffix: int = Field(default=999, ge=1, le=99_999,
                                 description="highest suffix tried to make a result code unique")
    checkpoint_signer: CheckpointSignerConfig = Field(
        default_factory=FileCheckpointSigner, description="what signs the audit head: file | pkcs11")
