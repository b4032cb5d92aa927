"""End-to-end throughput: pages per minute through capture → QC → OCR → extraction → PDF/A →
officer signature (SoftHSM2 development token) → outbox, on 2 cores, against a 60 pages/min ADF.

Two worker processes (one per core, onnxruntime and OpenMP at one thread each) share one
SOHOA_HOME (one SQLite store, one token store), each digitizing its half of the documents one
after another, as two desk stations' pipelines would on one appliance. Pages are held-out pages
(service.synth.heldout, ``tune`` slice; clean and scanner) saved as 300 dpi JPEG q90, 2 pages per
document. The wall time runs from the first page handed to a worker to the last signed document
queued; each worker's one-time model load and warm-up is before it and reported apart.

CPU time per stage (the machine may be shared: wall time is noisy, CPU time is not) is read at
the spine's named hook points (:mod:`service.hooks`): capture + quality control → ``quality_checked``
→ OCR → ``text_read`` → extraction → ``captured`` → PDF/A → ``pdf_built`` → store and queue → end of
``digitize``; the officer signature is timed apart.

It runs twice on the same pages, each in a fresh home: with the shipped OCR settings (the cascade)
and with AsterNet int8 alone, the previous default (``bench.ocr.ENGINES["int8"]``, written to that
home's ``config.yaml``).

    python -m bench e2e --quick    # 4 documents (8 pages)
    python -m bench e2e            # 12 documents (24 pages)
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ADF_PAGES_PER_MIN = 60
DOC_TYPE = "KQ.G15.000031"
WORKERS = 2
#: (column, hook point that ends the stage); the stage starts where the previous one ended
STAGES = (("capture+QC", "quality_checked"), ("OCR", "text_read"), ("extraction", "captured"),
          ("PDF/A", "pdf_built"), ("store+queue", None))


def _pages(folder: Path, n: int) -> list[Path]:
    from bench.ocr_pages import heldout_pages

    cache = folder / "render"
    pages = heldout_pages(cache, "tune", (n + 1) // 2, ("clean", "scanner"))[:n]
    out = []
    for i, p in enumerate(pages):
        from PIL import Image

        dst = folder / "in" / f"{i:03d}.jpg"
        dst.parent.mkdir(exist_ok=True)
        with Image.open(p.path) as img:
            img.convert("RGB").save(dst, "JPEG", quality=90, dpi=(300, 300))
        out.append(dst)
    return out


def _worker(home: str, docs: list[list[str]]) -> int:
    """Digitize and sign ``docs`` (lists of page files) one after another; one JSON line each."""
    os.environ["SOHOA_HOME"] = home
    from provisioning.devtoken import DEV_PIN
    from service import hooks
    from service.capture import FileCamera, capture_all
    from service.config import load_config
    from service.domain.fields import ART9_FIELDS, FieldSource, FieldValue
    from service.ocr.engine import get_engine
    from service.paths import get_paths
    from service.signing.signer import SignatureRole
    from service.store import Store
    from service.usecases.digitize import DigitizeRequest, digitize
    from service.usecases.sign import sign_document

    paths = get_paths()
    config = load_config(paths.config)
    marks: dict[str, float] = {}

    def mark(name: str) -> None:  # CPU time when the spine first reaches each named point
        marks.setdefault(name, time.process_time())

    hooks.HOOKS.append(mark)
    t0 = time.perf_counter()
    get_engine(config.ocr)  # model load + warm-up, once per process as in the service
    print(json.dumps({"load_s": time.perf_counter() - t0}), flush=True)
    fields = {"document_name": FieldValue("Quyết định", FieldSource.MANUAL)}
    for files in docs:
        marks.clear()
        c0, t0 = time.process_time(), time.perf_counter()
        raws = tuple(capture_all(FileCamera([Path(f) for f in files]), len(files)))
        result = digitize(DigitizeRequest(pages=raws, document_type_code=DOC_TYPE, owner_id="001099012345",
                                          fields=fields, extract_fields=True), paths=paths, config=config)
        t1, c1 = time.perf_counter(), time.process_time()
        sign_document(result.result_code, SignatureRole.OFFICER, lambda: DEV_PIN, paths=paths, config=config)
        t2 = time.perf_counter()
        stages, start = {}, c0
        for column, point in STAGES:
            end = c1 if point is None else marks.get(point, start)
            stages[column], start = end - start, end
        stages["officer sign"] = time.process_time() - c1
        with Store.open(paths, config.store) as store:
            outbox = store.outbox_for(result.document_id)
        state = outbox[-1].state.value if outbox else "none"
        print(json.dumps({"pages": result.pages, "digitize_s": t1 - t0, "sign_s": t2 - t1, "end": time.time(),
                          "cpu_s": time.process_time() - c0, "outbox": state, "stages": stages,
                          "extracted": [n for n in ART9_FIELDS if (v := result.document.metadata.get(n)) is not None
                                        and v.source is FieldSource.OCR]}), flush=True)
    return 0


def run(quick: bool) -> str:
    """The table for the shipped OCR settings and for AsterNet int8 alone, measured in the same run."""
    from bench.ocr import ENGINES, cpu_line

    n_docs = 4 if quick else 12
    with tempfile.TemporaryDirectory(prefix="bench-e2e-pages-") as tmp:
        files = _pages(Path(tmp), 2 * n_docs)
        docs = [[str(files[2 * i]), str(files[2 * i + 1])] for i in range(n_docs)]
        tables = [_run_one(docs, label, ENGINES[key][1] or {})
                  for key, label in (("cascade", "shipped OCR (fast CTC → AsterNet int8 cascade)"),
                                     ("int8", "AsterNet int8 alone (the previous default)"))]
    # pages/min depend on the CPU, and the cascade's fallback on its int8 dot products
    return "\n\n".join([*tables, cpu_line()])


def _run_one(docs: list[list[str]], label: str, ocr: dict[str, object]) -> str:
    """Run the two workers over ``docs`` with ``ocr`` settings in a fresh home; returns the table."""
    from provisioning.devtoken import ensure_dev_token
    from service.paths import get_paths

    with tempfile.TemporaryDirectory(prefix="bench-e2e-") as tmp:
        root = Path(tmp)
        home = root / "home"
        paths = get_paths(home)
        ensure_dev_token(paths)
        if ocr:
            paths.config.write_text(json.dumps({"ocr": ocr}), encoding="utf-8")  # JSON is YAML
        env = dict(os.environ, OMP_THREAD_LIMIT="1", OMP_NUM_THREADS="1", SOHOA_HOME=str(home))
        procs = [subprocess.Popen([sys.executable, "-m", "bench.e2e", "--worker", str(home),
                                   json.dumps(docs[w::WORKERS])], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                  text=True, env=env) for w in range(WORKERS)]
        rows: list[dict[str, Any]] = []
        loads, starts = [], []
        for proc in procs:  # the workers start together; read their first line (model loaded)
            assert proc.stdout is not None
            first = json.loads(proc.stdout.readline() or "{}")
            loads.append(float(first.get("load_s", 0.0)))
            starts.append(time.time())
        begin = min(starts)
        for proc in procs:
            out, err = proc.communicate(timeout=1800)
            if proc.returncode != 0:
                raise RuntimeError(f"e2e worker failed: {err.strip()[-1500:]}")
            rows.extend(json.loads(line) for line in out.splitlines() if line.strip())
    pages = sum(int(r["pages"]) for r in rows)
    wall = max(float(r["end"]) for r in rows) - begin
    per_min = 60 * pages / wall
    dig = sum(float(r["digitize_s"]) for r in rows) / pages
    sig = sum(float(r["sign_s"]) for r in rows) / len(rows)
    cpu = sum(float(r["cpu_s"]) for r in rows) / pages
    queued = sum(r["outbox"] == "queued" for r in rows)
    filled = sum(len(r["extracted"]) for r in rows) / len(rows)
    columns = [c for c, _ in STAGES] + ["officer sign"]
    per_stage = {c: sum(float(r["stages"][c]) for r in rows) / pages for c in columns}
    return "\n".join([
        f"end-to-end, {label}: {len(rows)} documents / {pages} pages (A4 300 dpi JPEG, held-out tune pages), "
        f"{WORKERS} workers on {os.cpu_count()} CPUs, 1 thread each",
        "| pages/min | ADF target | wall s | digitize s/page (capture+QC+OCR+extract+PDF/A+store) | "
        "officer sign s/doc | CPU s/page | queued | OCR fields/doc | model load s/worker |",
        "|---|---|---|---|---|---|---|---|---|",
        f"| {per_min:.1f} | {ADF_PAGES_PER_MIN} | {wall:.1f} | {dig:.2f} | {sig:.2f} | {cpu:.2f} | "
        f"{queued}/{len(rows)} | {filled:.1f} | {max(loads):.1f} |",
        "",
        "CPU s/page by stage (both workers; sign is per page of its document):",
        "| " + " | ".join(columns) + " | total |",
        "|" + "---|" * (len(columns) + 1),
        "| " + " | ".join(f"{per_stage[c]:.3f}" for c in columns) + f" | {sum(per_stage.values()):.3f} |",
    ])


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--worker":
        sys.exit(_worker(sys.argv[2], json.loads(sys.argv[3])))
    print(run(quick="--full" not in sys.argv))
