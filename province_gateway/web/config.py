"""Configuration of the province view (``web.yaml``): accounts with roles, the shared session secret, limits.

Every replica reads the same file: sessions are cookies signed with ``secret_key``, so any
replica accepts a login made on another, and nothing that matters lives in one process.
Passwords are stored as ``scrypt$N$r$p$<salt b64>$<hash b64>`` (:func:`hash_password`).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from enum import StrEnum
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from service.domain.errors import ConfigError

from ..policy import Limits

SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**14, 8, 1
USERNAME_PATTERN = r"^[a-z0-9._-]{2,32}$"
OFFICE_PATTERN = r"^[0-9A-Za-z.\-]{1,64}$"


class Role(StrEnum):
    """What a viewer may see (TT 01/2023 Art. 24.3: shown according to the viewer's rights)."""

    PROVINCE_ADMIN = "province_admin"  # every device and every count, no papers
    OFFICE_OFFICER = "office_officer"  # an owner's papers, only for a dossier its office holds
    AUDITOR = "auditor"  # devices, counts and the look-up log, no papers


class WebUser(BaseModel):
    """One account of the province view."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    username: str = Field(pattern=USERNAME_PATTERN)
    display_name: str = Field(default="", max_length=100)
    password_hash: str
    role: Role
    office: str | None = Field(default=None, pattern=OFFICE_PATTERN)

    @field_validator("password_hash")
    @classmethod
    def _hash_shape(cls, value: str) -> str:
        parts = value.split("$")
        if len(parts) != 6 or parts[0] != "scrypt" or not all(x.isdigit() for x in parts[1:4]):
            raise ValueError("must be scrypt$N$r$p$salt$hash (python -m province_gateway.web --hash-password)")
        return value

    @model_validator(mode="after")
    def _office_for_officers(self) -> WebUser:
        if self.role is Role.OFFICE_OFFICER and not self.office:
            raise ValueError(f"user {self.username}: an office_officer needs an office code")
        if self.role is not Role.OFFICE_OFFICER and self.office:
            raise ValueError(f"user {self.username}: only an office_officer is bound to an office")
        return self


class WebConfig(BaseModel):
    """The whole ``web.yaml``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    secret_key: str = Field(min_length=32, description="signs session cookies; the same on every replica")
    users: list[WebUser] = Field(min_length=1)
    session_minutes: int = Field(default=480, ge=5, le=24 * 60)
    timezone: str = "Asia/Ho_Chi_Minh"
    max_range_days: int = Field(default=366, ge=1, le=3660, description="longest date range of a count")
    dossier_max_age_days: int = Field(default=Limits().dossier_max_age_days, ge=1, le=3650)
    cookie_secure: bool = Field(default=False, description="set behind HTTPS (the province's reverse proxy)")
    development: bool = False

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r}") from exc
        return value

    @model_validator(mode="after")
    def _unique_users(self) -> WebConfig:
        names = [u.username for u in self.users]
        if len(names) != len(set(names)):
            raise ValueError("two users have the same username")
        return self

    def user(self, username: str) -> WebUser | None:
        """The account named ``username`` (None when there is none)."""
        return next((u for u in self.users if u.username == username), None)


def load_web_config(path: Path) -> WebConfig:
    """Read and validate ``web.yaml``; raises ``ConfigError`` naming what is wrong (never the secret)."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        return WebConfig.model_validate(data)
    except OSError as exc:
        raise ConfigError(f"cannot read {path} ({exc.__class__.__name__})",
                          remedy="pass --config with the province view's web.yaml") from exc
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path} is not valid YAML", remedy="fix the YAML syntax") from exc
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(str(x) for x in e['loc']) or 'file'}: {e['msg']}" for e in exc.errors())
        raise ConfigError(f"{path}: {problems}", remedy="see docs/configuration.md (province view)") from exc


def hash_password(password: str, salt: bytes | None = None) -> str:
    """The stored form of ``password`` (scrypt, random 16-byte salt)."""
    salt = salt if salt is not None else secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode("utf-8"), salt=salt, n=SCRYPT_N, r=SCRYPT_R, p=SCRYPT_P, dklen=32)
    b64 = base64.b64encode
    return f"scrypt${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${b64(salt).decode()}${b64(digest).decode()}"


def verify_password(password: str, stored: str) -> bool:
    """Whether ``password`` matches ``stored`` (constant-time compare)."""
    try:
        _, n, r, p, salt, want = stored.split("$")
        digest = hashlib.scrypt(password.encode("utf-8"), salt=base64.b64decode(salt), n=int(n), r=int(r),
                                p=int(p), dklen=len(base64.b64decode(want)), maxmem=128 * 1024 * 1024)
        return hmac.compare_digest(digest, base64.b64decode(want))
    except (ValueError, TypeError):
        return False


DEV_ACCOUNTS = (("tinh", "tinh-dev", Role.PROVINCE_ADMIN), ("motcua", "motcua-dev", Role.OFFICE_OFFICER),
                ("kiemtoan", "kiemtoan-dev", Role.AUDITOR))


def dev_config(office: str) -> dict[str, Any]:
    """A DEVELOPMENT ``web.yaml`` (the station's): the three :data:`DEV_ACCOUNTS`, a fresh secret."""
    users = [{"username": name, "display_name": name, "password_hash": hash_password(password), "role": role.value,
              **({"office": office} if role is Role.OFFICE_OFFICER else {})} for name, password, role in DEV_ACCOUNTS]
    return {"secret_key": secrets.token_urlsafe(48), "users": users, "development": True}
