"""Power-cut rig: ``digitize`` → ``sign`` on a disk that loses every write not yet fsynced at the cut.

``python -m bench powercut`` (``--quick``: 50 cuts; default 1,000). The service home lives on
:mod:`bench._lazyfs`, a FUSE layer that keeps unsynced file data in memory, in the manner of
LazyFS. A worker (forked from a parent that has the service imported) loops digitize → sign and
reports each result the user was given (the code after ``digitize``, the signed PDF after
``sign``). At a random moment the layer drops every unsynced byte and refuses further writes —
the power cut — and the worker is killed. The state left on the backing folder is then opened the
way the box would after a reboot and checked:

* **corrupt**: the SQLite database fails to open or ``PRAGMA integrity_check``;
* **half-present**: a document whose rows exist without its files (or the reverse of an outbox row);
* **audit**: ``sohoa audit verify`` (chain, bound rows, signed checkpoint) reports a problem;
* **lost**: a result the worker had reported to the user is not in the store.

Every 50 cuts the rig starts from a fresh home, so one lane's store stays small. Sync is not
part of the loop (its outbox rows are checked: every stored PDF version is queued). The
development SoftHSM token lives outside the lossy layer (a card is not on the box's disk).
"""

from __future__ import annotations

import io
import os
import random
import select
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

OWNER = "001099012345"  # synthetic CCCD
DEV_PIN = "123456"
LANE_CUTS = 50


@dataclass
class Tally:
    """What the rig found over all cuts."""

    cuts: int = 0
    corrupt: int = 0
    half_present: int = 0
    lost: int = 0
    audit_failures: int = 0
    docs_acked: int = 0
    signs_acked: int = 0
    dropped_bytes: int = 0
    orphans: int = 0
    seconds: float = 0.0
    problems: list[str] = field(default_factory=list)

    @property
    def clean(self) -> bool:
        """No corruption, nothing half-present or lost, the audit verifies."""
        return not (self.corrupt or self.half_present or self.lost or self.audit_failures)

    def table(self) -> str:
        """The printed result."""
        head = "| cuts | corrupt DBs | half-present docs | lost (acknowledged) | audit failures | docs acked | " \
               "signatures acked | unsynced bytes dropped | orphan files | s/cut |"
        row = (f"| {self.cuts} | {self.corrupt} | {self.half_present} | {self.lost} | {self.audit_failures} | "
               f"{self.docs_acked} | {self.signs_acked} | {self.dropped_bytes} | {self.orphans} | "
               f"{self.seconds / max(1, self.cuts):.2f} |")
        out = "\n".join([head, "|" + "---|" * 10, row])
        if self.problems:
            out += "\nfirst problems:\n" + "\n".join(f"- {p}" for p in self.problems[:10])
        return out


def _pages(n: int) -> list[bytes]:
    from PIL import Image, ImageDraw

    out = []
    for seed in range(n):
        img = Image.new("RGB", (620, 877), (252, 252, 250))
        d = ImageDraw.Draw(img)
        d.rectangle((40, 30, 580, 60), fill=(200, 30, 30))
        for i in range(12):
            y = 90 + i * 40 + seed % 7
            d.rectangle((50, y, 560 - (i * 13 + seed * 17) % 150, y + 12), fill=(20, 20, 20))
        buf = io.BytesIO()
        img.save(buf, "PNG", dpi=(300, 300))
        out.append(buf.getvalue())
    return out


def _template(work: Path) -> Path:
    """A service home with a device identity, the lossless token link and a bench configuration."""
    from provisioning.identity import create_identity
    from service.paths import Paths

    tokens_home = work / "token-home"
    env = {**os.environ, "SOHOA_HOME": str(tokens_home)}
    subprocess.run([sys.executable, "-m", "service.cli.main", "token", "init-dev"], env=env, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    home = work / "template"
    paths = Paths(home)
    paths.ensure()
    shutil.rmtree(paths.tokens)
    os.symlink(tokens_home / "tokens", paths.tokens)
    for f in (tokens_home / "pki").iterdir():
        shutil.copy2(f, paths.pki / f.name)
    create_identity(paths, "dev-box-0001", "70", "UBND xã Thử Nghiệm")
    paths.config.write_text("pdf:\n  qpdf_check: false\n", encoding="utf-8")
    return home


def _worker(home: Path, tag: str, pages: list[bytes], ack_fd: int) -> None:
    """Digitize → sign forever, reporting each result the user is given (runs in the forked child)."""
    from service.capture import RawPage
    from service.config import load_config
    from service.paths import Paths
    from service.signing.signer import SignatureRole
    from service.usecases.digitize import DigitizeRequest, digitize
    from service.usecases.sign import sign_document

    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    os.dup2(devnull, 2)
    os.environ["SOHOA_HOME"] = str(home)
    paths = Paths(home)
    cfg = load_config(paths.config)
    n = 0
    while True:
        n += 1
        a, b = (2 * n) % len(pages), (2 * n + 1) % len(pages)
        req = DigitizeRequest(pages=(RawPage(pages[a], "p1"), RawPage(pages[b], "p2")),
                              document_type_code=f"KQ.G15.{tag}{n:02d}", owner_id=OWNER)
        res = digitize(req, paths=paths, config=cfg)
        os.write(ack_fd, f"D {res.result_code}\n".encode())
        out = sign_document(res.result_code, SignatureRole.OFFICER, lambda: DEV_PIN, paths=paths, config=cfg)
        os.write(ack_fd, f"S {res.result_code} {out.pdf_sha256}\n".encode())


def _readline(stream: IO[str], timeout: float) -> str:
    ready, _, _ = select.select([stream], [], [], timeout)
    return stream.readline() if ready else ""


_HALF = ("file missing", "image missing", "not in the outbox", "altered", "whole document was deleted")


def _check(home: Path, docs: set[str], signs: dict[str, str], tally: Tally, cut: int) -> None:
    """Reopen the state a power cut left and count what is wrong with it."""
    from service.domain.errors import SohoaError
    from service.paths import Paths
    from service.store import DocumentState, Store

    db = home / "sohoa.db"
    try:
        conn = sqlite3.connect(db)
        ok = conn.execute("PRAGMA integrity_check").fetchone()[0]
        conn.close()
    except sqlite3.DatabaseError as exc:
        ok = str(exc)
    if ok != "ok":
        tally.corrupt += 1
        tally.problems.append(f"cut {cut}: database: {ok}")
        return
    try:
        with Store.open(Paths(home)) as store:
            report = store.verify()
            for code in sorted(docs):
                try:
                    doc = store.get(code)
                except SohoaError:
                    tally.lost += 1
                    tally.problems.append(f"cut {cut}: acknowledged document {code} is gone")
                    continue
                if code in signs and (doc.state is not DocumentState.SIGNED or doc.pdf_sha256 != signs[code]):
                    tally.lost += 1
                    tally.problems.append(f"cut {cut}: acknowledged signature of {code} is gone")
    except SohoaError as exc:
        tally.corrupt += 1
        tally.problems.append(f"cut {cut}: store does not open: {exc.message}")
        return
    half = [p for p in report.problems if any(w in p for w in _HALF)]
    tally.half_present += len(half)
    if len(half) != len(report.problems):
        tally.audit_failures += 1
    tally.orphans = max(tally.orphans, len(report.orphans))
    tally.problems.extend(f"cut {cut}: {p}" for p in report.problems[:3])


class _Layer:
    """The lossy filesystem process of one lane (mounted again after every cut)."""

    def __init__(self, backing: Path, mnt: Path) -> None:
        self.mnt = mnt
        self.proc = subprocess.Popen([sys.executable, "-m", "bench._lazyfs", str(backing), str(mnt)],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                     text=True)

    def _say(self, word: str, expect: str, timeout: float = 30.0) -> list[str]:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write(word + "\n")
        self.proc.stdin.flush()
        answer = _readline(self.proc.stdout, timeout).split()
        if answer[:1] != [expect]:
            raise RuntimeError(f"the lossy filesystem did not answer {expect!r} to {word!r} "
                               "(is /dev/fuse usable and fuse3 installed?)")
        return answer

    def mount(self) -> None:
        """Power on: mount with an empty cache."""
        self._say("mount", "ready")

    def cut(self) -> int:
        """The power cut; returns the unsynced bytes dropped."""
        return int(self._say("cut", "cut-done")[1])

    def unmount(self) -> None:
        """After the cut: unmount (kernel write-backs are refused by the frozen layer)."""
        subprocess.run(["fusermount3", "-u", str(self.mnt)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                       check=False)
        assert self.proc.stdout is not None
        _readline(self.proc.stdout, 30)

    def close(self) -> None:
        """End the layer's process."""
        subprocess.run(["fusermount3", "-u", "-z", str(self.mnt)], stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL, check=False)
        try:
            if self.proc.stdin is not None:
                self.proc.stdin.write("quit\n")
                self.proc.stdin.close()
            self.proc.wait(timeout=30)
        except (OSError, subprocess.TimeoutExpired):
            self.proc.kill()
            self.proc.wait()


def _one_cut(layer: _Layer, backing: Path, tag: str, pages: list[bytes], delay: float,
             docs: set[str], signs: dict[str, str], tally: Tally) -> None:
    layer.mount()
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:  # the worker
        os.close(r)
        try:
            _worker(layer.mnt / "home", tag, pages, w)
        finally:
            os._exit(0)
    os.close(w)
    try:
        time.sleep(delay)
        tally.dropped_bytes += layer.cut()
    finally:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        layer.unmount()
    data = b""
    while chunk := os.read(r, 65536):
        data += chunk
    os.close(r)
    for line in data.decode().splitlines():
        parts = line.split()
        if parts[:1] == ["D"]:
            docs.add(parts[1])
            tally.docs_acked += 1
        elif parts[:1] == ["S"] and len(parts) == 3:
            signs[parts[1]] = parts[2]
            tally.signs_acked += 1
    tally.cuts += 1
    _check(backing / "home", docs, signs, tally, tally.cuts)


def rig(cuts: int, *, seed: int = 16, max_delay_s: float = 1.0, lane_cuts: int = LANE_CUTS) -> Tally:
    """Run ``cuts`` power cuts (a fresh home every ``lane_cuts``); cut moments uniform in 0..max_delay_s."""
    import service.usecases.digitize  # noqa: F401  - imported once here, shared by every forked worker
    import service.usecases.sign  # noqa: F401

    rnd = random.Random(seed)
    pages = _pages(8)
    tally = Tally()
    started = time.monotonic()
    work = Path(tempfile.mkdtemp(prefix="sohoa-powercut-"))
    try:
        template = _template(work)
        lane = 0
        while tally.cuts < cuts:
            backing, mnt = work / f"lane-{lane}", work / f"mnt-{lane}"
            mnt.mkdir()
            backing.mkdir()
            shutil.copytree(template, backing / "home", symlinks=True)
            docs: set[str] = set()
            signs: dict[str, str] = {}
            layer = _Layer(backing, mnt)
            try:
                for i in range(min(lane_cuts, cuts - tally.cuts)):
                    _one_cut(layer, backing, f"{lane:03d}{i:03d}", pages, rnd.uniform(0.0, max_delay_s), docs,
                             signs, tally)
            finally:
                layer.close()
            shutil.rmtree(backing, ignore_errors=True)
            lane += 1
    finally:
        subprocess.run(["fusermount3", "-u", "-z", *map(str, work.glob("mnt-*"))], stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL, check=False)
        shutil.rmtree(work, ignore_errors=True)
    tally.seconds = time.monotonic() - started
    return tally


def run(quick: bool) -> str:
    """The benchmark entry: 50 cuts with ``--quick``, else 1,000."""
    return rig(50 if quick else 1000).table()
