"""Factory reset: needs --yes; wipes everything personal; can keep identity and config."""

from __future__ import annotations

import pytest

from provisioning.errors import ConfirmationRequired
from provisioning.reset import factory_reset
from service.cli.main import main
from service.paths import get_paths


def _fill() -> None:
    paths = get_paths().ensure()
    paths.database.write_bytes(b"db")
    (paths.home / "sohoa.db-wal").write_bytes(b"wal")
    (paths.files / "page.png").write_bytes(b"img")
    (paths.exports / "receipt.pdf").write_bytes(b"pdf")
    (paths.tokens / "token.db").write_bytes(b"tok")
    (paths.logs / "x.log").write_text("log")
    (paths.pki / "device.key").write_bytes(b"key")
    paths.config.write_text("identity: {}\n")
    (paths.home / ".pre-restore").mkdir()
    (paths.home / ".pre-restore" / "old.db").write_bytes(b"old")


def test_refuses_without_yes() -> None:
    _fill()
    with pytest.raises(ConfirmationRequired, match="deletes every document"):
        factory_reset(get_paths(), yes=False)
    assert get_paths().database.exists()
    assert main(["device", "factory-reset"]) == 2


def test_wipes_everything() -> None:
    _fill()
    paths = get_paths()
    removed = factory_reset(paths, yes=True)
    assert {"sohoa.db", "sohoa.db-wal", "files", "tokens", "pki", "config.yaml", ".pre-restore"} <= set(removed)
    leftovers = [p for p in paths.home.rglob("*") if p.is_file()]
    assert leftovers == []
    assert paths.files.is_dir()  # a fresh, empty home


def test_keeps_identity_and_config_on_request() -> None:
    _fill()
    paths = get_paths()
    assert main(["device", "factory-reset", "--yes", "--keep-identity", "--keep-config"]) == 0
    assert (paths.pki / "device.key").exists() and paths.config.exists()
    assert not paths.database.exists() and not (paths.files / "page.png").exists()
