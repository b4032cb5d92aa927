"""OCR benchmark: the shipped cascade (fast CTC → AsterNet int8), AsterNet int8 alone (the previous
default), the fast CTC alone, the fp32 AsterNet reference and Tesseract 5 ``vie`` side by side.

Pages (bench/ocr_pages.py): the independent held-out generator's ``tune`` and ``never`` slices
(300 dpi, fonts and texts no other renderer uses; ``never`` is never looked at while tuning) and,
in the full run, the project's own renderer. Conditions clean / scanner / phone (phone read with
``--source camera``). Each engine runs in its own subprocess with one thread (onnxruntime
intra_op=1, OMP_THREAD_LIMIT=1), so CPU time and peak RSS are its own. Page CER uses order-free
line matching (service.ocr.metrics): duplicated, missed and merged lines all count.

    python -m bench ocr --quick      # 2 pages per slice and condition (~6 min on a free core)
    python -m bench ocr              # 4 pages per slice and condition, + the project renderer
    python -m bench.ocr --slice tune --engines cascade --pages 4 --keep /tmp/pages   # layout tuning
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from bench.ocr_pages import Page, heldout_pages, project_pages
from service.ocr.config import OcrConfig
from service.ocr.cpu import this_cpu
from service.ocr.metrics import match_lines, normalize

# GNU time (apt "time") reports the child's own peak RSS; without it the column reads 0
TIME = ["/usr/bin/time", "-f", "MAXRSS_KB %M"] if Path("/usr/bin/time").exists() else []
_SHIPPED = OcrConfig()
#: key -> (row label, engine settings over the shipped OcrConfig; None: Tesseract)
ENGINES: dict[str, tuple[str, dict[str, object] | None]] = {
    "cascade": ("sohoa (shipped): fast CTC → AsterNet int8 where its weakest char < "
                f"{_SHIPPED.fallback_below:g} (top third: < {_SHIPPED.fallback_header_below:g}"
                f"{' or a word no syllable' if _SHIPPED.fallback_header_spelling else ''}), "
                "the surer reading kept",
                {}),
    "nolex": ("sohoa, the shipped cascade without the lexicon text step", {"lexicon": False}),
    "int8": ("sohoa, int8 DBNet + AsterNet int8 alone (the previous default)",
             {"recognizer": "rec-asternet-int8", "fallback_recognizer": None}),
    "fast": ("sohoa, fast CTC alone (no fallback)", {"fallback_recognizer": None}),
    "fp32": ("sohoa, fp32 DBNet + AsterNet reference", {"detector": "det-ppocrv4", "recognizer": "rec-asternet",
                                                       "fallback_recognizer": None, "rec_squeeze": 1.0,
                                                       "rec_short_squeeze": 1.0}),
    "tesseract": ("tesseract 5 vie", None)}


@dataclass
class Result:
    """Texts read per page and the engine's costs."""

    texts: list[list[str]] = field(default_factory=list)
    cpu: float = 0.0
    rss_mb: float = 0.0
    fallback: float = 0.0  # cascade: share of lines re-read by the fallback recognizer
    kept: float = 0.0  # cascade: share of the re-read lines that kept the first reading (it was surer)
    error: str = ""


def _child_env() -> dict[str, str]:
    env = dict(os.environ)
    env.update({"OMP_THREAD_LIMIT": "1", "OMP_NUM_THREADS": "1", "PYTHONDONTWRITEBYTECODE": "1"})
    return env


def _measured(cmd: list[str]) -> tuple[str, str, float, float]:
    """Run ``cmd``; stdout, stderr, CPU seconds and peak RSS (MB) of that child alone."""
    with tempfile.TemporaryFile("w+", encoding="utf-8") as errf:
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=errf, text=True, env=_child_env())
        assert proc.stdout is not None
        out = proc.stdout.read()
        _, _, usage = os.wait4(proc.pid, 0)
        proc.returncode = 0
        errf.seek(0)
        err = errf.read()
    return out, err, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024


def run_ours(pages: list[Page], engine: str) -> Result:
    """Our engine in a worker subprocess; CPU per page excludes the one-time model load."""
    cmd = [sys.executable, "-m", "bench.ocr", "--worker", engine, *[f"{p.condition}:{p.path}" for p in pages]]
    out, err, _, _ = _measured(cmd)
    res = Result()
    for line in out.splitlines():
        row = json.loads(line)
        if "rss_mb" in row:  # the worker's own high-water mark (a forked child inherits ours)
            res.rss_mb = row["rss_mb"]
            res.fallback = row["fallback"]
            res.kept = row["kept"]
        if "file" in row:
            res.texts.append(row["lines"])
            res.cpu += row["cpu"]
    if len(res.texts) != len(pages):
        res.error = err.strip().splitlines()[-1] if err.strip() else "worker failed"
    return res


def run_tesseract(pages: list[Page]) -> Result:
    """Tesseract CLI per page on the raw image with its own layout (pays its model load per page)."""
    res = Result()
    for p in pages:
        out, err, cpu, _ = _measured([*TIME, "tesseract", str(p.path), "-", "-l", "vie"])
        rss = next((int(ln.split()[1]) / 1024 for ln in err.splitlines() if ln.startswith("MAXRSS_KB")), 0.0)
        res.texts.append([ln for ln in out.splitlines() if ln.strip()])
        res.cpu += cpu
        res.rss_mb = max(res.rss_mb, rss)
    return res


def _worker(key: str, items: list[str]) -> int:
    from service.ocr.config import OcrConfig
    from service.ocr.engine import get_engine

    # ENGINES[key] over the shipped settings; BENCH_OCR_CONFIG (JSON) overrides for experiments
    settings = {"threads": 1, **(ENGINES[key][1] or {}), **json.loads(os.environ.get("BENCH_OCR_CONFIG", "{}"))}
    engine = get_engine(OcrConfig(**settings))
    for item in items:
        condition, name = item.split(":", 1)
        c0 = time.process_time()
        page = engine.read_file(name, source="camera" if condition == "phone" else "scanner")[0]
        print(json.dumps({"file": name, "cpu": time.process_time() - c0,
                          "lines": [ln.text for ln in page.lines]}, ensure_ascii=False), flush=True)
    status = Path("/proc/self/status").read_text()
    hwm = next(int(ln.split()[1]) for ln in status.splitlines() if ln.startswith("VmHWM:"))
    print(json.dumps({"rss_mb": hwm / 1024, "fallback": engine.lines_fallback / max(1, engine.lines_read),
                      "kept": engine.lines_kept_first / max(1, engine.lines_fallback)}), flush=True)
    return 0


def word_bag_errors(truth: list[str], got: list[str]) -> tuple[int, int]:
    """(missing + extra words, truth words): blind to line order and to how lines were cut, so an
    engine that reads a table row or both header columns as one line is not penalised here."""
    want = Counter(normalize(" ".join(truth)).split())
    have = Counter(normalize(" ".join(got)).split())
    return sum((want - have).values()) + sum((have - want).values()), sum(want.values())


def score(pages: list[Page], texts: list[list[str]]) -> tuple[float, float, float]:
    """(page CER %, line CER % on matched lines, word-bag error %) over ``pages``."""
    gt = errors = m_chars = m_errors = bag = words = 0
    for page, got in zip(pages, texts, strict=False):
        s = match_lines(page.truth, got)
        gt, errors = gt + s.gt_chars, errors + s.page_errors
        m_chars, m_errors = m_chars + s.matched_chars, m_errors + s.matched_errors
        b, w = word_bag_errors(page.truth, got)
        bag, words = bag + b, words + w
    return 100 * errors / max(1, gt), 100 * m_errors / max(1, m_chars), 100 * bag / max(1, words)


def measure(pages: list[Page], engines: list[str]) -> list[str]:
    """Table rows: every engine on every (slice, condition) group of ``pages``."""
    rows = []
    groups: dict[tuple[str, str], list[Page]] = {}
    for p in pages:
        groups.setdefault((p.slice, p.condition), []).append(p)
    cpu: dict[str, float] = {}
    for (slice_, condition), subset in groups.items():
        for key in engines:
            name, settings = ENGINES[key]
            res = run_ours(subset, key) if settings is not None else run_tesseract(subset)
            page_cer, line_cer, bag = score(subset, res.texts)
            cpu[key] = cpu.get(key, 0.0) + res.cpu
            rows.append(f"| {slice_} | {condition} | {name} | {len(subset)} | {page_cer:.2f} | {line_cer:.2f} | "
                        f"{bag:.2f} | {res.cpu / max(1, len(subset)):.2f} | {res.rss_mb:.0f} |"
                        + (f" fallback {100 * res.fallback:.0f} % of lines (first reading kept on "
                           f"{100 * res.kept:.0f} % of them)" if res.fallback else "")
                        + (f" {res.error}" if res.error else ""))
    for key in ("cascade", "int8", "fast"):
        if key in cpu and cpu.get("tesseract"):
            rows.append(f"\nCPU, all pages: {key} / tesseract = {cpu[key] / cpu['tesseract']:.2f}× "
                        f"({cpu[key]:.0f} s vs {cpu['tesseract']:.0f} s)")
    return rows


HEAD = ("| slice | condition | engine | pages | page CER % | line CER % | word-bag err % | CPU s/page (1 core) | "
        "peak RSS MB |\n|---|---|---|---|---|---|---|---|---|")
NOTE = ("slices: tune / never = held-out generator (service.synth.heldout: Tinos, Arimo, Liberation Sans, "
        "DejaVu Sans / FreeSerif, FreeSans, Noto Sans, DejaVu Serif Condensed; 11–14 pt; table, stamp; 300 dpi); "
        "project = the project's own renderer. 1 thread each; our CPU excludes the one-time model load; "
        "tesseract's includes its per-page model load (CLI). page CER: order-free line matching, so merged, split, "
        "missed and duplicated lines count; word-bag err: missing + extra words over truth words, blind to how "
        "lines were cut (fair to an engine that reads a table row or the two header columns as one line).")


def cpu_line() -> str:
    """The CPU and its int8 dot-product instructions: the same int8 models read differently on
    different CPUs (models/README.md), so a table says which one it was measured on."""
    model, dot = this_cpu()
    shape = "squeezed" if dot else "unsqueezed"
    return (f"CPU: {model}; int8 dot-product instructions: {', '.join(dot) or 'none'} "
            f"(so the cascade's fallback reads lines {shape})")


def run(quick: bool, *, slices: tuple[str, ...] = ("tune", "never"), per: int | None = None,
        engines: tuple[str, ...] = tuple(ENGINES), keep: Path | None = None) -> str:
    """Render (or reuse) pages, run the engines per slice and condition, return the table."""
    per = per or (2 if quick else 4)
    with tempfile.TemporaryDirectory(prefix="bench-ocr-") as tmp:
        folder = keep or Path(tmp)
        pages = [p for s in slices if s != "project" for p in heldout_pages(folder, s, per)]
        if "project" in slices or not quick and slices == ("tune", "never"):
            pages += project_pages(folder, max(1, per // 2))
        rows = measure(pages, list(engines))
    return f"OCR ({per} pages per held-out slice and condition{', quick' if quick else ''})\n{HEAD}\n" \
           + "\n".join(rows) + f"\n{cpu_line()}\n{NOTE}"


def main(argv: list[str]) -> int:
    """CLI for layout work: one slice, chosen engines, a page cache folder."""
    ap = argparse.ArgumentParser(prog="python -m bench.ocr")
    ap.add_argument("--slice", action="append", choices=("tune", "never", "project"))
    ap.add_argument("--engines", default=",".join(ENGINES),
                    help=f"comma-separated, of: {', '.join(ENGINES)}")
    ap.add_argument("--pages", type=int, default=None)
    ap.add_argument("--keep", type=Path, default=None, help="folder to cache rendered pages in")
    ap.add_argument("--full", action="store_true")
    args = ap.parse_args(argv)
    print(run(not args.full, slices=tuple(args.slice or ("tune", "never")), per=args.pages,
              engines=tuple(args.engines.split(",")), keep=args.keep))
    return 0


if __name__ == "__main__":
    if len(sys.argv) > 2 and sys.argv[1] == "--worker":
        sys.exit(_worker(sys.argv[2], sys.argv[3:]))
    sys.exit(main(sys.argv[1:]))
