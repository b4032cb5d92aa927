"""``python -m service.ocr.train``: train the small CTC recognizer on CPU in resumable chunks.

    pip install -r requirements-train.txt            # PyTorch CPU; never needed by make test/run
    python -m service.ocr.train --out runs/tiny --minutes 30        # one chunk (resumes)
    python -m service.ocr.train --out runs/tiny --eval 300 --export models/tiny-ctc.onnx

Deterministic for a seed: the sample stream is seeded by (seed, step), so a resumed run sees the
same lines as an uninterrupted one. One thread (``torch.set_num_threads(1)``): the appliance class
has 2 cores shared with the service. A checkpoint is written every 200 steps and at the end.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
import unicodedata
from pathlib import Path

import numpy as np
import torch

from service.ocr.metrics import levenshtein
from service.ocr.train.lines import corpus_text, font_files, make_sample, render, sample_text, to_input, vocabulary
from service.ocr.train.model import TinyCtc

TONES = {"\u0300": "huyền", "\u0301": "sắc", "\u0309": "hỏi", "\u0303": "ngã", "\u0323": "nặng"}


def _batch(step: int, seed: int, size: int, sentences: list[str], fonts: list[Path], index: dict[str, int],
           max_width: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    rng = random.Random(seed * 1_000_003 + step)
    xs: list[np.ndarray] = []
    ys: list[list[int]] = []
    while len(xs) < size:
        x, text = make_sample(rng, sentences, fonts)
        if x.shape[1] > max_width or len(text) * 4 > x.shape[1]:  # CTC needs W/4 ≥ label length
            continue
        xs.append(x)
        ys.append([index[c] for c in text if c in index])
    width = (max(x.shape[1] for x in xs) + 3) // 4 * 4
    batch = np.ones((size, 1, 32, width), np.float32)
    for i, x in enumerate(xs):
        batch[i, 0, :, :x.shape[1]] = x
    targets = torch.tensor([c for y in ys for c in y], dtype=torch.long)
    return (torch.from_numpy(batch), targets, torch.full((size,), width // 4, dtype=torch.long),
            torch.tensor([len(y) for y in ys], dtype=torch.long))


def decode(log_probs: np.ndarray, chars: list[str]) -> tuple[str, float]:
    """Greedy CTC decoding of ``(T, classes)``: text and mean max-probability of emitted characters."""
    best = log_probs.argmax(axis=1)
    out, confs, prev = [], [], -1
    for t, idx in enumerate(best.tolist()):
        if idx != prev and idx != 0:
            out.append(chars[idx])
            confs.append(float(np.exp(log_probs[t, idx])))
        prev = idx
    return unicodedata.normalize("NFC", " ".join("".join(out).split())), float(np.mean(confs)) if confs else 0.0


def train(args: argparse.Namespace) -> None:
    """Run (or resume) training until ``--minutes`` or ``--steps`` is reached; checkpoint as it goes."""
    torch.set_num_threads(1)
    torch.manual_seed(args.seed)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    sentences, fonts = corpus_text(), font_files()
    chars = vocabulary(sentences)
    index = {c: i for i, c in enumerate(chars)}
    model = TinyCtc(len(chars))
    opt = torch.optim.Adam(model.parameters(), lr=args.lr)
    step = 0
    ckpt = out / "checkpoint.pt"
    if ckpt.is_file():
        state = torch.load(ckpt, weights_only=False)
        model.load_state_dict(state["model"])
        opt.load_state_dict(state["opt"])
        step, chars = state["step"], state["chars"]
    ctc = torch.nn.CTCLoss(blank=0, zero_infinity=True)
    started, losses = time.monotonic(), []
    model.train()
    while step < args.steps and time.monotonic() - started < 60 * args.minutes:
        x, targets, in_len, tgt_len = _batch(step, args.seed, args.batch, sentences, fonts, index, args.max_width)
        for group in opt.param_groups:
            group["lr"] = args.lr * (0.3 if step > 0.7 * args.steps else 1.0)
        loss = ctc(model(x), targets, in_len, tgt_len)
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 5.0)
        opt.step()
        losses.append(float(loss))
        step += 1
        if step % 50 == 0:
            print(json.dumps({"step": step, "loss": round(float(np.mean(losses[-50:])), 4),
                              "elapsed_s": round(time.monotonic() - started)}), flush=True)
        if step % 200 == 0:
            torch.save({"model": model.state_dict(), "opt": opt.state_dict(), "step": step, "chars": chars}, ckpt)
    torch.save({"model": model.state_dict(), "opt": opt.state_dict(), "step": step, "chars": chars}, ckpt)
    (out / "vocab.json").write_text(json.dumps({"chars": chars}, ensure_ascii=False), encoding="utf-8")
    print(json.dumps({"done_step": step}), flush=True)


def _tone(ch: str) -> str:
    marks = [m for m in unicodedata.normalize("NFD", ch) if m in TONES]
    return TONES[marks[0]] if marks else "ngang"


def evaluate(args: argparse.Namespace) -> None:
    """CER of the checkpoint and of AsterNet int8 on the same validation lines; per-tone confusions."""
    from service.ocr.config import OcrConfig
    from service.ocr.manifest import resolve
    from service.ocr.recognizer import Recognizer

    torch.set_num_threads(1)
    state = torch.load(Path(args.out) / "checkpoint.pt", weights_only=False)
    chars = state["chars"]
    model = TinyCtc(len(chars))
    model.load_state_dict(state["model"])
    model.eval()
    aster = Recognizer(resolve("rec-asternet-int8", OcrConfig().manifest), threads=1)
    rng = random.Random(987_654)
    sentences, fonts = corpus_text(), font_files()
    errs = {"tiny": 0, "aster": 0}
    total = 0
    tones: dict[tuple[str, str], int] = {}
    t_tiny = t_aster = 0.0
    for _ in range(args.eval):
        text = sample_text(rng, sentences)
        gray = render(text, rng.choice(fonts), rng.randint(28, 56), rng)
        t0 = time.process_time()
        with torch.no_grad():
            lp = model(torch.from_numpy(to_input(gray, 0.6, 2048))[None, None])[:, 0].numpy()
        got, _ = decode(lp, chars)
        t1 = time.process_time()
        ref = aster.read(gray).text
        t2 = time.process_time()
        t_tiny, t_aster = t_tiny + t1 - t0, t_aster + t2 - t1
        want = " ".join(text.split())
        errs["tiny"] += levenshtein(want, got)
        errs["aster"] += levenshtein(want, ref)
        total += len(want)
        if len(got) == len(want):
            for a, b in zip(want, got, strict=True):
                if unicodedata.normalize("NFD", a)[:1].lower() == unicodedata.normalize("NFD", b)[:1].lower():
                    key = (_tone(a), _tone(b))
                    tones[key] = tones.get(key, 0) + 1
    n = max(1, args.eval)
    print(f"validation lines: {args.eval} (tune fonts and texts, seed 987654); step {state['step']}")
    print("| recognizer | line CER % | CPU ms/line |\n|---|---|---|")
    print(f"| tiny CTC ({sum(p.numel() for p in model.parameters()) / 1e6:.2f} M params) | "
          f"{100 * errs['tiny'] / total:.2f} | {1000 * t_tiny / n:.1f} |")
    print(f"| AsterNet int8 (shipped) | {100 * errs['aster'] / total:.2f} | {1000 * t_aster / n:.1f} |")
    names = ["ngang", *TONES.values()]
    print("\ntiny CTC tone confusions (rows: truth, columns: read; same-length readings only)")
    print("| truth \\ read | " + " | ".join(names) + " |\n|---|" + "---|" * len(names))
    for a in names:
        print(f"| {a} | " + " | ".join(str(tones.get((a, b), 0)) for b in names) + " |")


class _ThreeChannel(torch.nn.Module):
    """The engine's recognizer interface: ``(N, 3, 32, W)`` in (grey in every channel), as AsterNet."""

    def __init__(self, inner: TinyCtc) -> None:
        super().__init__()
        self.inner = inner

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Log-probabilities ``(T, N, classes)`` of the channel mean."""
        return self.inner(x.mean(1, keepdim=True))


def export(args: argparse.Namespace) -> None:
    """Write the checkpoint as ONNX (dynamic batch and width) with its vocabulary next to it."""
    state = torch.load(Path(args.out) / "checkpoint.pt", weights_only=False)
    inner = TinyCtc(len(state["chars"]))
    inner.load_state_dict(state["model"])
    model = _ThreeChannel(inner).eval()
    target = Path(args.export)
    torch.onnx.export(model, (torch.ones(1, 3, 32, 256),), str(target), input_names=["images"],
                      output_names=["log_probs"], opset_version=17, dynamo=False,
                      dynamic_axes={"images": {0: "batch", 3: "width"}, "log_probs": {0: "steps", 1: "batch"}})
    target.with_suffix(".vocab.json").write_text(json.dumps({"chars": state["chars"]}, ensure_ascii=False),
                                                 encoding="utf-8")
    print(f"exported {target} (step {state['step']})")


def main(argv: list[str]) -> int:
    """Parse arguments; train, then evaluate and/or export when asked."""
    ap = argparse.ArgumentParser(prog="python -m service.ocr.train")
    ap.add_argument("--out", default="runs/tiny-ctc", help="run folder (checkpoint, vocabulary)")
    ap.add_argument("--minutes", type=float, default=0.0, help="training time for this chunk (0: no training)")
    ap.add_argument("--steps", type=int, default=20_000, help="total steps of the schedule")
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--max-width", type=int, default=512, help="widest training input (px at 32 px high)")
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--eval", type=int, default=0, help="validation lines to score (0: none)")
    ap.add_argument("--export", default="", help="ONNX file to write")
    args = ap.parse_args(argv)
    if args.minutes > 0:
        train(args)
    if args.eval:
        evaluate(args)
    if args.export:
        export(args)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
