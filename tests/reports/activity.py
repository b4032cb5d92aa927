"""A month of KNOWN activity, built through the real use cases at the days it happened.

Each batch runs in its own process under libfaketime (``faketime`` package: the process's clock
says that day, nothing in the service is patched), so the store records real timestamps in
February, March and April 2027. ``python -m tests.reports.activity BATCH`` runs one batch; the
dossier codes travel between batches in ``$SOHOA_HOME/activity-ids.json``. What the report must
count for March 2027 is written out in ``tests/reports/test_report_month.py``.

Local time is +07:00; every batch runs at 02:00 UTC = 09:00 local, on the local day named.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import REPO

LIBFAKETIME = next(iter(sorted(Path("/usr/lib").glob("*/faketime/libfaketime.so.1"))),
                   Path("/usr/lib/faketime/libfaketime.so.1"))  # Debian: /usr/lib/<arch>/faketime/
MONTH = "2027-03"
OTHER = "000.00.70.H98"  # a second office (its dossier codes start with this unit code)
O1, O2 = "001099012345", "036195004321"
KET_HON, KHAI_SINH = "1.000894", "1.001193"  # return_days 3 and 1 (working days) in the bundled sample
#: batch name -> the fake UTC time it runs at
BATCHES: dict[str, str] = {
    "feb26": "2027-02-26 02:00:00",  # Friday, the previous month: must not count
    "mar01": "2027-03-01 02:00:00",  # Monday
    "mar02": "2027-03-02 02:00:00",
    "mar10": "2027-03-10 02:00:00",
    "apr01": "2027-04-01 02:00:00",  # the next month: must not count
}


def _paper(seed: int):  # type: ignore[no-untyped-def]
    from service.capture import RawPage
    from service.usecases.dossier import Paper
    from tests.spine.helpers import page_image

    return Paper(pages=(RawPage(page_image(seed=seed), "page 1"),), fields={}, declared_pages=1)


def _run(batch: str, home: Path) -> None:
    from service.config import load_config
    from service.paths import get_paths
    from service.signing import pool
    from service.usecases import dossier as d
    from service.usecases.dossier import reuse_paper

    ids_file = home / "activity-ids.json"
    ids: dict[str, str] = json.loads(ids_file.read_text()) if ids_file.exists() else {}
    paths = get_paths()
    cfg = load_config(paths.config)
    other = cfg.model_copy(update={"identity": cfg.identity.model_copy(update={"unit_code": OTHER})})
    pin = lambda: "123456"  # noqa: E731 (the development token's PIN)
    seed = [sum(map(ord, batch))]

    def comp(dossier: str, code: str, actor: str) -> None:
        seed[0] += 1
        d.attach_component(dossier, code, _paper(seed[0]), actor=actor)

    def result(dossier: str, actor: str) -> None:
        seed[0] += 1
        d.digitize_result(dossier, _paper(seed[0]), pin, actor=actor)

    try:
        if batch == "feb26":
            ids["X0"] = d.open_dossier(KET_HON, O1, actor="canbo-a").id
            comp(ids["X0"], "TK", "canbo-a")
            comp(ids["X0"], "XNTTHN", "canbo-a")
        elif batch == "mar01":
            ids["D1"] = d.open_dossier(KHAI_SINH, O1, actor="canbo-a").id
            comp(ids["D1"], "TK", "canbo-a")
            comp(ids["D1"], "GCS", "canbo-a")
            ids["D2"] = d.open_dossier(KHAI_SINH, O2, actor="canbo-a").id
            comp(ids["D2"], "TK", "canbo-a")
            d.request_papers(ids["D2"], "thiếu giấy chứng sinh", ("GCS",), actor="canbo-b")
            ids["D3"] = d.open_dossier(KET_HON, O1, actor="canbo-b", config=other).id
            from service.store import Store
            with Store.open(paths) as store:
                xn = next(store.get(i).result_code for i, kind, code in store.dossier_documents(ids["X0"])
                          if code == "XNTTHN")
            reuse_paper(ids["D3"], "XNTTHN", xn, actor="canbo-b")
            comp(ids["D3"], "TK", "canbo-b")
            result(ids["D1"], "canbo-a")
        elif batch == "mar02":
            d.return_dossier(ids["D1"], actor="canbo-a")  # due 02/03 (1 working day): on time
            result(ids["X0"], "canbo-b")
            d.return_dossier(ids["X0"], actor="canbo-b")  # received 26/02, due 03/03: on time
            result(ids["D3"], "canbo-b")
        elif batch == "mar10":
            d.return_dossier(ids["D3"], actor="canbo-b")  # received 01/03, due 04/03: late
            d.refuse(ids["D2"], "không bổ sung đủ giấy tờ", actor="canbo-a")
        elif batch == "apr01":
            ids["D4"] = d.open_dossier(KHAI_SINH, O2, actor="canbo-a").id
            comp(ids["D4"], "TK", "canbo-a")
        else:
            raise SystemExit(f"unknown batch {batch}")
    finally:
        pool.close_all()
    ids_file.write_text(json.dumps(ids))


def run_batch(batch: str, home: Path) -> None:
    """Run one batch in a child process whose clock says ``BATCHES[batch]``."""
    assert LIBFAKETIME.exists(), "install the Debian package 'faketime' (provisioning/system/apt-packages.txt)"
    env = {**os.environ, "SOHOA_HOME": str(home), "TZ": "UTC", "LD_PRELOAD": str(LIBFAKETIME),
           "FAKETIME": "@" + BATCHES[batch], "FAKETIME_DONT_FAKE_MONOTONIC": "1", "PYTHONPATH": str(REPO)}
    proc = subprocess.run([sys.executable, "-m", "tests.reports.activity", batch], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def build_known_activity(home: Path) -> dict[str, str]:
    """Every batch in order (development token first); returns the dossier codes by name."""
    from provisioning.devtoken import ensure_dev_token
    from service.paths import get_paths

    ensure_dev_token(get_paths(home))
    for batch in BATCHES:
        run_batch(batch, home)
    ids: dict[str, str] = json.loads((home / "activity-ids.json").read_text())
    return ids


if __name__ == "__main__":
    _run(sys.argv[1], Path(os.environ["SOHOA_HOME"]))
