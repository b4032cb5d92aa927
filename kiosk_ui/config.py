"""Settings of the kiosk UI: timeouts, accounts, receipt wording; loaded from ``kiosk.yaml``.

The file lives next to the service configuration (``$SOHOA_HOME/kiosk.yaml``); every key has a
working default so a fresh box starts with the development settings.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import yaml
from pydantic import Field
from pydantic import ValidationError as PydanticValidationError

from service.configbase import StrictModel, load_yaml
from service.errors import ConfigError

Role = Literal["officer", "supervisor", "technician"]


class LocalAccount(StrictModel):
    """A local (password) account; the hash is Werkzeug's ``generate_password_hash`` output."""

    username: str = Field(pattern=r"^[a-z0-9_.-]{3,32}$")
    display_name: str
    role: Role
    password_hash: str


class KioskSettings(StrictModel):
    """Everything the UI needs to know; timeouts in seconds."""

    secret_key: str | None = None  # generated once and kept under SOHOA_HOME when unset
    officer_idle_timeout_s: int = Field(default=900, ge=1)
    officer_max_session_s: int = Field(default=10 * 3600, ge=1)
    citizen_idle_timeout_s: int = Field(default=90, ge=1)
    card_login: bool = True
    local_accounts: list[LocalAccount] = []
    # The documented development accounts: None = only on a development box (one whose SOHOA_HOME
    # holds the development token made by `sohoa token init-dev`); never set true in production.
    dev_accounts: bool | None = None
    default_language: Literal["vi", "en"] = "vi"
    unit_code: str = Field(default="000.00.70.H99", pattern=r"^[0-9A-Z.]{3,40}$")
    issuing_system: str = "Hệ thống số hóa một cửa sohoa-edge"
    return_working_days: int = Field(default=3, ge=0, le=60)
    catalogue_file: Path | None = None  # an imported catalogue; the bundled sample otherwise
    low_confidence: float = Field(default=0.80, ge=0.0, le=1.0)


def load_settings(path: Path) -> KioskSettings:
    """Read ``path`` (YAML) when it exists, else the defaults; errors name the file and key."""
    if not path.exists():
        return KioskSettings()
    try:
        data = load_yaml(path.read_text(encoding="utf-8"))[1] or {}  # duplicate keys, depth and size refused
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise ConfigError(f"{path}: cannot be read ({exc})", remedy="fix the file (UTF-8 YAML mapping)") from exc
    try:
        return KioskSettings.model_validate(data)
    except PydanticValidationError as exc:
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors())
        raise ConfigError(f"{path}: {problems}", remedy="correct the keys listed") from exc
