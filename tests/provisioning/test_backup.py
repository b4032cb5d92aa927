"""Backup / restore: SQLite online backup, SHA-256 manifest, verify-before-replace, corrupt archives refused."""

from __future__ import annotations

import io
import json
import sqlite3
import tarfile
from pathlib import Path

import pytest

from provisioning.backup import create_backup, restore_backup, verify_backup
from service.cli.main import main
from service.domain.errors import InputError, IntegrityError, StoreError
from service.paths import Paths, get_paths


def _populate(paths: Paths, rows: int = 50) -> sqlite3.Connection:
    paths.ensure()
    con = sqlite3.connect(paths.database)
    con.execute("PRAGMA journal_mode=WAL")
    con.execute("CREATE TABLE doc (id INTEGER PRIMARY KEY, code TEXT)")
    con.executemany("INSERT INTO doc (code) VALUES (?)", [(f"H70-{i:04d}",) for i in range(rows)])
    con.commit()
    (paths.files / "ab").mkdir()
    (paths.files / "ab" / "abcdef.png").write_bytes(b"\x89PNG page bytes" * 100)
    (paths.pki / "device.key").write_bytes(b"KEY")
    paths.config.write_text("identity:\n  device_id: box-0001\n", encoding="utf-8")
    (paths.logs / "service.log").write_text("not backed up\n")
    return con


def _count(db: Path) -> int:
    con = sqlite3.connect(db)
    try:
        return int(con.execute("SELECT count(*) FROM doc").fetchone()[0])
    finally:
        con.close()


def test_backup_while_the_database_is_open_and_restore(tmp_path: Path) -> None:
    paths = get_paths()
    con = _populate(paths)
    con.execute("INSERT INTO doc (code) VALUES ('in-wal-only')")  # committed, still in the WAL
    con.commit()
    report = create_backup(paths, tmp_path)
    assert report.archive.parent == tmp_path and report.entries == 4
    with tarfile.open(report.archive) as tar:
        names = tar.getnames()
    assert names[0] == "manifest.json" and "logs/service.log" not in names

    # the box changes after the backup
    con.execute("DELETE FROM doc")
    con.commit()
    con.close()
    (paths.files / "ab" / "abcdef.png").unlink()
    paths.config.write_text("identity:\n  device_id: box-0002\n")

    verify_backup(report.archive)
    _, aside = restore_backup(paths, report.archive)
    assert _count(paths.database) == 51
    assert (paths.files / "ab" / "abcdef.png").read_bytes().startswith(b"\x89PNG")
    assert "box-0001" in paths.config.read_text()
    assert _count(aside / "sohoa.db") == 0  # the replaced state is kept aside
    assert not list(paths.home.glob(".restore-*"))


def _corrupt_copy(archive: Path, dest: Path) -> Path:
    data = bytearray(archive.read_bytes())
    data[len(data) // 2] ^= 0xFF
    dest.write_bytes(bytes(data))
    return dest


def _rewrite(archive: Path, dest: Path, edit: str) -> Path:
    """Rebuild the archive with one member changed but the old manifest (or an extra member)."""
    with tarfile.open(archive) as src, tarfile.open(dest, "w:gz") as out:
        for member in src:
            fobj = src.extractfile(member)
            data = fobj.read() if fobj else b""
            if edit == "tamper" and member.name == "config.yaml":
                data = data.replace(b"box-0001", b"box-6666")
            info = tarfile.TarInfo(member.name)
            info.size = len(data)
            out.addfile(info, io.BytesIO(data))
        if edit == "traversal":
            info = tarfile.TarInfo("../../etc/evil")
            info.size = 4
            out.addfile(info, io.BytesIO(b"evil"))
    return dest


@pytest.mark.parametrize("kind", ["bitflip", "tamper", "traversal", "truncated", "not-a-tar", "missing-member"])
def test_corrupt_archives_are_refused_and_nothing_changes(tmp_path: Path, kind: str) -> None:
    paths = get_paths()
    _populate(paths).close()
    archive = create_backup(paths, tmp_path / "b.tar.gz").archive
    bad = tmp_path / f"bad-{kind}.tar.gz"
    if kind == "bitflip":
        _corrupt_copy(archive, bad)
    elif kind in ("tamper", "traversal"):
        _rewrite(archive, bad, kind)
    elif kind == "truncated":
        bad.write_bytes(archive.read_bytes()[:-200])
    elif kind == "not-a-tar":
        bad.write_bytes(b"hello, not a backup")
    else:
        with tarfile.open(archive) as src, tarfile.open(bad, "w:gz") as out:
            for member in src:
                if member.name != "config.yaml":
                    out.addfile(member, src.extractfile(member))
    before = paths.config.read_text()
    with pytest.raises(IntegrityError, match="corrupt or not a sohoa backup") as info:
        restore_backup(paths, bad)
    assert "nothing was changed" in (info.value.remedy or "")
    assert paths.config.read_text() == before and _count(paths.database) == 50
    assert not (paths.home / ".pre-restore").exists()
    assert not (tmp_path.parent / "etc" / "evil").exists()


def test_backup_with_a_broken_database_inside_is_refused(tmp_path: Path) -> None:
    paths = get_paths()
    _populate(paths).close()
    paths.database.write_bytes(b"SQLite format 3\x00" + b"\x00" * 5000)  # a header and nothing valid
    with pytest.raises(StoreError, match="cannot read the database"):
        create_backup(paths, tmp_path / "x.tar.gz")
    assert not (tmp_path / "x.tar.gz").exists()


def test_missing_archive(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no such backup"):
        verify_backup(tmp_path / "none.tar.gz")


def test_cli_backup_verify_restore(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    paths = get_paths()
    _populate(paths).close()
    archive = tmp_path / "box.tar.gz"
    assert main(["device", "backup", str(archive)]) == 0
    assert main(["device", "backup", str(tmp_path / "new-folder") + "/"]) == 0
    assert len(list((tmp_path / "new-folder").glob("sohoa-backup-*.tar.gz"))) == 1
    assert main(["device", "verify-backup", str(archive)]) == 0
    assert main(["device", "restore", str(archive)]) == 2  # needs --yes
    assert main(["device", "restore", str(archive), "--yes"]) == 0
    bad = _corrupt_copy(archive, tmp_path / "bad.tar.gz")
    capsys.readouterr()
    assert main(["device", "verify-backup", str(bad)]) == 8
    assert "corrupt" in capsys.readouterr().err
    manifest = json.loads(tarfile.open(archive).extractfile("manifest.json").read())  # type: ignore[union-attr]
    assert {e["path"] for e in manifest["entries"]} == {"sohoa.db", "config.yaml", "files/ab/abcdef.png",
                                                        "pki/device.key"}


def test_archive_and_restored_key_are_private(tmp_path: Path) -> None:
    paths = get_paths()
    _populate(paths).close()
    archive = create_backup(paths, tmp_path / "b.tar.gz").archive
    assert archive.stat().st_mode & 0o077 == 0
    restore_backup(paths, archive)
    assert (paths.pki / "device.key").stat().st_mode & 0o077 == 0
    assert (paths.pki / "device.key").stat().st_uid == paths.home.stat().st_uid
