"""SIGKILL in the middle of ``sohoa digitize``: the document is fully there or absent, audit verifies.

The crash point is chosen from the test side: the plugin ``tests/support/crashpoint.py`` is installed
in the real process through ``service.hooks`` (``SOHOA_PLUGINS``); it pauses at the named stage and
the test kills the process with SIGKILL there.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from service.paths import get_paths
from service.store import Store
from tests.support import crashpoint

from .helpers import DOC_TYPE, OWNER, store_rows

SOHOA = [sys.executable, "-m", "service"]


def sohoa(home: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*SOHOA, *args], capture_output=True, text=True, timeout=120,
                          env={**os.environ, "SOHOA_HOME": str(home), **(env or {})})


def kill_at(stage: str, home: Path, images: list[Path]) -> str:
    env = {**os.environ, "SOHOA_HOME": str(home), **crashpoint.env(stage, delay_s=120)}
    proc = subprocess.Popen([*SOHOA, "digitize", *map(str, images), "--owner", OWNER, "--doc-type", DOC_TYPE],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    assert proc.stderr is not None
    deadline = time.monotonic() + 90
    seen = []
    try:
        while time.monotonic() < deadline:
            line = proc.stderr.readline()
            if not line:
                break
            seen.append(line)
            if line.strip() == f"sohoa: fault-point {stage}":
                proc.send_signal(signal.SIGKILL)
                break
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == -signal.SIGKILL, "".join(seen)
    return "".join(seen)


@pytest.mark.slow
@pytest.mark.parametrize("stage", list(crashpoint.STAGES))
def test_sigkill_leaves_document_fully_present_or_absent(stage: str, tmp_path: Path,
                                                         write_page: Callable[..., Path]) -> None:
    home = tmp_path / "home"
    images = [write_page(seed=1), write_page(seed=2), write_page(seed=3)]
    log = kill_at(stage, home, images)
    assert OWNER not in log  # no personal data in logs

    rows = store_rows(home)
    if stage == "committed":
        assert rows["documents"] == 1 and rows["pages"] == 3 and rows["outbox"] == 1 and rows["audit"] == 1
    else:
        assert not any(rows.values()), rows
    if rows:
        with Store.open(get_paths(home)) as store:
            report = store.verify()
            assert report.ok, report.problems
            if rows["documents"]:
                doc = store.list_documents()[0]
                assert len(doc.pages) == 3 and store.outbox_for(doc.id)[0].pdf_sha256 == doc.pdf_sha256

    verify = sohoa(home, "audit", "verify")
    assert verify.returncode == 0, verify.stderr

    again = sohoa(home, "digitize", *map(str, images), "--owner", OWNER, "--doc-type", DOC_TYPE, "--json")
    assert again.returncode == 0, again.stderr
    expected = f"{OWNER}.{DOC_TYPE}" + (".02" if stage == "committed" else "")
    assert f'"result_code": "{expected}"' in again.stdout
    assert sohoa(home, "audit", "verify").returncode == 0
