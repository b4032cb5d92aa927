"""Factory reset: remove every document, database, token, log and export from SOHOA_HOME."""

from __future__ import annotations

import shutil
from pathlib import Path

from provisioning.errors import ConfirmationRequired
from service.paths import Paths


def factory_reset(paths: Paths, *, yes: bool, keep_identity: bool = False, keep_config: bool = False) -> list[str]:
    """Wipe the box's state; returns the names removed. Requires ``yes`` (``--yes`` on the CLI).

    Everything personal goes (database, page files, exports, logs, tokens, pre-restore copies);
    the device identity (``pki/``) and ``config.yaml`` hold nothing personal and may be kept.
    """
    if not yes:
        raise ConfirmationRequired("factory reset deletes every document, the database, tokens and logs",
                                   remedy="make a backup first (`sohoa device backup DIR`), then re-run with --yes")
    home = paths.home
    if not home.exists():
        return []
    keep = set()
    if keep_identity:
        keep.add("pki")
    if keep_config:
        keep.add("config.yaml")
    removed: list[str] = []
    for entry in sorted(home.iterdir()):
        if entry.name in keep:
            continue
        _remove(entry)
        removed.append(entry.name)
    paths.ensure()
    return removed


def _remove(entry: Path) -> None:
    if entry.is_dir() and not entry.is_symlink():
        shutil.rmtree(entry)
    else:
        entry.unlink()
