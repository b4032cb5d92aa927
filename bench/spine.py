"""Spine benchmark: time per page and peak RSS for digitizing a 10-page document.

Each measurement runs in a fresh child process (``python -m bench.spine --child``) so peak RSS
(``VmHWM``) belongs to that digitization alone. Pages are A4 at 300 dpi rendered by the
project's renderer (service.synth) and saved as JPEG q90, like a document camera's output.
"""

from __future__ import annotations

import io
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PAGES = 10


def _pages(n: int) -> list[bytes]:
    from PIL import ImageDraw

    from service.synth.render import render_document
    from service.synth.samples import sample_documents

    rendered = []
    for doc in sample_documents():
        rendered.extend(render_document(doc, dpi=300))
        if len(rendered) >= n:
            break
    out = []
    for i in range(n):
        img = rendered[i % len(rendered)].image.copy()
        ImageDraw.Draw(img).text((100, 3400), f"page {i + 1}", fill=(0, 0, 0))
        buf = io.BytesIO()
        img.save(buf, "JPEG", quality=90, dpi=(300, 300))
        out.append(buf.getvalue())
    return out


def _child(tmp: Path, with_text: bool) -> dict[str, float]:
    """One digitization of the PAGES-page document in ``tmp/in``; stage timings (s) and peak RSS (MiB)."""
    os.environ["SOHOA_HOME"] = str(tmp / "home")
    from service.capture import CaptureConfig, FileCamera, assemble, capture_all
    from service.domain.fields import FieldSource, FieldValue
    from service.ocr.types import OcrLine, OcrPage
    from service.pdf import build_pdfa
    from service.usecases.digitize import DigitizeRequest, build_metadata, digitize

    files = sorted((tmp / "in").glob("*.jpg"))
    warm = DigitizeRequest(pages=tuple(capture_all(FileCamera(files[:1]), 1)), document_type_code="KQ.G15.000031",
                           owner_id="079185000123")
    digitize(warm)  # imports, font and validator data loaded once, as in the long-running service
    raws = tuple(capture_all(FileCamera(files), len(files)))
    datas = [r.data for r in raws]
    ocr = None
    if with_text:
        line = "Căn cứ Luật Tổ chức chính quyền địa phương ngày 19 tháng 6 năm 2015"
        ocr = tuple(OcrPage(2480, 3508, tuple(OcrLine(line, (200, 300 + 70 * k, 2280, 350 + 70 * k), 0.9)
                                              for k in range(40))) for _ in raws)
    fields = {"document_name": FieldValue("Quyết định", FieldSource.MANUAL)}
    t0 = time.perf_counter()
    cap = assemble(raws, config=CaptureConfig())
    t1 = time.perf_counter()
    md = build_metadata("KQ.G15.000031", "001099012345", fields)
    build_pdfa(cap, md, "001099012345.KQ.G15.000031", ocr_pages=ocr)
    t2 = time.perf_counter()
    req = DigitizeRequest(pages=raws, document_type_code="KQ.G15.000031", owner_id="001099012345",
                          fields=fields, ocr_pages=ocr)
    t3 = time.perf_counter()
    result = digitize(req)
    t4 = time.perf_counter()
    return {"capture_s": t1 - t0, "pdf_s": t2 - t1, "digitize_s": t4 - t3, "pages": result.pages,
            "pdf_mib": Path(result.pdf).stat().st_size / 2**20,
            "input_mib": sum(len(d) for d in datas) / 2**20,
            "peak_rss_mib": _peak_rss_mib()}


def _peak_rss_mib() -> float:
    """This process's peak RSS (VmHWM: unlike ru_maxrss it is not inherited across fork/exec)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _measure(with_text: bool) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "in"
        folder.mkdir()
        for i, data in enumerate(_pages(PAGES)):
            (folder / f"{i:03d}.jpg").write_bytes(data)
        proc = subprocess.run([sys.executable, "-m", "bench.spine", "--child", tmp, "text" if with_text else "plain"],
                              capture_output=True, text=True, timeout=600, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"spine benchmark child failed: {proc.stderr[-2000:]}")
    result: dict[str, float] = json.loads(proc.stdout.strip().splitlines()[-1])
    return result


def run(quick: bool) -> str:
    """Digitize a 10-page A4/300 dpi document (1 run in quick mode, median of 3 otherwise)."""
    repeats = 1 if quick else 3
    rows = []
    for label, with_text in (("images only", False), ("with 40-line text layer/page", True)):
        runs = [_measure(with_text) for _ in range(repeats)]
        med = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
        n = med["pages"]
        rows.append((label, med["digitize_s"] / n * 1000, med["capture_s"] / n * 1000, med["pdf_s"] / n * 1000,
                     med["digitize_s"], med["peak_rss_mib"], med["input_mib"], med["pdf_mib"]))
    head = (f"spine: digitize a {PAGES}-page A4 300 dpi JPEG document (capture rules -> PDF/A-2b + validation "
            f"-> store -> outbox); median of {repeats}, {os.cpu_count()} CPUs")
    cols = ("case", "ms/page", "capture ms/p", "pdf+validate ms/p", "total s", "peak RSS MiB", "in MiB", "PDF MiB")
    lines = [head, " | ".join(cols), " | ".join("-" * len(c) for c in cols)]
    for r in rows:
        lines.append(f"{r[0]} | {r[1]:.0f} | {r[2]:.0f} | {r[3]:.0f} | {r[4]:.2f} | {r[5]:.0f} | "
                     f"{r[6]:.1f} | {r[7]:.1f}")
    return "\n".join(lines)


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--child":
        print(json.dumps(_child(Path(sys.argv[2]), sys.argv[3] == "text")))
    else:
        print(run(quick="--quick" in sys.argv))
