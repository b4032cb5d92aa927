"""Disk full at any step of ``sohoa digitize`` (files, WAL, commit): exit 8 "disk full", no traceback,
no advice to restore a backup, and the store intact afterwards. Runs on a small real tmpfs."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from service.cli.main import main
from service.paths import get_paths
from service.store import Store

from .conftest import DOC_TYPE, OWNER, page_image


@pytest.fixture
def small_disk(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A 4 MiB tmpfs holding SOHOA_HOME (unmounted afterwards)."""
    assert os.geteuid() == 0, "mounting a tmpfs needs root (make test runs as root, as CI does)"
    mnt = tmp_path / "small"
    mnt.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m,mode=0700", "tmpfs", str(mnt)], check=True)
    try:
        home = mnt / "home"
        home.mkdir()
        monkeypatch.setenv("SOHOA_HOME", str(home))
        yield home
    finally:
        subprocess.run(["umount", "-l", str(mnt)], check=False)


def _fill(mnt: Path, leave: int) -> Path:
    filler = mnt / "filler"
    st = os.statvfs(mnt)
    size = max(0, st.f_bavail * st.f_frsize - leave)
    with open(filler, "ab") as fh:
        try:
            fh.write(b"\0" * size)
        except OSError:
            pass
    return filler


def test_disk_full_at_every_step_is_exit_8_and_loses_nothing(small_disk: Path, tmp_path: Path,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    pages = []
    for i in range(2):
        p = tmp_path / f"p{i}.png"
        p.write_bytes(page_image("PNG", seed=i))
        pages.append(str(p))
    args = ["digitize", *pages, "--owner", OWNER, "--doc-type", DOC_TYPE, "--no-ocr"]
    assert main(args) == 0
    stored, full, steps = 1, 0, set()
    for leave in (0, 4096, 16_384, 40_960, 65_536, 81_920, 98_304, 131_072, 163_840, 262_144):
        filler = _fill(small_disk.parent, leave)
        capsys.readouterr()
        code = main(args)
        err = capsys.readouterr().err
        assert "Traceback" not in err and "cannot rollback" not in err
        if code == 0:
            stored += 1
        else:
            full += 1
            assert code == 8 and "disk full" in err, err
            steps.add(err.splitlines()[0].partition(": error: ")[2].partition(":")[0])
            assert "restore" not in err.lower()
        # with the disk still full, checking the store passes or says "disk full", never "restore a backup"
        verify = main(["audit", "verify"])
        out = capsys.readouterr()
        assert verify == 0 or (verify == 8 and "disk full" in out.err), out.err
        assert "restore" not in out.err.lower() and "Traceback" not in out.err
        filler.unlink()
        assert main(["audit", "verify"]) == 0, capsys.readouterr().err
    # the loop really hit a full disk at opening, at the file writes and at the commit
    assert {"the change could not be saved", "cannot write to the file store"} <= steps, steps
    assert full >= 3
    with Store.open(get_paths(small_disk)) as store:
        assert len(store.list_documents()) == stored
        assert store.verify().ok
