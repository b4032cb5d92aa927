"""``sohoa config validate``: check a configuration file and point at the offending line."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from service.config import Config, parse_config
from service.domain.errors import ConfigError


def validate_config_file(path: Path) -> Config:
    """Parse and validate ``path``; raises ConfigError naming file:line: key: problem."""
    if not path.exists():
        raise ConfigError(f"{path}: no such configuration file",
                          remedy="give the path of config.yaml (defaults apply when the file is absent)")
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: not UTF-8 text (byte {exc.start})", remedy="save the file as UTF-8") from exc
    except OSError as exc:
        raise ConfigError(f"{path}: cannot be read ({exc.strerror})", remedy="check the file's permissions") from exc
    return parse_config(text, str(path))


def device_summary(config: Config) -> dict[str, Any]:
    """Which driver each device slot uses (``None`` = not fitted), for the validation report."""
    out: dict[str, Any] = {}
    for slot in ("camera", "scanner", "panel", "qr_reader", "printer"):
        section = getattr(config.devices, slot)
        out[slot] = None if section is None else getattr(section, "type", "gpio")
    return out
