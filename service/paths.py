"""Where the service keeps its state: everything lives under ``SOHOA_HOME``."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

DEFAULT_HOME_ROOT = Path("/var/lib/sohoa")


def default_home() -> Path:
    """``$SOHOA_HOME`` if set; else /var/lib/sohoa for root, ~/.local/share/sohoa otherwise."""
    env = os.environ.get("SOHOA_HOME")
    if env:
        return Path(env).expanduser().resolve()
    if os.geteuid() == 0:
        return DEFAULT_HOME_ROOT
    return Path.home() / ".local" / "share" / "sohoa"


@dataclass(frozen=True, slots=True)
class Paths:
    """Named locations inside one service home."""

    home: Path

    @property
    def config(self) -> Path:
        """The YAML configuration file (optional; embedded defaults apply without it)."""
        return self.home / "config.yaml"

    @property
    def database(self) -> Path:
        """The SQLite database."""
        return self.home / "sohoa.db"

    @property
    def files(self) -> Path:
        """The content-addressed file store."""
        return self.home / "files"

    @property
    def tokens(self) -> Path:
        """SoftHSM2 token directory and its config (development token)."""
        return self.home / "tokens"

    @property
    def pki(self) -> Path:
        """Device identity, CA bundles and development PKI."""
        return self.home / "pki"

    @property
    def exports(self) -> Path:
        """Default export / receipt output folder."""
        return self.home / "exports"

    @property
    def logs(self) -> Path:
        """Log folder (no personal data is ever written there)."""
        return self.home / "logs"

    def ensure(self) -> Paths:
        """Create the home and its folders (0700) if missing; returns self."""
        for p in (self.home, self.files, self.tokens, self.pki, self.exports, self.logs):
            p.mkdir(parents=True, exist_ok=True, mode=0o700)
        return self


def get_paths(home: Path | None = None) -> Paths:
    """Paths for ``home`` or the default home."""
    return Paths(home if home is not None else default_home())
