"""OCR benchmark: our engine and Tesseract 5 ``vie`` side by side on rendered administrative pages.

Pages come from ../shared/data/vi_legal_corpus.jsonl (packaged samples if it is missing), rendered
by service.synth at 300/200 dpi in three fonts, under clean / scanner / phone conditions. Each
engine runs in its own subprocess with one thread (onnxruntime intra_op=1, OMP_THREAD_LIMIT=1), so
its peak RSS is its own. Page CER uses order-free line matching (service.ocr.metrics).

    python -m bench.ocr          # quick (~2-3 min)
    python -m bench.ocr --full   # more pages
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from service.ocr.metrics import match_lines, normalize

REPO = Path(__file__).resolve().parents[1]
CORPUS = REPO.parent / "shared" / "data" / "vi_legal_corpus.jsonl"
CONDITIONS = ("clean", "scanner", "phone")
FONTS = ("liberation", "dejavu", "noto")
# GNU time (apt "time") reports the child's own peak RSS; without it the column reads 0
TIME = ["/usr/bin/time", "-f", "MAXRSS_KB %M"] if Path("/usr/bin/time").exists() else []


@dataclass
class Page:
    path: Path
    condition: str
    truth: list[str]
    number: str | None
    date: str | None


@dataclass
class Result:
    texts: list[list[str]] = field(default_factory=list)
    wall: float = 0.0
    cpu: float = 0.0
    rss_mb: float = 0.0
    error: str = ""


def _documents(count: int) -> list:
    from service.synth.samples import corpus_documents, sample_documents

    docs = corpus_documents(CORPUS, limit=count, max_chars=2600) if CORPUS.is_file() else []
    docs = [d for d in docs if d.number_symbol and len(d.body) >= 3]
    return docs or [d for d in sample_documents() if d.kind == "document"]


def render_pages(folder: Path, per_condition: int) -> list[Page]:
    """Render ``per_condition`` first pages per condition (dpi, font and seed vary by index)."""
    from service.synth.render import render_document

    docs = _documents(per_condition + 2)
    pages: list[Page] = []
    for condition in CONDITIONS:
        for i in range(per_condition):
            doc = docs[i % len(docs)]
            dpi, font = (300, 200)[i % 2], FONTS[i % 3]
            rendered = render_document(doc, dpi=dpi, font=font, condition=condition, seed=i)[0]
            path = folder / f"{condition}-{i:02d}.png"
            rendered.image.save(path)
            num, date = rendered.line_with_role("number"), rendered.line_with_role("date")
            pages.append(Page(path, condition, [ln.text for ln in rendered.lines],
                              num.text if num else None, date.text if date else None))
    return pages


def _child_env() -> dict[str, str]:
    env = dict(os.environ)
    env.update({"OMP_THREAD_LIMIT": "1", "OMP_NUM_THREADS": "1", "PYTHONDONTWRITEBYTECODE": "1"})
    return env


def _measured(cmd: list[str]) -> tuple[str, str, float, float, float]:
    """Run ``cmd``; stdout, stderr, wall seconds, CPU seconds and peak RSS (MB) of that child alone."""
    started = time.perf_counter()
    with tempfile.TemporaryFile("w+", encoding="utf-8") as errf:
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=errf, text=True, env=_child_env())
        assert proc.stdout is not None
        out = proc.stdout.read()
        _, _, usage = os.wait4(proc.pid, 0)
        proc.returncode = 0
        wall = time.perf_counter() - started
        errf.seek(0)
        err = errf.read()
    return out, err, wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024


def run_ours(pages: list[Page], source: str, recognizer: str) -> Result:
    cmd = [sys.executable, "-m", "bench.ocr", "--worker", source, recognizer, *[str(p.path) for p in pages]]
    out, err, _, _, _ = _measured(cmd)
    res = Result()
    for line in out.splitlines():
        row = json.loads(line)
        if "rss_mb" in row:  # the worker's own high-water mark (a forked child inherits ours)
            res.rss_mb = row["rss_mb"]
        if "file" not in row:
            continue
        res.texts.append(row["lines"])
        res.wall += row["seconds"]
        res.cpu += row["cpu"]
    if len(res.texts) != len(pages):
        res.error = err.strip().splitlines()[-1] if err.strip() else "worker failed"
    return res


def run_tesseract(pages: list[Page]) -> Result:
    res = Result()
    for p in pages:
        out, err, wall, cpu, _ = _measured([*TIME, "tesseract", str(p.path), "-",
                                            "-l", "vie"])
        rss = next((int(ln.split()[1]) / 1024 for ln in err.splitlines() if ln.startswith("MAXRSS_KB")), 0.0)
        res.texts.append([ln for ln in out.splitlines() if ln.strip()])
        res.wall += wall
        res.cpu += cpu
        res.rss_mb = max(res.rss_mb, rss)
    return res


def _worker(source: str, recognizer: str, files: list[str]) -> int:
    from service.ocr.config import OcrConfig
    from service.ocr.engine import get_engine

    t0 = time.perf_counter()
    # the default (int8) runs with the shipped squeeze; the fp32 original unsqueezed, as its accuracy reference
    config = OcrConfig(threads=1, recognizer=recognizer) if recognizer.endswith("int8") else \
        OcrConfig(threads=1, recognizer=recognizer, rec_squeeze=1.0, rec_short_squeeze=1.0)
    engine = get_engine(config)
    print(json.dumps({"load": time.perf_counter() - t0}), flush=True)
    for name in files:
        c0, t0 = time.process_time(), time.perf_counter()
        page = engine.read_file(name, source="camera" if source == "phone" else "scanner")[0]
        print(json.dumps({"file": name, "seconds": time.perf_counter() - t0, "cpu": time.process_time() - c0,
                          "lines": [ln.text for ln in page.lines]}, ensure_ascii=False), flush=True)
    status = Path("/proc/self/status").read_text()
    hwm = next(int(ln.split()[1]) for ln in status.splitlines() if ln.startswith("VmHWM:"))
    print(json.dumps({"rss_mb": hwm / 1024}), flush=True)
    return 0


def _score(pages: list[Page], res: Result) -> dict[str, float]:
    gt_chars = errors = m_chars = m_errors = 0
    num_ok = num_n = date_ok = date_n = 0
    for page, texts in zip(pages, res.texts, strict=False):
        s = match_lines(page.truth, texts)
        gt_chars, errors = gt_chars + s.gt_chars, errors + s.page_errors
        m_chars, m_errors = m_chars + s.matched_chars, m_errors + s.matched_errors
        got = {normalize(t) for t in texts}
        if page.number:
            num_n += 1
            num_ok += normalize(page.number) in got
        if page.date:
            date_n += 1
            date_ok += normalize(page.date) in got
    n = max(1, len(res.texts))
    return {"page_cer": 100 * errors / max(1, gt_chars), "line_cer": 100 * m_errors / max(1, m_chars),
            "num": 100 * num_ok / max(1, num_n), "date": 100 * date_ok / max(1, date_n),
            "wall": res.wall / n, "cpu": res.cpu / n, "rss": res.rss_mb}


def run(quick: bool) -> str:
    """Render pages, run both engines per condition, return the printed table."""
    per_condition = 3 if quick else 8
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench-ocr-") as tmp:
        pages = render_pages(Path(tmp), per_condition)
        for condition in CONDITIONS:
            subset = [p for p in pages if p.condition == condition]
            engines = [("sohoa DBNet + AsterNet int8", "rec-asternet-int8")]
            if not quick:  # the accuracy check of the quantization: the float32 original, same pages
                engines.append(("sohoa DBNet + AsterNet fp32", "rec-asternet"))
            engines.append(("tesseract 5 vie", ""))
            for name, recognizer in engines:
                res = run_ours(subset, condition, recognizer) if recognizer else run_tesseract(subset)
                sc = _score(subset, res)
                rows.append(f"| {condition} | {name} | {len(subset)} | {sc['page_cer']:.2f} | {sc['line_cer']:.2f} | "
                            f"{sc['num']:.0f} | {sc['date']:.0f} | {sc['wall']:.2f} | {sc['cpu']:.2f} | "
                            f"{sc['rss']:.0f} |" + (f" {res.error}" if res.error else ""))
    head = ("| condition | engine | pages | page CER % | line CER % | Số exact % | date exact % | s/page | "
            "CPU s/page | peak RSS MB |\n|---|---|---|---|---|---|---|---|---|---|")
    note = ("1 thread each (onnxruntime intra_op=1, OMP_THREAD_LIMIT=1); 300/200 dpi alternating; fonts "
            "Liberation Serif / DejaVu Serif / Noto Serif; detector long side 800; tesseract reads the raw image "
            "with its own layout and pays its model load per page (CLI); our s/page excludes the one-time model "
            "load + warm-up.")
    return f"OCR ({'quick' if quick else 'full'}, corpus: {CORPUS.name if CORPUS.is_file() else 'samples'})\n" \
           f"{head}\n" + "\n".join(rows) + f"\n{note}"


if __name__ == "__main__":
    if len(sys.argv) > 3 and sys.argv[1] == "--worker":
        sys.exit(_worker(sys.argv[2], sys.argv[3], sys.argv[4:]))
    print(run(quick="--full" not in sys.argv))
